/**
 * Benchmark harness checks: statistics and table (pure), options, the shared config accepted by
 * the TypeScript loader, the load generator against both real servers (with fs key stores, and
 * with Vault key stores on a real OpenBao counted at its door), and against a server whose
 * answers are wrong (it must fail, never report a result).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSecureServer } from 'node:http2';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../kes-server/src/config/index.ts';
import { peerPath } from '../sandbox/peers.ts';
import { closeSessions, openSession, send } from './client.ts';
import { type LoadJob, OPERATIONS, runJob } from './load.ts';
import { OptionsError, parseOptions } from './options.ts';
import { freePort, ServerProcess, type ServerSpec } from './servers.ts';
import { makeCredentials, writeConfigs } from './setup.ts';
import { keyRequests, VaultKeystores } from './vault.ts';
import { combineRounds, median, percentile, renderTable, withRatios } from './stats.ts';

test('percentile: nearest rank', () => {
  const xs = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  const cases = [
    { p: 50, want: 50 },
    { p: 99, want: 99 },
    { p: 100, want: 100 },
    { p: 0.5, want: 1 },
  ];
  for (const c of cases) assert.equal(percentile(xs, c.p), c.want, `p${c.p}`);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('median and combineRounds', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  const c = combineRounds([
    { requests: 10, reqPerSec: 100, p50Ms: 1, p99Ms: 9, cpuMsPerReq: 0.3, timeLimited: false },
    { requests: 10, reqPerSec: 300, p50Ms: 3, p99Ms: 7, cpuMsPerReq: 0.1, timeLimited: true },
    { requests: 5, reqPerSec: 200, p50Ms: 2, p99Ms: 8, cpuMsPerReq: 0.2, timeLimited: false },
  ]);
  assert.deepEqual(c, { requests: 25, reqPerSec: 200, p50Ms: 2, p99Ms: 8, cpuMsPerReq: 0.2, timeLimited: true });
});

test('renderTable with ratios against the reference of the same cell', () => {
  const base = { operation: 'generate', protocol: 'h2', inFlight: 32, placement: 'pinned', requests: 100, p50Ms: 1.234, p99Ms: 10, peakRssMiB: 50.04, cpuMsPerReq: 0.1234, timeLimited: false };
  const rows = withRatios(
    [
      { ...base, server: 'minio/kes', reqPerSec: 4000, cpuMsPerReq: 0.25 },
      { ...base, server: 'kes-server w1', reqPerSec: 1000, timeLimited: true, cpuMsPerReq: 0.375 },
      { ...base, server: 'minio/kes', protocol: 'h1', reqPerSec: 2000, cpuMsPerReq: 0.5 },
      { ...base, server: 'kes-server w1', protocol: 'h1', reqPerSec: 3000, cpuMsPerReq: 0.25 },
    ],
    'minio/kes',
  );
  assert.deepEqual(rows.map((r) => [r.ratio, r.cpuRatio]), [[null, null], [0.25, 1.5], [null, null], [1.5, 0.5]]);
  const lines = renderTable(rows).trimEnd().split('\n');
  assert.equal(lines.length, 6);
  assert.match(lines[0], /^server\s+operation\s+proto\s+in flight\s+cpus\s+requests\s+req\/s\s+p50 ms\s+p99 ms\s+peak RSS MiB\s+vs minio\/kes\s+CPU ms\/req\s+CPU vs minio\/kes$/);
  assert.match(lines[1], /^-+( +-+){12}$/);
  assert.match(lines[2], /^minio\/kes\s+generate\s+h2\s+32\s+pinned\s+100\s+4000\s+1\.23\s+10\.00\s+50\.0\s+ref\s+0\.250\s+ref$/);
  assert.match(lines[3], /^kes-server w1\s+generate\s+h2\s+32\s+pinned\s+100\*\s+1000\s+1\.23\s+10\.00\s+50\.0\s+0\.25x\s+0\.375\s+1\.50x$/);
  assert.match(lines[5], /^kes-server w1\s+generate\s+h1\s+32\s+pinned\s+100\s+3000\s+1\.23\s+10\.00\s+50\.0\s+1\.50x\s+0\.250\s+0\.50x$/);
  assert.equal(new Set(lines.map((l) => l.length)).size, 1, 'columns are aligned');
});

test('options: defaults, --quick, subsets and errors', () => {
  const d = parseOptions([])!;
  assert.equal(d.requests, 20_000);
  assert.deepEqual(d.concurrency, [32, 256]);
  assert.deepEqual(d.protocols, ['h2', 'h1']);
  assert.deepEqual(d.placements, ['pinned', 'shared']);
  assert.deepEqual(d.operations, [...OPERATIONS]);
  assert.deepEqual(d.servers, ['upstream', 'ts1', 'ts2']);
  const q = parseOptions(['--quick', '--requests', '50', '--ops', 'create,generate', '--servers', 'ts2', '--concurrency', '4,1,4', '--protocols', 'h1', '--placement', 'shared'])!;
  assert.deepEqual(q.concurrency, [4, 1]);
  assert.deepEqual(q.protocols, ['h1']);
  assert.deepEqual(q.placements, ['shared']);
  assert.equal(q.requests, 50);
  assert.equal(q.warmup, 500);
  assert.equal(q.phaseTimeoutMs, 20_000);
  assert.deepEqual(q.operations, ['generate', 'create']);
  assert.deepEqual(q.servers, ['ts2']);
  assert.equal(parseOptions(['--help']), null);
  assert.equal(parseOptions([])?.keystore, 'fs');
  assert.equal(parseOptions(['--keystore', 'vault'])?.keystore, 'vault');
  const bad = [['--keystore', 'aws'], ['--requests', '0'], ['--concurrency', '1.5'], ['--concurrency', '8,0'], ['--ops', 'encrypt'], ['--servers', ','], ['--protocols', 'h3'], ['--placement', 'none']];
  for (const argv of bad) assert.throws(() => parseOptions(argv), OptionsError, argv.join(' '));
});

test('the rendered config is a valid KES config: loopback, admin, fs key store, default cache', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kes-bench-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const creds = makeCredentials();
  const paths = await writeConfigs(dir, creds, [{ name: 'a', port: 7001 }, { name: 'b', port: 7002 }]);
  const a = parseConfig(await readFile(paths.get('a')!, 'utf8'), {});
  const b = parseConfig(await readFile(paths.get('b')!, 'utf8'), {});
  assert.equal(a.address, '127.0.0.1:7001');
  assert.equal(b.address, '127.0.0.1:7002');
  assert.equal(a.admin, creds.adminIdentity);
  assert.deepEqual(a.keystore, { kind: 'fs', path: join(dir, 'a-keys') });
  assert.deepEqual(b.keystore, { kind: 'fs', path: join(dir, 'b-keys') });
  // No cache section: the upstream defaults (docs/protocol.md#config-cache quirk: any = 30 s, unused and offline off).
  assert.deepEqual(a.cache, { anyMs: 30_000, unusedMs: 0, offlineMs: 0 });
  assert.equal(a.log.audit, 9);
  assert.equal(a.tls.key, b.tls.key);
});

const job = (port: number, creds: ReturnType<typeof makeCredentials>, operation: LoadJob['operation'], protocol: LoadJob['protocol'] = 'h2'): LoadJob => ({
  endpoint: { port, ca: creds.serverCert, cert: creds.clientCert, key: creds.clientKey },
  operation,
  protocol,
  keyName: 'bench-key',
  createPrefix: `test-${protocol}`,
  requests: 40,
  warmup: 8,
  concurrency: 4,
  sessions: 2,
  phaseTimeoutMs: 20_000,
});

/**
 * Starts each server from its config file (with its environment) and creates `bench-key` on it;
 * each server goes into `started` as soon as it runs, so the suite's teardown stops it.
 */
