/**
 * OpenBao failing while KES is under load (docs/reliability.md#4-faults), asserted on the KES HTTP
 * API with figures (requests, failures, latencies) in the test diagnostics:
 *
 * - paused with SIGSTOP: cached keys keep being served; a request that needs OpenBao is torn
 *   down at the route timeout (15 s), as minio/kes's write deadline does; nothing hangs longer;
 *   after SIGCONT every key is served again. Run on this server and on minio/kes side by side.
 * - slowed by a delaying proxy (2 s per request): every request completes within the bound, and
 *   concurrent requests do not pile up in front of OpenBao (a burst for one uncached key reads it
 *   once). Also side by side.
 * - the AppRole secret-id and the token revoked: cached keys keep being served, the rest fails
 *   with 502 and a clear log line without any secret; a new secret-id loaded by a config reload
 *   brings everything back.
 * - OpenBao down past `cache.expiry.offline`: cached keys are served until the offline expiry,
 *   then refused with 502 like any other key.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { appRoleRoleParameters, kesAppRoleName, kesVaultPolicyName, type KesVaultLayout } from '../../components/render/vault.ts';
import { KES_VAULT_SECRET_ID_ENV } from '../../components/render/kes-config.ts';
import { Pki, applyVaultSetup, type AppRoleCredentials } from '../../sandbox/deployment.ts';
import { kesRequest, type KesProcess } from '../../sandbox/kes-process.ts';
import { RaftOpenBao } from '../../sandbox/openbao-raft.ts';
import { DelayProxy } from './delay-proxy.ts';
import { asAdmin, b64, startVaultKes } from './kes-server.ts';
import { adminSession, describe, figures, runLoad, send, type LoadRequest, type Outcome } from './load.ts';

const layout: KesVaultLayout = { engine: 'kv', version: 'v2', prefix: 'kes' };
/** Default timeout of the key routes (docs/protocol.md#request-pipeline): the write deadline. */
const ROUTE_TIMEOUT_MS = 15_000;
/** Room for a loaded 2-core machine on top of every bound below. */
const SLACK_MS = 5_000;
/** A request still open after this counts as hanging. */
const HANG_MS = 60_000;
const IMPLEMENTATIONS = ['ts', 'upstream'] as const;
type Implementation = (typeof IMPLEMENTATIONS)[number];

