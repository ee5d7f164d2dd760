/**
 * The Linux target for real: the stack program (`stacks/index.ts`) with `Pulumi.linux.yaml` naming
 * four systemd hosts (2 KES, 2 MinIO × 2 drives, one pool), realized resource by resource over SSH,
 * against OpenBao and through mc. Then, on the hosts: services, users, hardening, the seed
 * procedure's file layout, SSE-KMS PUT/GET, idempotence of a second `up`, a KES-only config
 * change, a rotated KES certificate, one KES host stopped under a PUT stream, and a reboot.
 */
import { after, before, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:tls';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parse } from 'yaml';
import { peerPath } from '../../sandbox/peers.ts';
import { freePort } from '../../sandbox/process.ts';
import { PROJECT } from '../../stacks/config.ts';
import { RemoteCommandError } from '../../realize/command.ts';
import { startHosts } from './hosts.ts';
import type { HostSet } from './hosts.ts';
import { StackRun } from './stack-run.ts';
import type { Step } from './stack-run.ts';
import { linuxStackRealizers } from './realizers.ts';

const KES = ['kes1', 'kes2'];
const MINIO = ['minio1', 'minio2'];
const key = (k: string) => `${PROJECT}:${k}`;
/** Resource names start with `sse-<stack>`. */
const P = 'sse-linux-test';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let hosts: HostSet;
let bao: ChildProcess;
let binaryServer: Server;
let stack: StackRun;
let config: Record<string, string>;
const secretKeys = [key('vaultToken'), key('sshPrivateKey')];
let exports: Record<string, unknown>;
let s3: S3Client;
/** Every object written, with its SHA-256, read back after each disruption. */
const written = new Map<string, string>();

async function up(t: TestContext, cfg: Record<string, string>, replace: string[] = []): Promise<Step[]> {
  const started = Date.now();
  try {
    const r = await stack.up(cfg, secretKeys, replace);
    exports = r.exports;
    t.diagnostic(`up: ${r.steps.length} resources in ${Date.now() - started} ms; changed: ${r.steps.filter((s) => s.operation !== 'none').map((s) => `${s.name} (${s.operation})`).join(', ') || 'none'}`);
    return r.steps;
  } catch (e) {
    // The install script's own error lines (never a secret) explain a failed host.
    for (const x of e instanceof AggregateError ? e.errors : [e]) if (x instanceof RemoteCommandError) t.diagnostic(`${x.message}\n${x.stderr}`);
    throw e;
  }
}

/** The stack file with the test hosts, OpenBao and the MinIO download server put in. */
function stackConfig(vaultAddress: string, token: string, minioUrl: string, minioSha: string): Record<string, string> {
  const doc = parse(readFileSync(new URL('../../stacks/Pulumi.linux.yaml', import.meta.url), 'utf8')) as { config: Record<string, unknown> };
  const hostList = (names: string[]) => names.map((n) => ({ address: n, sshHost: '127.0.0.1', sshPort: hosts.host(n).ports[22] }));
  const cfg: Record<string, unknown> = {
    ...doc.config,
    [key('vaultAddress')]: vaultAddress,
    [key('vaultToken')]: token,
    // A fresh OpenBao: the stack mounts K/V and enables AppRole itself.
    [key('vaultCreateMount')]: true,
    [key('vaultCreateAuthBackend')]: true,
    [key('sshPrivateKey')]: hosts.privateKey,
    [key('kesHosts')]: hostList(KES),
    [key('minioHosts')]: hostList(MINIO),
    [key('minioBinaryUrl')]: minioUrl,
    [key('minioBinarySha256')]: minioSha,
    [key('keys')]: ['bucket-key'],
    [key('buckets')]: [{ name: 'secure-data', key: 'bucket-key' }],
  };
  return Object.fromEntries(Object.entries(cfg).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

async function startOpenBaoOn(address: string, token: string): Promise<ChildProcess> {
  const child = spawn(peerPath('bao'), ['server', '-dev', `-dev-root-token-id=${token}`, `-dev-listen-address=${address}`, '-dev-no-store-token'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://${address}/v1/sys/health`).then((r) => r.ok, () => false);
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`OpenBao did not answer on ${address}`);
}

/** Serves the MinIO peer binary on the hosts' network, as an operator's download URL. */
async function serveMinio(host: string): Promise<{ server: Server; url: string; sha256: string }> {
  const file = peerPath('minio');
  const sha256 = sha(readFileSync(file));
  const server = createServer((req, res) => {
    if (req.url !== '/minio') return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, host, r));
  return { server, url: `http://${host}:${port}/minio`, sha256 };
}

const onHost = (name: string, command: string) => hosts.ssh(name, command).then((s) => s.trim());
const invocation = (name: string, unit: string) => onHost(name, `systemctl show -p InvocationID --value ${unit}`);
/** SHA-256 of every file the stack installs on a host (configs, env files, units, keys, certificates). */
const installedHashes = (name: string) => onHost(name, 'sha256sum /etc/default/* /etc/systemd/system/*.service $(find /etc/kes /etc/minio -type f 2>/dev/null) | sort');

async function putObject(name: string, body: Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: 'secure-data', Key: name, Body: body }));
  written.set(name, sha(body));
}

async function readAll(client: S3Client): Promise<void> {
  for (const [name, digest] of written) {
    const res = await client.send(new GetObjectCommand({ Bucket: 'secure-data', Key: name }));
    assert.equal(res.ServerSideEncryption, 'aws:kms', name);
    assert.equal(sha(await res.Body!.transformToByteArray()), digest, name);
  }
}

const s3For = (host: string) =>
  new S3Client({
    endpoint: `http://127.0.0.1:${hosts.host(host).ports[9000]}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: String(exports.minioRootUser), secretAccessKey: String(exports.minioRootPassword) },
    // No retries: a failed request must count as failed.
    maxAttempts: 1,
  });

before(async () => {
  const drives = ['/srv/minio/data1', '/srv/minio/data2'];
  hosts = await startHosts([...KES, ...MINIO], { kes1: [7373], kes2: [7373], minio1: [9000], minio2: [9000] }, { minio1: drives, minio2: drives });
  // minio2 has only wget: the download takes the host's other tool.
  await hosts.ssh('minio2', 'rm /usr/bin/curl');
  const token = randomBytes(16).toString('hex');
  const baoAddress = `${hosts.gateway}:${await freePort()}`;
  bao = await startOpenBaoOn(baoAddress, token);
  const minio = await serveMinio(hosts.gateway);
  binaryServer = minio.server;
  const published = new Map(MINIO.map((n) => [`${n}:9000`, `127.0.0.1:${hosts.host(n).ports[9000]}`]));
  stack = new StackRun(
    linuxStackRealizers((hp) => {
      const to = published.get(hp);
      if (!to) throw new Error(`no published port for ${hp}`);
      return to;
    }),
  );
  config = stackConfig(`http://${baoAddress}`, token, minio.url, minio.sha256);
});

after(async () => {
  bao?.kill('SIGKILL');
  binaryServer?.close();
  await hosts?.remove();
});

test('first up: every declared resource is created, the services run as their own users with their hardening', async (t) => {
  const steps = await up(t, config);
  const cmds = steps.filter((s) => s.type.startsWith('command:'));
  assert.deepEqual(
    cmds.map((s) => `${s.type.split(':')[2]} ${s.name} ${s.operation}`).sort(),
    [
      `Command ${P}-kes-install-0 create`, `Command ${P}-kes-install-1 create`, `Command ${P}-minio-install-0 create`, `Command ${P}-minio-install-1 create`,
      // Our server and a Node runtime, copied to each KES host.
      `CopyToRemote ${P}-kes-install-0-kes-server create`, `CopyToRemote ${P}-kes-install-0-node create`,
      `CopyToRemote ${P}-kes-install-1-kes-server create`, `CopyToRemote ${P}-kes-install-1-node create`,
    ],
  );
  assert.ok(steps.every((s) => s.operation === 'create'));
  for (const [names, unit, user] of [[KES, 'kes.service', 'kes'], [MINIO, 'minio.service', 'minio-user']] as const) {
    for (const h of names) {
      assert.equal(await onHost(h, `systemctl is-active ${unit}`), 'active', `${unit} on ${h}`);
      assert.equal(await onHost(h, `systemctl is-enabled ${unit}`), 'enabled', `${unit} on ${h}`);
      assert.equal(await onHost(h, `ps -o user= -p "$(systemctl show -p MainPID --value ${unit})"`), user, `${unit} user on ${h}`);
      const props = await onHost(h, `systemctl show -p NoNewPrivileges -p ProtectSystem -p ProtectHome -p PrivateTmp -p PrivateDevices -p CapabilityBoundingSet -p RestrictNamespaces ${unit}`);
      assert.match(props, /NoNewPrivileges=yes/);
      assert.match(props, /ProtectSystem=strict/);
      assert.match(props, /ProtectHome=yes/);
      assert.match(props, /PrivateTmp=yes/);
      assert.match(props, /PrivateDevices=yes/);
      assert.match(props, /CapabilityBoundingSet=\n|CapabilityBoundingSet=$/m);
      assert.match(props, /RestrictNamespaces=yes/);
      // The running process really has no capabilities and no way to gain privileges.
      const status = await onHost(h, `grep -E '^(CapEff|NoNewPrivs)' /proc/"$(systemctl show -p MainPID --value ${unit})"/status`);
      assert.match(status, /CapEff:\s+0+\n/);
      assert.match(status, /NoNewPrivs:\s+1/);
    }
    const score = await onHost(names[0], `systemd-analyze security ${unit} | tail -1`);
    t.diagnostic(`systemd-analyze security ${unit}: ${score}`);
    const exposure = Number(/level for \S+: ([0-9.]+)/.exec(score)?.[1]);
    assert.ok(exposure > 0 && exposure < 5, `${unit} exposure ${exposure} should be below 5 (OK range)`);
  }
});

test('MinIO was downloaded with curl on minio1 and with wget on minio2, which has no curl', async () => {
  assert.equal(await onHost('minio2', 'command -v curl || echo none'), 'none');
  assert.equal(await onHost('minio1', 'command -v curl'), '/usr/bin/curl');
  for (const h of MINIO) assert.equal(await onHost(h, '/opt/minio/current/minio --version >/dev/null && echo ok'), 'ok');
});

test('the hosts hold the seed procedure layout: /etc/default/minio with MINIO_KMS_KES_*, KES config in /etc/kes, keys readable only by the service user', async () => {
  for (const h of MINIO) {
    const env = await onHost(h, 'cat /etc/default/minio');
    assert.match(env, /^MINIO_KMS_KES_ENDPOINT="?https:\/\/kes1:7373,https:\/\/kes2:7373"?$/m);
    assert.match(env, /^MINIO_KMS_KES_KEY_NAME="?minio-default"?$/m);
    assert.match(env, /^MINIO_KMS_KES_CERT_FILE="?\/etc\/minio\/kes\/client\.crt"?$/m);
    assert.match(env, /^MINIO_KMS_KES_KEY_FILE="?\/etc\/minio\/kes\/client\.key"?$/m);
    assert.match(env, /^MINIO_KMS_KES_CAPATH="?\/etc\/minio\/kes\/ca\.crt"?$/m);
    assert.match(env, /^MINIO_VOLUMES="?http:\/\/minio1:9000\/srv\/minio\/data1 http:\/\/minio1:9000\/srv\/minio\/data2 http:\/\/minio2:9000\/srv\/minio\/data1 http:\/\/minio2:9000\/srv\/minio\/data2"?$/m);
    assert.equal(await onHost(h, 'stat -c %U:%G:%a /etc/default/minio /etc/minio/kes/client.key /srv/minio/data1 /srv/minio/data2'), 'root:root:600\nminio-user:minio-user:400\nminio-user:minio-user:750\nminio-user:minio-user:750');
    assert.equal(await onHost(h, 'readlink /opt/minio/current'), `releases/${config[key('minioBinarySha256')]}`);
    assert.equal(await onHost(h, `sha256sum /opt/minio/current/minio | cut -d' ' -f1`), config[key('minioBinarySha256')]);
  }
  for (const h of KES) {
    assert.match(await onHost(h, 'cat /etc/kes/config.yaml'), /keystore:\s*\n\s+vault:/);
    assert.equal(await onHost(h, 'stat -c %U:%G:%a /etc/kes/config.yaml /etc/kes/tls/server.key /etc/default/kes'), 'root:kes:640\nkes:kes:400\nroot:root:600');
    // Another unprivileged user cannot read the key; the service user can.
    assert.notEqual(await onHost(h, 'setpriv --reuid=nobody --regid=nogroup --clear-groups cat /etc/kes/tls/server.key >/dev/null 2>&1; echo $?'), '0');
    assert.equal(await onHost(h, 'setpriv --reuid=kes --regid=kes --clear-groups cat /etc/kes/tls/server.key >/dev/null 2>&1; echo $?'), '0');
    // The role and secret ids reach KES through the root-only environment file, not the config.
    assert.match(await onHost(h, 'cat /etc/default/kes'), /^KES_VAULT_SECRET_ID=/m);
    assert.doesNotMatch(await onHost(h, 'cat /etc/kes/config.yaml'), /secret_id: [0-9a-f-]{36}/);
    // Our server and Node runtime, versioned, through `current`.
    const current = await onHost(h, 'readlink /opt/kes-server/current');
    assert.match(current, /^releases\/[0-9a-f]{16}-node24\.21\.0-x64$/);
    assert.equal(await onHost(h, '/opt/kes-server/current/node/bin/node --version'), 'v24.21.0');
    assert.equal(await onHost(h, 'ls /opt/kes-server/releases | wc -l'), '1');
    assert.equal(await onHost(h, 'command -v node || echo none'), 'none', 'nothing but our own runtime');
  }
});

test('PUT/GET through either MinIO host encrypts with the bucket-default SSE-KMS key', async () => {
  s3 = s3For('minio1');
  for (const [i, size] of [1, 1000, 6 << 20].entries()) await putObject(`first-${i}`, randomBytes(size));
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'secure-data', Key: 'first-1' }));
  assert.equal(head.ServerSideEncryption, 'aws:kms');
  assert.match(String(head.SSEKMSKeyId), /bucket-key$/);
  await readAll(s3For('minio2'));
  // No plaintext on the drives: the object's bytes are not in any part file.
  const marker = Buffer.from(`plaintext-marker-${randomBytes(8).toString('hex')}`);
  await putObject('marker', Buffer.concat([marker, marker, marker]));
  for (const h of MINIO) assert.equal(await onHost(h, `grep -rl ${marker.toString()} /srv/minio || echo none`), 'none');
});