async function startWithKey(
  started: ServerProcess[],
  specs: readonly ServerSpec[],
  configs: ReadonlyMap<string, string>,
  ports: readonly number[],
  creds: ReturnType<typeof makeCredentials>,
  envOf: (name: string) => Readonly<Record<string, string>> = () => ({}),
): Promise<void> {
  const tls = { ca: creds.serverCert, cert: creds.clientCert, key: creds.clientKey };
  for (const [i, s] of specs.entries()) {
    const srv = await ServerProcess.start(s, configs.get(s.name)!, ports[i], tls, envOf(s.name));
    started.push(srv);
    const session = await openSession({ ...tls, port: srv.port });
    assert.equal((await send(session, 'POST', '/v1/key/create/bench-key')).status, 200);
    await closeSessions([session]);
  }
}

describe('load generator against the real servers', () => {
  const creds = makeCredentials();
  const servers: ServerProcess[] = [];
  let dir = '';
  const specs: ServerSpec[] = [
    { label: 'minio/kes', name: 'upstream', kind: { impl: 'upstream', bin: peerPath('kes') } },
    { label: 'kes-server w2', name: 'ts2', kind: { impl: 'ts', workers: 2 } },
  ];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kes-bench-test-'));
    const ports = [await freePort(), await freePort()];
    const paths = await writeConfigs(dir, creds, specs.map((s, i) => ({ name: s.name, port: ports[i] })));
    await startWithKey(servers, specs, paths, ports, creds);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const [i, label] of ['minio/kes', 'kes-server w2'].entries()) {
    for (const op of OPERATIONS) {
      for (const protocol of ['h2', 'h1'] as const) {
        test(`${label} ${op} ${protocol}: every request counted and checked`, async () => {
          const r = await runJob(job(servers[i].port, creds, op, protocol));
          assert.ok(r.ok, r.ok ? '' : r.error);
          assert.equal(r.requests, 40);
          assert.equal(r.timeLimited, false);
          assert.ok(r.p50Ms > 0 && r.p50Ms <= r.p99Ms && r.p99Ms <= r.maxMs);
          assert.ok(r.verified > 0);
          assert.ok(r.clientCpuMs > 0);
        });
      }
    }
  }

  test('workers: the two-worker server is a primary with two children, each counted in RSS and CPU', async () => {
    const ts = servers[1];
    assert.equal(await ts.processCount(), 3);
    assert.ok((await ts.peakRssKiB()) > 3 * 10 * 1024);
    const cpu0 = await ts.cpuMs();
    const r = await runJob({ ...job(ts.port, creds, 'generate'), requests: 400 });
    assert.ok(r.ok);
    assert.ok((await ts.cpuMs()) > cpu0, 'serving requests costs server CPU time');
  });

  test('a missing key fails the job with the server message', async () => {
    const r = await runJob({ ...job(servers[0].port, creds, 'describe'), keyName: 'no-such-key' });
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.error, /describe: status 404: key does not exist/);
  });
});