let dir: string;
let bao: RaftOpenBao | undefined;
let pki: Pki;
let credentials: AppRoleCredentials;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vault-faults-'));
  bao = await RaftOpenBao.start(join(dir, 'openbao'));
  credentials = await applyVaultSetup(bao, layout);
  pki = new Pki(join(dir, 'pki'));
});
after(async () => {
  await bao?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const context = b64(Buffer.from('tenant/object'));
const generate = (kind: string, name: string): LoadRequest => ({ kind, method: 'PUT', path: `/v1/key/generate/${name}`, body: { context } });
const call = (kes: KesProcess, method: string, path: string, body?: unknown) => asAdmin(kes, pki, method, path, body);

/** Starts one KES per implementation on `address`, stopped when the test ends. */
async function startServers(t: TestContext, tag: string, address: (impl: Implementation) => string, impls: readonly Implementation[] = IMPLEMENTATIONS, cache = { anyMs: 600_000, unusedMs: 600_000, offlineMs: 0 }): Promise<Map<Implementation, KesProcess>> {
  const out = new Map<Implementation, KesProcess>();
  t.after(() => Promise.all([...out.values()].map((k) => k.stop())));
  for (const impl of impls) {
    // One worker: one key cache, so "cached" means cached for every request.
    const kes = await startVaultKes({ dir, pki, name: `${tag}-${impl}`, vaultAddress: address(impl), credentials, layout, cache, implementation: impl, ...(impl === 'ts' ? { workers: 1 } : {}) });
    out.set(impl, kes);
  }
  return out;
}

/** Creates the keys (through `kes`); the cache does not hold a created key until it is used. */
async function createKeys(kes: KesProcess, names: readonly string[]): Promise<void> {
  for (const name of names) assert.equal((await call(kes, 'PUT', `/v1/key/create/${name}`)).status, 200, `create ${name}`);
}

/** Uses each key once on `kes`, so that its cache holds it. */
async function warm(kes: KesProcess, names: readonly string[]): Promise<void> {
  for (const name of names) assert.equal((await call(kes, 'PUT', `/v1/key/generate/${name}`, { context })).status, 200, `${kes.name}: warm ${name}`);
}

/** Diagnostic lines with the figures of every kind in `outcomes`. */
function report(t: TestContext, label: string, outcomes: readonly Outcome[]): void {
  for (const kind of [...new Set(outcomes.map((o) => o.kind))]) t.diagnostic(`${label} ${describe(kind, figures(outcomes, kind))}`);
}

/** Within `ms`, every key of `names` serves a data key again on `kes`. */
async function waitServed(kes: KesProcess, names: readonly string[], ms: number): Promise<number> {
  const t0 = performance.now();
  for (const name of names) {
    for (;;) {
      const r = await call(kes, 'PUT', `/v1/key/generate/${name}`, { context }).catch(() => ({ status: 0, text: 'no answer' }));
      if (r.status === 200) break;
      assert.ok(performance.now() - t0 < ms, `${kes.name}: ${name} not served ${ms} ms after recovery: ${r.status} ${r.text}\n${kes.logTail(15)}`);
      await sleep(250);
    }
  }
  return performance.now() - t0;
}

test('OpenBao paused (SIGSTOP) under load: cached keys served, uncached ones torn down at the route timeout, nothing hangs; SIGCONT recovers (this server and minio/kes)', async (t) => {
  const openbao = bao as RaftOpenBao;
  const servers = await startServers(t, 'pause', () => openbao.address);
  const warmKeys = ['pause-warm-0', 'pause-warm-1', 'pause-warm-2'];
  const coldKeys = Array.from({ length: 16 }, (_, i) => `pause-cold-${i}`);
  await createKeys(servers.get('ts')!, [...warmKeys, ...coldKeys]);
  for (const kes of servers.values()) await warm(kes, warmKeys);

  const PAUSE_LOAD_MS = 17_000;
  openbao.pause();
  const paused = performance.now();
  t.after(() => openbao.resume());
  // Also one HTTP/1.1 request per server for an uncached key, awaited only after SIGCONT.
  const http1 = [...servers].map(([impl, kes], s) => {
    const body = JSON.stringify({ context });
    const sent = kesRequest(kes.url, `/v1/key/generate/${coldKeys[s * 8 + 6]}`, { method: 'PUT', ca: pki.caPem, cert: pki.admin.certPem, key: pki.admin.keyPem, body, timeoutMs: HANG_MS });
    return { impl, answer: sent.then((r) => `${r.status} ${r.body.trim()}`, (err: Error) => `no answer (${err.message})`).then((what) => ({ what, ms: performance.now() - paused })) };
  });
  const during = new Map<Implementation, Outcome[]>();
  await Promise.all(
    [...servers].map(async ([impl, kes], s) => {
      const clients = [
        ...[0, 1, 2, 3].map((c) => (i: number) => generate('cached', warmKeys[(c + i) % warmKeys.length])),
        // Each uncached request names a key no other one names: every one needs OpenBao.
        ...[0, 1, 2, 3, 4, 5].map((c) => (i: number) => (i === 0 ? generate('uncached', coldKeys[s * 8 + c]) : undefined)),
        (i: number) => (i === 0 ? { kind: 'ready', method: 'GET', path: '/v1/ready' } : undefined),
      ];
      during.set(impl, await runLoad({ url: kes.url, pki, clients, durationMs: PAUSE_LOAD_MS, limitMs: HANG_MS }));
    }),
  );
  openbao.resume();
  const resumed = performance.now();
  for (const { impl, answer } of http1) {
    const { what, ms } = await answer;
    t.diagnostic(`${impl} paused: HTTP/1.1 uncached generate: ${what} after ${Math.round(ms)} ms (SIGCONT after ${Math.round(resumed - paused)} ms)`);
    assert.ok(what.startsWith('no answer'), `${impl}: HTTP/1.1 request answered: ${what}`);
    // This server closes the connection at the deadline; minio/kes's HTTP/1 write deadline only
    // fails the write once its Vault call returns, which a paused OpenBao delays.
    if (impl === 'ts') assert.ok(ms >= ROUTE_TIMEOUT_MS - 500 && ms < ROUTE_TIMEOUT_MS + SLACK_MS, `ts: HTTP/1.1 request closed after ${Math.round(ms)} ms`);
  }

  for (const [impl, outcomes] of during) {
    report(t, `${impl} paused:`, outcomes);
    const cached = figures(outcomes, 'cached');
    assert.ok(cached.requests >= 20, `${impl}: only ${cached.requests} cached requests`);
    assert.deepEqual(cached.failures, {}, `${impl}: a cached key failed while OpenBao was paused`);
    assert.ok(cached.maxMs < SLACK_MS, `${impl}: a cached key took ${cached.maxMs} ms`);
    const uncached = outcomes.filter((o) => o.kind === 'uncached');
    assert.equal(uncached.length, 6);
    for (const o of uncached) {
      assert.notEqual(o.status, 200, `${impl}: ${o.path} was answered while OpenBao was paused`);
      // The write deadline tears the stream down unanswered (docs/protocol.md#request-pipeline).
      assert.deepEqual([o.status, o.error], [0, 'stream reset (code 2)'], `${impl}: ${o.path}: ${o.status} ${o.text} ${o.error}`);
      assert.ok(o.ms >= ROUTE_TIMEOUT_MS - 500 && o.ms < ROUTE_TIMEOUT_MS + SLACK_MS, `${impl}: ${o.path} ended after ${Math.round(o.ms)} ms`);
    }
    for (const o of outcomes.filter((x) => x.kind === 'ready')) assert.ok(o.ms < ROUTE_TIMEOUT_MS + SLACK_MS && o.status !== 200, `${impl}: ready ${o.status} after ${o.ms} ms`);
    assert.ok(outcomes.every((o) => o.ms < ROUTE_TIMEOUT_MS + SLACK_MS), `${impl}: a request took longer than the bound`);
  }

  // After SIGCONT: every key serves again without a restart, and a short load is error-free.
  for (const [impl, kes] of servers) {
    const ms = await waitServed(kes, coldKeys, 30_000);
    t.diagnostic(`${impl}: every key served ${Math.round(performance.now() - resumed)} ms after SIGCONT (${Math.round(ms)} ms of it waiting)`);
    const outcomes = await runLoad({ url: kes.url, pki, clients: [0, 1, 2].map((c) => (i: number) => generate('after', coldKeys[(c * 5 + i) % coldKeys.length])), durationMs: 2_000, limitMs: HANG_MS });
    report(t, `${impl} resumed:`, outcomes);
    assert.deepEqual(figures(outcomes, 'after').failures, {}, `${impl}: failures after SIGCONT`);
    assert.equal(kes.running, true);
  }
});

test('OpenBao slowed by a 2 s proxy under load: every request completes within the bound, one OpenBao read per uncached key however many ask, no pile-up (this server and minio/kes)', async (t) => {
  const openbao = bao as RaftOpenBao;
  const DELAY_MS = 2_000;
  const proxies = new Map<Implementation, DelayProxy>();
  t.after(() => Promise.all([...proxies.values()].map((p) => p.close())));
  for (const impl of IMPLEMENTATIONS) proxies.set(impl, await DelayProxy.start(openbao.address));
  const servers = await startServers(t, 'slow', (impl) => proxies.get(impl)!.address);
  const warmKeys = ['slow-warm-0', 'slow-warm-1'];
  const coldKeys = Array.from({ length: 40 }, (_, i) => `slow-cold-${i}`);
  await createKeys(servers.get('ts')!, [...warmKeys, ...coldKeys, 'slow-burst-ts', 'slow-burst-upstream']);
  for (const kes of servers.values()) await warm(kes, warmKeys);

  const LOAD_MS = 12_000;
  const BURST = 50;
  const COLD_CLIENTS = 3;
  for (const p of proxies.values()) {
    p.delayMs = DELAY_MS;
    p.resetCounts();
  }
  await Promise.all(
    [...servers].map(async ([impl, kes], s) => {
      const proxy = proxies.get(impl)!;
      const creates = (i: number): LoadRequest => ({ kind: 'create', method: 'PUT', path: `/v1/key/create/slow-new-${impl}-${i}` });
      const clients = [
        ...[0, 1, 2].map((c) => (i: number) => generate('cached', warmKeys[(c + i) % warmKeys.length])),
        ...Array.from({ length: COLD_CLIENTS }, (_, c) => (i: number) => generate('uncached', coldKeys[s * 20 + c * 6 + (i % 6)])),
        creates,
      ];
      // One session sends a burst for one uncached key while the load runs.
      const burst = (async () => {
        await sleep(1_000);
        const session = adminSession(kes.url, pki);
        const since = performance.now();
        const out = await Promise.all(Array.from({ length: BURST }, () => send(session, generate('burst', `slow-burst-${impl}`), HANG_MS, since)));
        session.close();
        return out;
      })();
      const [outcomes, burstOutcomes] = await Promise.all([runLoad({ url: kes.url, pki, clients, durationMs: LOAD_MS, limitMs: HANG_MS }), burst]);
      const all = [...outcomes, ...burstOutcomes];
      report(t, `${impl} slowed by ${DELAY_MS} ms:`, all);
      const reads = proxy.count(`kes/slow-burst-${impl}`);
      t.diagnostic(`${impl}: OpenBao got ${proxy.requests.length} requests, at most ${proxy.maxOpen} at once; ${reads} read(s) for the burst of ${BURST}`);
      for (const kind of ['cached', 'uncached', 'create', 'burst']) {
        const f = figures(all, kind);
        assert.ok(f.requests > 0, `${impl}: no ${kind} request`);
        assert.deepEqual(f.failures, {}, `${impl}: ${kind} requests failed`);
      }
      assert.ok(figures(all, 'cached').maxMs < SLACK_MS, `${impl}: a cached key waited for OpenBao`);
      // An uncached read needs one OpenBao request, a create two (existence check, write).
      assert.ok(figures(all, 'uncached').maxMs < DELAY_MS + SLACK_MS, `${impl}: uncached max ${figures(all, 'uncached').maxMs} ms`);
      assert.ok(figures(all, 'create').maxMs < 2 * DELAY_MS + SLACK_MS, `${impl}: create max ${figures(all, 'create').maxMs} ms`);
      assert.ok(figures(all, 'burst').maxMs < DELAY_MS + SLACK_MS, `${impl}: burst max ${figures(all, 'burst').maxMs} ms`);
      assert.equal(reads, 1, `${impl}: the burst read its key ${reads} times: ${proxy.requests.filter((r) => r.includes('slow-burst')).join(', ')}`);
      // Open at once: one per client waiting on a key, the burst's read, the two health probes.
      assert.ok(proxy.maxOpen <= COLD_CLIENTS + 1 + 1 + 2, `${impl}: ${proxy.maxOpen} OpenBao requests open at once`);
    }),
  );
});

/** Everything the processes named `tag-*` wrote to their logs. */
function logsOf(tag: string): string {
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${tag}-`) && f.endsWith('.log'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

test('AppRole secret-id and token revoked while serving: cached keys served, the rest 502 with a clear log line and no secret; a new secret-id loaded by a config reload recovers', async (t) => {
  const openbao = bao as RaftOpenBao;
  // An undelayed proxy, to count the server's requests to OpenBao.
  const proxy = await DelayProxy.start(openbao.address);
  t.after(() => proxy.close());
  const kes = (await startServers(t, 'revoke', () => proxy.address, ['ts'])).get('ts')!;
  const warmKeys = ['revoke-warm-0', 'revoke-warm-1'];
  const coldKeys = Array.from({ length: 8 }, (_, i) => `revoke-cold-${i}`);
  await createKeys(kes, [...warmKeys, ...coldKeys]);
  await warm(kes, warmKeys);
  const pid = kes.process?.pid;
  const old = credentials;

  // The secret-id goes first, then every token the AppRole login issued (the server's included).
  await openbao.requestOk('POST', `auth/approle/role/${kesAppRoleName}/secret-id/destroy`, { secret_id: old.secretId });
  await openbao.requestOk('PUT', 'sys/leases/revoke-prefix/auth/approle/login', {});
  const login = await openbao.request('PUT', 'auth/approle/login', { role_id: old.roleId, secret_id: old.secretId }, { token: null });
  assert.equal(login.status, 400, 'the revoked secret-id no longer logs in');

  const clients = [
    ...[0, 1, 2].map((c) => (i: number) => generate('cached', warmKeys[(c + i) % warmKeys.length])),
    ...[0, 1].map((c) => (i: number) => generate('uncached', coldKeys[(c * 4 + i) % coldKeys.length])),
  ];
  proxy.resetCounts();
  const outcomes = await runLoad({ url: kes.url, pki, clients, durationMs: 6_000, limitMs: HANG_MS });
  report(t, 'revoked:', outcomes);
  const cached = figures(outcomes, 'cached');
  assert.deepEqual(cached.failures, {}, 'a cached key failed after the revocation');
  assert.ok(cached.requests >= 20 && cached.maxMs < SLACK_MS, `cached: ${describe('cached', cached)}`);
  const uncached = figures(outcomes, 'uncached');
  // Every one is refused at once: Vault answers, it only says no (403, then 400 to the re-login).
  assert.ok(uncached.requests >= 4 && uncached.maxMs < SLACK_MS, describe('uncached', uncached));
  assert.deepEqual(uncached.failures, { '502 failed to read key': uncached.requests });
  // One refused login, not one per request: OpenBao locks a role out after 5 refusals in 15 min,
  // and then refuses the new secret-id as well.
  const logins = proxy.count('auth/approle/login');
  t.diagnostic(`revoked: ${proxy.requests.length} requests to OpenBao, ${logins} of them logins`);
  assert.equal(logins, 1, 'logins sent after the revocation');

  // A new secret-id, written into the config file in place of the variable, then SIGHUP.
  const fresh = await openbao.requestOk('POST', `auth/approle/role/${kesAppRoleName}/secret-id`, {});
  credentials = { roleId: old.roleId, secretId: String(fresh.body.data.secret_id) };
  const configFile = kes.options.configFile;
  const config = readFileSync(configFile, 'utf8');
  assert.ok(config.includes(`\${${KES_VAULT_SECRET_ID_ENV}}`));
  writeFileSync(configFile, config.replace(`\${${KES_VAULT_SECRET_ID_ENV}}`, credentials.secretId), { mode: 0o600 });
  const reloaded = performance.now();
  kes.process?.signal('SIGHUP');
  const ms = await waitServed(kes, [...coldKeys, ...warmKeys], 30_000);
  t.diagnostic(`every key served ${Math.round(ms)} ms after SIGHUP`);
  const after = await runLoad({ url: kes.url, pki, clients, durationMs: 2_000, limitMs: HANG_MS });
  report(t, 'reloaded:', after);
  for (const kind of ['cached', 'uncached']) assert.deepEqual(figures(after, kind).failures, {}, `${kind} failures after the reload`);
  assert.equal(kes.process?.pid, pid, 'recovered without a restart');
  assert.ok(performance.now() - reloaded < 40_000);

  // The error log says what failed and why, and holds no credential.
  const logs = logsOf('revoke');
  assert.match(logs, /failed to read key: vault: failed to read 'kv\/data\/kes\/revoke-cold-\d': failed to log in with AppRole at 'auth\/approle\/login': HTTP 400: invalid role or secret ID; the same credentials are not sent again before \S+"/);
  for (const [what, secret] of [['old secret-id', old.secretId], ['new secret-id', credentials.secretId], ['role-id', old.roleId]]) {
    assert.equal(logs.includes(secret), false, `the ${what} is in the server's log`);
  }
});