test('a second up with the same config changes nothing on the hosts', async (t) => {
  const before = await Promise.all([...KES, ...MINIO].map(async (h) => [await installedHashes(h), await invocation(h, KES.includes(h) ? 'kes' : 'minio')]));
  const steps = await up(t, config);
  assert.deepEqual(steps.filter((s) => s.operation !== 'none'), []);
  const afterUp = await Promise.all([...KES, ...MINIO].map(async (h) => [await installedHashes(h), await invocation(h, KES.includes(h) ? 'kes' : 'minio')]));
  assert.deepEqual(afterUp, before);
});

test('a changed KES config restarts only KES', async (t) => {
  const minioBefore = await Promise.all(MINIO.map((h) => invocation(h, 'minio')));
  const kesBefore = await Promise.all(KES.map((h) => invocation(h, 'kes')));
  config = { ...config, [key('keys')]: JSON.stringify(['bucket-key', 'extra-key']) };
  const steps = await up(t, config);
  assert.deepEqual(steps.filter((s) => s.operation !== 'none').map((s) => s.name).sort(), [`${P}-kes-install-0`, `${P}-kes-install-1`]);
  const kesAfter = await Promise.all(KES.map((h) => invocation(h, 'kes')));
  kesAfter.forEach((id, i) => assert.notEqual(id, kesBefore[i]));
  assert.deepEqual(await Promise.all(MINIO.map((h) => invocation(h, 'minio'))), minioBefore);
  for (const h of KES) assert.match(await onHost(h, 'cat /etc/kes/config.yaml'), /extra-key/);
  assert.equal(await onHost('kes1', 'ls /opt/kes-server/releases | wc -l'), '1', 'same release, nothing unpacked again');
  await putObject('after-config-change', randomBytes(4096));
  await readAll(s3);
});