describe('Vault key store: both servers on one OpenBao, each behind a counting proxy', () => {
  const creds = makeCredentials();
  const servers: ServerProcess[] = [];
  const specs: ServerSpec[] = [
    { label: 'minio/kes', name: 'upstream', kind: { impl: 'upstream', bin: peerPath('kes') } },
    { label: 'kes-server w1', name: 'ts1', kind: { impl: 'ts', workers: 1 } },
  ];
  let stores: VaultKeystores | undefined;
  let dir = '';
  let configs = new Map<string, string>();
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kes-bench-vault-'));
    const vault = await VaultKeystores.start(specs.map((s) => s.name));
    stores = vault;
    const ports = [await freePort(), await freePort()];
    configs = await writeConfigs(dir, creds, specs.map((s, i) => ({ name: s.name, port: ports[i] })), { vault: (name) => vault.keystore(name) });
    await startWithKey(servers, specs, configs, ports, creds, (name) => vault.env(name));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await stores?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the config names the proxy, the server\'s own K/V v2 path and its AppRole from the environment', async () => {
    const env = stores!.env('ts1');
    const cfg = parseConfig(await readFile(configs.get('ts1')!, 'utf8'), env);
    assert.equal(cfg.keystore.kind, 'vault');
    const v = cfg.keystore.kind === 'vault' ? cfg.keystore.options : undefined;
    assert.equal(v?.endpoint, stores!.keystore('ts1').endpoint);
    assert.deepEqual([v?.engine, v?.version, v?.prefix], ['kv', 'v2', 'kes-ts1']);
    assert.deepEqual(Object.values(env), [v?.approle?.id, v?.approle?.secret]);
  });

  for (const [i, label] of ['minio/kes', 'kes-server w1'].entries()) {
    test(`${label}: the key lives in OpenBao, and generate and decrypt with a warm cache send nothing for it`, async () => {
      const name = specs[i].name;
      const seen = (): readonly string[] => stores!.requests(name);
      assert.ok(keyRequests(seen(), 'bench-key').some((r) => r.startsWith('PUT ') || r.startsWith('POST ')), `the key was written through the proxy: ${seen().join(', ')}`);
      const warm = await runJob(job(servers[i].port, creds, 'generate'));
      assert.ok(warm.ok, warm.ok ? '' : warm.error);
      const before = seen().length;
      for (const op of ['generate', 'decrypt'] as const) {
        const r = await runJob({ ...job(servers[i].port, creds, op), requests: 200 });
        assert.ok(r.ok, r.ok ? '' : r.error);
        assert.equal(r.requests, 200);
      }
      assert.deepEqual(keyRequests(seen().slice(before), 'bench-key'), []);
    });

    test(`${label}: create writes each new key to OpenBao once`, async () => {
      const name = specs[i].name;
      const before = stores!.requests(name).length;
      const r = await runJob({ ...job(servers[i].port, creds, 'create'), createPrefix: `vault-${name}` });
      assert.ok(r.ok, r.ok ? '' : r.error);
      const writes = stores!.requests(name).slice(before).filter((s) => s.startsWith('PUT ') || s.startsWith('POST '));
      // The warm-up creates keys too: 8 + 40, each under the server's own path.
      assert.equal(writes.length, 48, writes.join(', '));
      assert.ok(writes.every((w) => w.includes(`/kes-${name}/vault-${name}`)), writes.join(', '));
    });
  }
});