test('OpenBao down past cache.expiry.offline: a cached key is served until the offline expiry, then refused with 502; served again when OpenBao is back (this server and minio/kes)', async (t) => {
  const openbao = bao as RaftOpenBao;
  /** Probe interval of the cache (docs/protocol.md#key-cache): the outage is noticed within it. */
  const PROBE_MS = 10_000;
  const OFFLINE_MS = 12_000;
  const servers = await startServers(t, 'offline', () => openbao.address, IMPLEMENTATIONS, { anyMs: 600_000, unusedMs: 4_000, offlineMs: OFFLINE_MS });
  await createKeys(servers.get('ts')!, ['offline-warm']);
  for (const kes of servers.values()) await warm(kes, ['offline-warm']);

  await openbao.stop();
  t.after(async () => {
    if (!openbao.running) await openbao.startAgain();
  });
  const stopped = performance.now();
  // The key is used every 250 ms on both servers until each has refused it for 3 s.
  const answers = new Map<Implementation, Array<{ at: number; status: number; text: string }>>([...servers.keys()].map((k) => [k, []]));
  const refusedFor = (impl: Implementation): number => {
    const list = answers.get(impl)!;
    const first = list.findIndex((a) => a.status !== 200);
    return first < 0 ? 0 : list.at(-1)!.at - list[first].at;
  };
  // minio/kes's probe goes through its Vault client's retries (two, 1–1.5 s apart) first.
  const boundOf = (impl: Implementation): number => PROBE_MS + OFFLINE_MS + SLACK_MS + (impl === 'upstream' ? 3_000 : 0);
  while (performance.now() - stopped < boundOf('upstream') + 5_000 && [...servers.keys()].some((impl) => refusedFor(impl) < 3_000)) {
    await Promise.all(
      [...servers].map(async ([impl, kes]) => {
        // (when the request was sent: a refusal by minio/kes takes seconds of retries)
        const at = performance.now() - stopped;
        const r = await call(kes, 'PUT', '/v1/key/generate/offline-warm', { context }).catch((err: Error) => ({ status: 0, text: err.message }));
        answers.get(impl)!.push({ at, status: r.status, text: r.text });
      }),
    );
    await sleep(250);
  }
  for (const [impl, list] of answers) {
    const first = list.findIndex((a) => a.status !== 200);
    assert.ok(first > 0, `${impl}: never served after the stop, or never refused: ${JSON.stringify(list.slice(0, 3))}`);
    const served = list.slice(0, first);
    const refused = list.slice(first);
    t.diagnostic(`${impl}: ${served.length} requests served, the last sent ${Math.round(served.at(-1)!.at)} ms after OpenBao stopped, then ${refused.length} refused, the first sent at ${Math.round(refused[0].at)} ms (bound ${boundOf(impl)} ms: probe ${PROBE_MS} + offline ${OFFLINE_MS} + slack); unused expiry ${4_000} ms`);
    // Served well past `unused` (the offline cache holds it), refused at most one probe and one offline period after the stop.
    assert.ok(refused[0].at <= boundOf(impl), `${impl}: still served ${Math.round(refused[0].at)} ms after the stop`);
    for (const r of refused) assert.deepEqual([r.status, r.text], [502, '{"message":"failed to read key"\n}'], `${impl}: answer after the offline expiry`);
  }

  await openbao.startAgain();
  for (const [impl, kes] of servers) {
    const ms = await waitServed(kes, ['offline-warm'], 30_000);
    t.diagnostic(`${impl}: served again ${Math.round(ms)} ms after OpenBao was back`);
  }
});

