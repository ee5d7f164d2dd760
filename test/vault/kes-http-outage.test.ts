/**
 * OpenBao going away under two running `kes-server` processes (docs/protocol.md#vault-health, #vault-errors, #key-cache), asserted
 * directly on the KES HTTP API: one process with `cache.expiry.offline` set, one without.
 *
 * - While OpenBao is down, every key operation that needs it answers the upstream 502 with its
 *   exact body, never a 500 or a detail; `/v1/status` carries `keystore_unreachable` and
 *   `keystore_unavailable`; `/v1/ready` answers 504 `key store is not reachable`.
 * - With `offline` set, a cached key keeps serving generate and decrypt after its `unused` expiry
 *   has passed; without it, the same key is evicted and the same request fails.
 * - When OpenBao is back, both recover without a restart.
 * - A sealed OpenBao gives the same answers, and unsealing it the same recovery.
 *
 * OpenBao uses raft storage (sandbox/openbao-raft.ts) so it can be stopped and started again with
 * its data and the KES tokens intact.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KesVaultLayout } from '../../components/render/vault.ts';
import { Pki, applyVaultSetup, type AppRoleCredentials } from '../../sandbox/deployment.ts';
import type { KesProcess } from '../../sandbox/kes-process.ts';
import { RaftOpenBao } from '../../sandbox/openbao-raft.ts';
import { asAdmin, b64, secretPath, startVaultKes, type KesAnswer } from './kes-server.ts';

const layout: KesVaultLayout = { engine: 'kv', version: 'v2', prefix: 'kes' };
/** Every worker must see 'warm' within this while OpenBao is down and unnoticed: room for a loaded machine. */
const UNUSED_MS = 6_000;
/** Workers per process; each has its own cache and its own 10 s store probe (docs/protocol.md#key-cache). */
const WORKERS = 2;
/** New connections go to the workers in turn: this many requests in a row reach every worker. */
const ROUND = 2 * WORKERS;
/** Longer than the 10 s interval of the cache's store probe. */
const PROBE_WAIT_MS = 12_000;