test('a server with wrong answers cannot produce a result', async (t) => {
  const creds = makeCredentials();
  // HTTP/2 and HTTP/1.1 alike, through Node's request/response objects.
  const server = createSecureServer({ key: creds.serverKey, cert: creds.serverCert, requestCert: true, rejectUnauthorized: false, allowHTTP1: true });
  server.on('request', (req, res) => {
    const path = req.url ?? '';
    req.resume();
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path.startsWith('/v1/key/generate/')) reply(200, { plaintext: randomBytes(32).toString('base64'), ciphertext: 'AAAA' });
    else if (path.startsWith('/v1/key/decrypt/')) reply(200, { plaintext: Buffer.alloc(32).toString('base64') });
    else if (path.startsWith('/v1/key/describe/')) reply(200, { name: 'another-key', algorithm: 'AES256' });
    else reply(500, { message: 'internal error' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  const cases = [
    { op: 'generate', error: /decrypt: plaintext differs/ }, // the sampled keys are decrypted afterwards
    { op: 'handshake', error: /decrypt: plaintext differs/ },
    { op: 'decrypt', error: /decrypt: plaintext differs/ },
    { op: 'describe', error: /describe: wrong key name/ },
    { op: 'create', error: /create: status 500: internal error/ },
  ] as const;
  for (const protocol of ['h2', 'h1'] as const) {
    for (const c of cases) {
      const r = await runJob(job(port, creds, c.op, protocol));
      assert.equal(r.ok, false, `${c.op} ${protocol}`);
      assert.match(r.ok ? '' : r.error, c.error, `${c.op} ${protocol}`);
    }
  }
});