test('secret-id revoked with no request coming: the token renewal loop logs the refused re-login once, then sends the same credentials no more', async (t) => {
  const openbao = bao as RaftOpenBao;
  // A 20 s token period: below the 30 s threshold the loop logs in again every 3 s.
  await openbao.requestOk('POST', `auth/approle/role/${kesAppRoleName}`, { token_period: 20 });
  t.after(() => openbao.requestOk('POST', `auth/approle/role/${kesAppRoleName}`, appRoleRoleParameters({ policies: [kesVaultPolicyName] })));
  const secretId = String((await openbao.requestOk('POST', `auth/approle/role/${kesAppRoleName}/secret-id`, {})).body.data.secret_id);
  const proxy = await DelayProxy.start(openbao.address);
  t.after(() => proxy.close());
  const own = { roleId: credentials.roleId, secretId };
  const kes = await startVaultKes({ dir, pki, name: 'background-ts', vaultAddress: proxy.address, credentials: own, layout, workers: 1 });
  t.after(() => kes.stop());
  await sleep(4_000);
  assert.ok(proxy.count('auth/approle/login') >= 2, `the loop logs in again every 3 s: ${proxy.requests.join(', ')}`);

  await openbao.requestOk('POST', `auth/approle/role/${kesAppRoleName}/secret-id/destroy`, { secret_id: secretId });
  const revoked = performance.now();
  const refusal = /level=ERROR msg="vault: failed to log in with AppRole at 'auth\/approle\/login': HTTP 400: invalid role or secret ID; the same credentials are not sent again before \S+"/;
  while (!refusal.test(logsOf('background'))) {
    assert.ok(performance.now() - revoked < 15_000, `no refused login in the log:\n${kes.logTail(10)}`);
    await sleep(250);
  }
  t.diagnostic(`refused re-login logged ${Math.round(performance.now() - revoked)} ms after the revocation`);
  proxy.resetCounts();
  await sleep(7_000);
  assert.equal(proxy.count('auth/approle/login'), 0, 'the refused credentials were sent again');
  const logs = logsOf('background');
  assert.equal(logs.match(new RegExp(refusal.source, 'g'))?.length, 1, 'the refusal is logged once; the held ones are not');
  for (const secret of [secretId, credentials.roleId]) assert.equal(logs.includes(secret), false, 'a credential is in the log');
});
