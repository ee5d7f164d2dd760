/**
 * Pulumi.container.yaml realized on the real engine against an existing Vault (an OpenBao with
 * raft storage started here on the Docker bridge's gateway address, outside the stack): two KES replicas,
 * four MinIO nodes in distributed mode. One KES killed under a stream of PUTs fails none of them;
 * a restart of every container of the stack loses nothing; a paused KES replica, a paused OpenBao
 * and a killed one (keys cached; raft storage, so it comes back with its data) fail no PUT or GET,
 * and everything serves again after; teardown leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { destroy } from '../../realize/index.ts';
import { keepContainerLog } from '../../realize/docker.ts';
import { registerVaultExchange } from '../../sandbox/log-sweep.ts';
import { raftConfig } from '../../sandbox/openbao-raft.ts';
import { containersOf, docker, dockerTry, healthOf, leftovers, localImages, mcFor, realize, realizeEnv, runId, stackFile, waitHealthy } from './helpers.ts';
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

test('Pulumi.container.yaml with an existing OpenBao: 2 KES and 4 MinIO containers survive a KES kill, a full restart, a paused KES, a paused and a killed OpenBao under load', async (t) => {
  const env = realizeEnv();
  // The existing Vault: reachable from the machine and from the stack's network through the
  // bridge gateway, an address of this machine.
  const bridge = docker('network', 'inspect', 'bridge', '-f', '{{index .Options "com.docker.network.bridge.name"}}');
  // (os.networkInterfaces lists no bridge without a running container: ask `ip`.)
  const gateway = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', bridge], { encoding: 'utf8' }))?.[1];
  assert.ok(gateway, `no IPv4 address on the Docker bridge ${bridge}`);
  const port = await freePort(gateway);
  const clusterPort = await freePort(gateway);
  const vault = `${runId}-existing-vault`;
  // Raft storage in a folder of this run, so a killed OpenBao comes back with its data (a dev
  // server would come back empty).
  const baoDir = mkdtempSync(join(tmpdir(), 'existing-vault-'));
  mkdirSync(join(baoDir, 'raft'));
  writeFileSync(join(baoDir, 'openbao.hcl'), raftConfig({ dataDir: '/bao/raft', host: gateway, port, clusterPort, nodeId: 'existing' }));
  docker('run', '-d', '--name', vault, '--network', 'host', '-v', `${baoDir}:/bao`, localImages().openbao, 'server', '-config=/bao/openbao.hcl');
  let s: RealizedStack | undefined;
  t.after(async () => {
    if (s) await destroy(s.state, env).catch(() => undefined);
    await keepContainerLog(vault, vault);
    docker('rm', '-f', vault);
    rmSync(baoDir, { recursive: true, force: true });
    for (const v of leftovers(`sse-${runId}-ctr`)) docker('volume', 'rm', '-f', v);
  });
  const address = `http://${gateway}:${port}`;
  /** Polls sys/health until it answers `status` (501 uninitialised, 503 sealed, 200 active). */
  const healthIs = async (status: number) => {
    for (let i = 0; ; i++) {
      const health = await fetch(`${address}/v1/sys/health`).then((r) => String(r.status), (e: Error) => String((e.cause as Error | undefined)?.message ?? e.message));
      if (health === String(status)) return;
      if (i > 150) throw new Error(`the existing OpenBao at ${address} did not answer ${status}: ${health}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await healthIs(501);
  const init = (await fetch(`${address}/v1/sys/init`, { method: 'PUT', body: JSON.stringify({ secret_shares: 1, secret_threshold: 1 }) }).then((r) => r.json())) as { root_token: string; keys: string[] };
  registerVaultExchange(null, init);
  const token = init.root_token;
  const unseal = async () => {
    const res = await fetch(`${address}/v1/sys/unseal`, { method: 'PUT', body: JSON.stringify({ key: init.keys[0] }) });
    assert.equal(res.status, 200);
    await healthIs(200);
  };
  await unseal();

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

  /**
   * Four clients each PUT a new object and GET it back, over and over, while `fault` runs; every
   * failure is kept. Each request counts as during the fault if any part of it overlapped it.
   */
  const traffic = async (fault: () => Promise<void>) => {
    const failures: string[] = [];
    const during: number[] = [];
    const outside: number[] = [];
    let phase: 'before' | 'fault' | 'after' = 'before';
    let after = 0;
    let running = true;
    let n = 0;
    const timed = async (what: string, op: () => Promise<void>) => {
      const start = performance.now();
      const started = phase;
      await op().catch((e: Error) => failures.push(`${what}: ${e.name} ${e.message}`));
      if (started === 'after') after++;
      (started === 'fault' || (started === 'before' && phase !== 'before') ? during : outside).push(performance.now() - start);
    };
    const client = async (c: number) => {
      while (running) {
        const key = `fault/${c}-${n++}`;
        await timed(`PUT ${key}`, () => put(key));
        await timed(`GET ${key}`, async () => {
          const res = await s3.send(new GetObjectCommand({ Bucket: 'secure-data', Key: key }));
          assert.equal(sha256(await res.Body!.transformToByteArray()), stored.get(key));
        });
      }
    };
    const clients = [0, 1, 2, 3].map(client);
    await new Promise((r) => setTimeout(r, 2000));
    phase = 'fault';
    await fault();
    phase = 'after';
    await new Promise((r) => setTimeout(r, 4000));
    running = false;
    await Promise.all(clients);
    const max = (l: number[]) => Math.round(Math.max(0, ...l));
    const p50 = (l: number[]) => Math.round([...l].sort((a, b) => a - b)[Math.floor(l.length / 2)] ?? 0);
    return { failures, requests: during.length + outside.length, during: during.length, after, maxDuring: max(during), p50During: p50(during), maxOutside: max(outside), p50Outside: p50(outside) };
  };
  const pauseFor = async (container: string, ms: number) => {
    docker('pause', container);
    try {
      await new Promise((r) => setTimeout(r, ms));
    } finally {
      docker('unpause', container);
    }
  };

  await t.test('docker pause of a KES replica under PUTs and GETs: no request fails, those on the frozen replica wait for it; all serve after unpause', async () => {
    // MinIO's KES client has no response timeout: a request on a kept-alive connection to a
    // frozen replica waits for it (a killed one refuses at once and MinIO tries the other).
    const kes1 = `${stack.prefix}-kes-1`;
    const r = await traffic(() => pauseFor(kes1, 10_000));
    console.log(`# KES replica paused 10 s: ${JSON.stringify(r)}`);
    assert.deepEqual(r.failures, []);
    assert.ok(r.maxDuring < 10_000 + 15_000, `the longest request waited ${r.maxDuring} ms`);
    assert.ok(r.after > 20, `requests after unpause: ${r.after}`);
    assert.ok(r.maxOutside < 5_000, `the longest request outside the pause took ${r.maxOutside} ms`);
    // The thawed replica answers its own health probe (readiness through its TLS listener).
    assert.equal((await dockerTry('exec', kes1, 'node', 'src/cli/healthcheck.ts')).code, 0);
    await waitHealthy(stack.prefix, 60_000);
  });

  /** A key created through MinIO (KES stores it in OpenBao) encrypts a PUT that a GET gives back. */
  const newKeyServes = async (name: string) => {
    const mc = mcFor(stack);
    try {
      mc.run('admin', 'kms', 'key', 'create', 's', name);
    } finally {
      mc.remove();
    }
    const body = randomBytes(4096);
    const res = await s3.send(new PutObjectCommand({ Bucket: 'secure-data', Key: name, Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: name }));
    assert.equal(res.SSEKMSKeyId?.endsWith(name), true, String(res.SSEKMSKeyId));
    stored.set(name, sha256(body));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'secure-data', Key: name }));
    assert.equal(sha256(await got.Body!.transformToByteArray()), sha256(body));
  };

  await t.test('docker pause of OpenBao under PUTs and GETs with cached keys: no request fails; after unpause a new key is created in OpenBao and serves', async () => {
    const r = await traffic(() => pauseFor(vault, 10_000));
    console.log(`# OpenBao paused 10 s: ${JSON.stringify(r)}`);
    assert.deepEqual(r.failures, []);
    assert.ok(r.during > 20, `requests completed while OpenBao was paused: ${r.during}`);
    assert.ok(r.maxDuring < 5_000, `the longest request during the pause took ${r.maxDuring} ms`);
    const health = await fetch(`${address}/v1/sys/health`);
    assert.equal(health.status, 200);
    // A new key goes through KES into OpenBao; a PUT with it is served by whichever replica.
    await newKeyServes('after-pause');
    const inVault = await fetch(`${address}/v1/kes-minio/minio?list=true`, { headers: { 'X-Vault-Token': token } }).then((r) => r.json() as Promise<{ data: { keys: string[] } }>);
    assert.ok(inVault.data.keys.includes('after-pause'), inVault.data.keys.join(' '));
    await waitHealthy(stack.prefix, 60_000);
  });

  await t.test('docker kill of OpenBao under PUTs and GETs with cached keys: no request fails; started and unsealed again, it keeps every key and takes a new one', async () => {
    const r = await traffic(async () => {
      docker('kill', vault);
      await new Promise((r) => setTimeout(r, 10_000));
      docker('start', vault);
      await healthIs(503);
      await unseal();
    });
    console.log(`# OpenBao killed 10 s, started and unsealed: ${JSON.stringify(r)}`);
    assert.deepEqual(r.failures, []);
    assert.ok(r.during > 20, `requests completed while OpenBao was down: ${r.during}`);
    assert.ok(r.maxDuring < 5_000, `the longest request during the outage took ${r.maxDuring} ms`);
    const listed = await fetch(`${address}/v1/kes-minio/minio?list=true`, { headers: { 'X-Vault-Token': token } }).then((r) => r.json() as Promise<{ data: { keys: string[] } }>);
    assert.deepEqual(listed.data.keys.sort(), ['after-pause', 'bucket-key', 'minio-default']);
    await newKeyServes('after-kill');
    await waitHealthy(stack.prefix, 60_000);
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
