/**
 * Pulumi.container.yaml realized on the real engine against an existing Vault (an OpenBao dev
 * server started here on the Docker bridge's gateway address, outside the stack): two KES replicas,
 * four MinIO nodes in distributed mode. One KES killed under a stream of PUTs fails none of them;
 * a restart of every container of the stack loses nothing; teardown leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { destroy } from '../../realize/index.ts';
import { containersOf, docker, healthOf, leftovers, localImages, realize, realizeEnv, runId, stackFile, waitHealthy } from './helpers.ts';
import type { RealizedStack } from './helpers.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A free TCP port on `host`. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

test('Pulumi.container.yaml with an existing OpenBao: 2 KES and 4 MinIO containers survive a KES kill under load and a full restart', async (t) => {
  const env = realizeEnv();
  // The existing Vault: reachable from the machine and from the stack's network through the
  // bridge gateway, an address of this machine.
  const bridge = docker('network', 'inspect', 'bridge', '-f', '{{index .Options "com.docker.network.bridge.name"}}');
  // (os.networkInterfaces lists no bridge without a running container: ask `ip`.)
  const gateway = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', bridge], { encoding: 'utf8' }))?.[1];
  assert.ok(gateway, `no IPv4 address on the Docker bridge ${bridge}`);
  const port = await freePort(gateway);
  const token = randomBytes(16).toString('hex');
  const vault = `${runId}-existing-vault`;
  docker('run', '-d', '--name', vault, '--network', 'host', '--cap-add', 'IPC_LOCK', '-e', `BAO_DEV_ROOT_TOKEN_ID=${token}`, '-e', `BAO_DEV_LISTEN_ADDRESS=${gateway}:${port}`, localImages().openbao);
  let s: RealizedStack | undefined;
  t.after(async () => {
    if (s) await destroy(s.state, env).catch(() => undefined);
    docker('rm', '-f', vault);
    for (const v of leftovers(`sse-${runId}-ctr`)) docker('volume', 'rm', '-f', v);
  });
  const address = `http://${gateway}:${port}`;
  for (let i = 0; ; i++) {
    const health = await fetch(`${address}/v1/sys/health`).then((r) => String(r.status), (e: Error) => String((e.cause as Error | undefined)?.message ?? e.message));
    if (health === '200') break;
    if (i > 150) throw new Error(`the existing OpenBao at ${address} did not start: ${health}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  // An existing Vault has its AppRole auth method enabled already; the stack only adds its role.
  const enabled = await fetch(`${address}/v1/sys/auth/approle`, { method: 'POST', headers: { 'X-Vault-Token': token }, body: JSON.stringify({ type: 'approle' }) });
  assert.equal(enabled.status, 204);
  // The stack file publishes MinIO on 9000; a free port keeps parallel runs apart.
  const minioHostPort = String(await freePort('127.0.0.1'));
  s = await realize({ configFile: stackFile('Pulumi.container.yaml'), stack: `${runId}-ctr`, set: { vaultAddress: address, vaultToken: token, minioHostPort }, secret: ['vaultToken'] }, env);
  const stack = s;
  const names = containersOf(stack.prefix);
  assert.deepEqual(names.sort(), [0, 1].map((i) => `${stack.prefix}-kes-${i}`).concat([1, 2, 3, 4].map((i) => `${stack.prefix}-minio-${i}`)).sort());
  await waitHealthy(stack.prefix);
  // KES keeps its keys in the existing Vault, under the stack file's K/V v1 prefix.
  const listed = await fetch(`${address}/v1/kes-minio/minio?list=true`, { headers: { 'X-Vault-Token': token } }).then((r) => r.json() as Promise<{ data: { keys: string[] } }>);
  assert.deepEqual(listed.data.keys.sort(), ['bucket-key', 'minio-default']);

  const s3 = new S3Client({
    endpoint: `http://${stack.exports.minioEndpoint}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: stack.exports.minioRootUser, secretAccessKey: stack.exports.minioRootPassword },
  });
  t.after(() => s3.destroy());
  const stored = new Map<string, string>();
  const put = async (key: string) => {
    const body = randomBytes(2048 + Math.floor(Math.random() * 4096));
    const res = await s3.send(new PutObjectCommand({ Bucket: 'secure-data', Key: key, Body: body }));
    assert.equal(res.ServerSideEncryption, 'aws:kms');
    stored.set(key, sha256(body));
  };

  await t.test('one KES container killed under a stream of PUTs: no request fails', async () => {
    const failures: string[] = [];
    let n = 0;
    let running = true;
    const writer = async (w: number) => {
      while (running) {
        const key = `stream/${w}-${n++}`;
        await put(key).catch((e: Error) => failures.push(`${key}: ${e.name} ${e.message}`));
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await new Promise((r) => setTimeout(r, 3000));
    const before = n;
    docker('kill', `${stack.prefix}-kes-0`);
    await new Promise((r) => setTimeout(r, 8000));
    running = false;
    await Promise.all(writers);
    assert.deepEqual(failures, []);
    assert.ok(n - before > 20, `PUTs went on after the kill (${n - before})`);
    assert.ok(stored.size > 40, `${stored.size} objects written`);
  });

  await t.test('docker restart of every container of the stack loses no object', async () => {
    // The killed KES stays down (Docker counts a kill as a manual stop); the restart brings it back.
    assert.equal(docker('inspect', '-f', '{{.State.Running}}', `${stack.prefix}-kes-0`), 'false');
    docker('restart', ...names);
    await waitHealthy(stack.prefix);
    for (const [key, digest] of stored) {
      const res = await s3.send(new GetObjectCommand({ Bucket: 'secure-data', Key: key }));
      assert.equal(sha256(await res.Body!.transformToByteArray()), digest, key);
    }
    assert.deepEqual(new Set(Object.values(healthOf(stack.prefix))), new Set(['healthy']));
  });

  await t.test('teardown removes every container and network of the stack; the data volumes and the K/V mount it retains stay', async () => {
    const retained = stack.state.resources.filter((r) => r.retainOnDelete);
    assert.deepEqual(retained.map((r) => r.type).sort(), [...Array(4).fill('docker:index/volume:Volume'), 'vault:index/mount:Mount']);
    // As with `pulumi destroy`, the bucket (forceDestroy off) must be empty first.
    const keys = [...stored.keys()];
    for (let i = 0; i < keys.length; i += 500) {
      await s3.send(new DeleteObjectsCommand({ Bucket: 'secure-data', Delete: { Objects: keys.slice(i, i + 500).map((Key) => ({ Key })) } }));
    }
    await destroy(stack.state, env);
    s = undefined;
    const volumes = retained.filter((r) => r.type === 'docker:index/volume:Volume').map((r) => r.inputs.name as string);
    assert.deepEqual(leftovers(stack.prefix).sort(), volumes.sort());
    // In the existing Vault: the stack's role is gone, its K/V mount (the keys) stays.
    const role = await fetch(`${address}/v1/auth/approle/role?list=true`, { headers: { 'X-Vault-Token': token } });
    assert.equal(role.status, 404);
    const mounts = await fetch(`${address}/v1/sys/mounts`, { headers: { 'X-Vault-Token': token } }).then((r) => r.json() as Promise<Record<string, unknown>>);
    assert.ok('kes-minio/' in mounts);
  });
});