/** The certificate KES presents on a host's published port. */
function presentedCert(host: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: hosts.host(host).ports[7373], rejectUnauthorized: false, servername: host }, () => {
      const raw = socket.getPeerX509Certificate();
      socket.end();
      if (raw) resolve(raw);
      else reject(new Error('no certificate'));
    });
    socket.on('error', reject);
  });
}

test('a rotated KES server certificate is installed and served; MinIO keeps working', async (t) => {
  const old = await presentedCert('kes1');
  const steps = await up(t, config, [`${P}-pki-kes-server-cert`]);
  assert.deepEqual(steps.filter((s) => s.operation !== 'none').map((s) => s.name).sort(), [`${P}-kes-install-0`, `${P}-kes-install-1`, `${P}-pki-kes-server-cert`]);
  for (const h of KES) {
    const now = await presentedCert(h);
    assert.notEqual(now.serialNumber, old.serialNumber, h);
    assert.equal(now.fingerprint256, new X509Certificate(await onHost(h, 'cat /etc/kes/tls/server.crt')).fingerprint256);
  }
  await putObject('after-rotation', randomBytes(4096));
  await readAll(s3For('minio2'));
});

test('one KES host stopped under a stream of PUTs: no request fails', async () => {
  let failed = 0;
  let done = 0;
  let stop = false;
  const client = s3For('minio1');
  const stream = (async () => {
    for (let i = 0; !stop; i++) {
      const body = randomBytes(2048);
      try {
        await client.send(new PutObjectCommand({ Bucket: 'secure-data', Key: `stream-${i}`, Body: body }));
        written.set(`stream-${i}`, sha(body));
        done++;
      } catch {
        failed++;
      }
    }
  })();
  await new Promise((r) => setTimeout(r, 1000));
  await onHost('kes1', 'systemctl stop kes.service');
  await new Promise((r) => setTimeout(r, 4000));
  stop = true;
  await stream;
  await onHost('kes1', 'systemctl start kes.service');
  assert.equal(failed, 0, `${failed} of ${done + failed} PUTs failed`);
  assert.ok(done > 10, `only ${done} PUTs completed`);
});

test('a reboot of every host brings the services back with every object readable', async () => {
  await Promise.all(hosts.hosts.map((h) => new Promise<void>((resolve, reject) => {
    const p = spawn('docker', ['restart', '-t', '20', h.container], { stdio: 'ignore' });
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`docker restart ${h.container}: ${code}`))));
  })));
  await hosts.waitBooted();
  for (const [names, unit] of [[KES, 'kes.service'], [MINIO, 'minio.service']] as const) {
    for (const h of names) assert.equal(await onHost(h, `systemctl is-active ${unit}`), 'active', `${unit} on ${h} after reboot`);
  }
  await readAll(s3For('minio1'));
  await readAll(s3For('minio2'));
});