let dir: string;
let bao: RaftOpenBao | undefined;
let pki: Pki;
let credentials: AppRoleCredentials;
let withOffline: KesProcess;
let withoutOffline: KesProcess;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vault-kes-outage-'));
  bao = await RaftOpenBao.start(join(dir, 'openbao'));
  credentials = await applyVaultSetup(bao, layout);
  pki = new Pki(join(dir, 'pki'));
  const common = { dir, pki, vaultAddress: bao.address, credentials, layout, workers: WORKERS };
  [withOffline, withoutOffline] = await Promise.all([
    startVaultKes({ ...common, name: 'kes-offline', cache: { anyMs: 300_000, unusedMs: UNUSED_MS, offlineMs: 600_000 } }),
    startVaultKes({ ...common, name: 'kes-online-only', cache: { anyMs: 300_000, unusedMs: UNUSED_MS, offlineMs: 0 } }),
  ]);
});
after(async () => {
  await Promise.all([withOffline?.stop(), withoutOffline?.stop()]);
  await bao?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const call = (kes: KesProcess, method: string, path: string, body?: unknown) => asAdmin(kes, pki, method, path, body);

/** `n` requests in a row (each on a new connection, so every worker gets some). */
async function times(n: number, send: () => Promise<KesAnswer>): Promise<KesAnswer[]> {
  const out: KesAnswer[] = [];
  for (let i = 0; i < n; i++) out.push(await send());
  return out;
}

/** The byte-exact upstream error body (docs/protocol.md#errors). */
const errorText = (message: string) => `{"message":${JSON.stringify(message)}\n}`;

function assertError(answer: KesAnswer, status: number, message: string, what: string): void {
  assert.deepEqual({ status: answer.status, text: answer.text }, { status, text: errorText(message) }, what);
}

/**
 * What a process answers while its key store is gone (docs/protocol.md#vault-errors, #server-routes): the key
 * operations that need Vault (`missing` is a key no worker has cached), readiness and status.
 */
async function assertStoreFailures(kes: KesProcess, missing: string, ciphertext: string): Promise<void> {
  const context = b64(Buffer.from('tenant/object'));
  const expect: Array<[string, string, unknown, number, string]> = [
    ['PUT', '/v1/key/create/new-key', undefined, 502, 'failed to create key'],
    ['PUT', '/v1/key/import/new-key', { key: b64(new Uint8Array(32).fill(7)), cipher: 'AES256' }, 502, 'failed to create key'],
    ['GET', `/v1/key/describe/${missing}`, undefined, 502, 'failed to read key'],
    ['PUT', `/v1/key/generate/${missing}`, { context }, 502, 'failed to read key'],
    ['PUT', `/v1/key/decrypt/${missing}`, { ciphertext, context }, 502, 'failed to read key'],
    ['GET', '/v1/key/list/*', undefined, 502, 'failed to list keys'],
    ['DELETE', `/v1/key/delete/${missing}`, undefined, 502, 'failed to delete key'],
  ];
  // (each of these asks Vault: 3 attempts with backoff when it is down, about 0.3 s)
  for (const [method, path, body, status, message] of expect) assertError(await call(kes, method, path, body), status, message, `${kes.name}: ${method} ${path}`);
  for (const r of await times(ROUND, () => call(kes, 'GET', '/v1/ready'))) assertError(r, 504, 'key store is not reachable', `${kes.name}: ready`);
  for (const r of await times(ROUND, () => call(kes, 'GET', '/v1/status'))) {
    assert.equal(r.status, 200);
    assert.equal(r.json.keystore_unreachable, true, `${kes.name}: ${r.text}`);
    assert.equal(r.json.keystore_unavailable, true, `${kes.name}: ${r.text}`);
    assert.equal(r.json.keystore_latency, undefined, `${kes.name}: ${r.text}`);
  }
  assert.equal(kes.running, true, `${kes.name} is still running`);
}

/** Within a bounded while (the caches probe every 10 s), every worker is ready and reports a latency. */
async function waitRecovered(processes: readonly KesProcess[]): Promise<void> {
  const recovered = new Set<KesProcess>();
  for (let attempt = 0; attempt < 60 && recovered.size < processes.length; attempt++) {
    for (const kes of processes) {
      if (recovered.has(kes)) continue;
      const ready = await times(ROUND, () => call(kes, 'GET', '/v1/ready'));
      const status = await times(ROUND, () => call(kes, 'GET', '/v1/status'));
      if (ready.every((r) => r.status === 200) && status.every((r) => r.json?.keystore_latency >= 1 && r.json?.keystore_unreachable === undefined)) {
        recovered.add(kes);
      }
    }
    if (recovered.size < processes.length) await sleep(500);
  }
  const stuck = processes.filter((k) => !recovered.has(k));
  assert.deepEqual(stuck.map((k) => k.name), [], `not recovered:\n${stuck.map((k) => k.logTail(10)).join('\n')}`);
}

test('OpenBao down: exact 5xx answers, status and readiness; cached keys served only with cache.expiry.offline; recovery without restart', async (t) => {
  const openbao = bao as RaftOpenBao;
  const processes = [withOffline, withoutOffline];
  const context = b64(Buffer.from('tenant/object'));

  // Before the outage: keys, a data key from each process, healthy status and readiness.
  for (const name of ['warm', 'cold']) assert.equal((await call(withOffline, 'PUT', `/v1/key/create/${name}`)).status, 200);
  const deks = new Map<KesProcess, { plaintext: string; ciphertext: string }>();
  for (const kes of processes) {
    const dek = await call(kes, 'PUT', '/v1/key/generate/warm', { context });
    assert.equal(dek.status, 200);
    deks.set(kes, dek.json);
    // every worker caches 'warm' (a worker fetches a key on its first use)
    for (const r of await times(ROUND, () => call(kes, 'GET', '/v1/key/describe/warm'))) assert.equal(r.status, 200);
    assert.equal((await call(kes, 'GET', '/v1/ready')).status, 200);
    const status = (await call(kes, 'GET', '/v1/status')).json;
    assert.ok(status.keystore_latency >= 1 && status.keystore_unreachable === undefined, JSON.stringify(status));
  }
  const pids = processes.map((k) => k.process?.pid);
  const started = performance.now();
  const mark = (phase: string) => t.diagnostic(`${phase}: ${Math.round(performance.now() - started)} ms after OpenBao stopped`);

  await openbao.stop();
  t.after(async () => {
    if (!openbao.running) await openbao.startAgain();
  });

  // Until the caches' probes notice the outage, the regular `unused` expiry still runs: keep
  // 'warm' in use in every worker of both processes meanwhile.
  const deadline = Date.now() + PROBE_WAIT_MS;
  while (Date.now() < deadline) {
    for (const kes of processes) {
      for (const r of await times(ROUND, () => call(kes, 'PUT', '/v1/key/generate/warm', { context }))) {
        assert.equal(r.status, 200, `${kes.name}: a cached key serves while the outage is not noticed yet: ${r.text}`);
      }
    }
    await sleep(300);
  }
  // Now nothing touches 'warm' for longer than `unused`.
  await sleep(UNUSED_MS + 1_500);

  mark('unused expiry passed');
  for (const r of await times(ROUND, () => call(withOffline, 'PUT', '/v1/key/generate/warm', { context }))) {
    assert.equal(r.status, 200, `offline cache: generate with a cached key: ${r.text}`);
    assert.equal(Buffer.from(r.json.plaintext, 'base64').length, 32);
  }
  const dek = deks.get(withOffline)!;
  for (const r of await times(ROUND, () => call(withOffline, 'PUT', '/v1/key/decrypt/warm', { ciphertext: dek.ciphertext, context }))) {
    assert.deepEqual([r.status, r.json?.plaintext], [200, dek.plaintext], 'offline cache: decrypt with a cached key');
  }
  for (const r of await times(ROUND, () => call(withoutOffline, 'PUT', '/v1/key/generate/warm', { context }))) {
    assertError(r, 502, 'failed to read key', 'no offline cache: the unused key was evicted and Vault is down');
  }

  mark('offline cache checked');
  for (const kes of processes) await assertStoreFailures(kes, 'cold', dek.ciphertext);

  mark('error answers checked');
  await openbao.startAgain();
  mark('OpenBao started again');
  await waitRecovered(processes);
  mark('recovered');
  for (const kes of processes) {
    assert.equal((await call(kes, 'PUT', `/v1/key/create/after-${kes.name}`)).status, 200);
    assert.equal((await call(kes, 'GET', '/v1/key/describe/cold')).status, 200, 'the delete during the outage deleted nothing');
    const own = deks.get(kes)!;
    const out = await call(kes, 'PUT', '/v1/key/decrypt/warm', { ciphertext: own.ciphertext, context });
    assert.deepEqual([out.status, out.json?.plaintext], [200, own.plaintext]);
  }
  assert.deepEqual(processes.map((k) => k.process?.pid), pids, 'no process was restarted');
  const listed: string[] = (await openbao.requestOk('LIST', `${layout.engine}/metadata/${layout.prefix}`)).body.data.keys;
  assert.deepEqual([...listed].sort(), ['after-kes-offline', 'after-kes-online-only', 'cold', 'warm']);
  assert.equal((await openbao.request('GET', secretPath(layout, 'new-key'))).status, 404, 'nothing was created during the outage');

  // The error log explains the failures without the AppRole credentials.
  const logs = readdirSync(dir).filter((f) => f.startsWith('kes-') && f.endsWith('.log')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
  assert.match(logs, /vault/i);
  for (const secret of [credentials.secretId, credentials.roleId]) assert.equal(logs.includes(secret), false, 'an AppRole credential is in a KES log');
});

test('OpenBao sealed: the same 502s, status and readiness; unsealed: recovery without restart', async (t) => {
  const openbao = bao as RaftOpenBao;
  const processes = [withOffline, withoutOffline];
  const pids = processes.map((k) => k.process?.pid);
  assert.equal((await call(withOffline, 'PUT', '/v1/key/create/sealed-probe')).status, 200);
  const dek = await call(withOffline, 'PUT', '/v1/key/generate/warm', {});
  assert.equal(dek.status, 200);
  await openbao.seal();
  t.after(async () => {
    if ((await openbao.request('GET', 'sys/seal-status', undefined, { token: null })).body?.sealed) await openbao.unseal();
  });
  assert.equal((await openbao.request('GET', 'sys/seal-status', undefined, { token: null })).body.sealed, true);
  for (const kes of processes) await assertStoreFailures(kes, 'sealed-probe', dek.json.ciphertext);
  await openbao.unseal();
  await waitRecovered(processes);
  for (const kes of processes) {
    assert.equal((await call(kes, 'GET', '/v1/key/describe/sealed-probe')).json?.name, 'sealed-probe');
    assert.equal((await call(kes, 'PUT', `/v1/key/create/unsealed-${kes.name}`)).status, 200);
  }
  assert.deepEqual(processes.map((k) => k.process?.pid), pids, 'no process was restarted');
});
