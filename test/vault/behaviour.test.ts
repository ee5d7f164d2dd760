/**
 * VaultKeyStore behaviour against a real OpenBao beyond the conformance suite: many clients
 * racing on one key, stores sharing one Vault, token renewal and re-login, Vault going away.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isKeyStoreError } from '../../kes-server/src/keystore/errors.ts';
import { VaultKeyStore } from '../../kes-server/src/keystore/vault/index.ts';
import { startOpenBao, type OpenBao } from '../../sandbox/openbao.ts';
import { provisionKes, type Provisioned } from '../../sandbox/openbao-provision.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let bao: OpenBao;
const stores: VaultKeyStore[] = [];
before(async () => {
  bao = await startOpenBao();
});
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await bao?.stop();
});

async function connect(p: Provisioned, opts?: Parameters<typeof VaultKeyStore.connect>[1]): Promise<VaultKeyStore> {
  const store = await VaultKeyStore.connect(p.options, opts);
  stores.push(store);
  return store;
}

for (const version of ['v1', 'v2'] as const) {
  describe(`shared OpenBao, kv ${version}`, () => {
    let p: Provisioned;
    const engine = `race${version}`;
    before(async () => {
      p = await provisionKes(bao, { layout: { engine, version, prefix: 'kes' }, name: `kes-${engine}` });
    });

    test('20 clients create one key at once: one wins, the rest get KEY_EXISTS, one version stored', async () => {
      const clients = await Promise.all(Array.from({ length: 20 }, () => connect(p)));
      const results = await Promise.allSettled(clients.map((c, i) => c.create('contended', enc(`v${i}`))));
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      assert.equal(winners.length, 1, `winners: ${winners.join(',')}`);
      for (const r of results) {
        if (r.status === 'rejected') assert.ok(isKeyStoreError(r.reason, 'KEY_EXISTS'), String(r.reason));
      }
      for (const c of clients.slice(0, 3)) assert.equal(dec(await c.get('contended')), `v${winners[0]}`);
      if (version === 'v2') {
        const meta = await bao.requestOk('GET', `${engine}/metadata/kes/contended`);
        assert.equal(meta.body.data.current_version, 1);
        assert.deepEqual(Object.keys(meta.body.data.versions), ['1']);
      } else {
        const raw = await bao.requestOk('GET', `${engine}/kes/contended`);
        assert.deepEqual(raw.body.data, { contended: `v${winners[0]}` });
      }
    });

    test('two stores on one OpenBao see each other’s keys', async () => {
      const [a, b] = [await connect(p), await connect(p)];
      await a.create('from-a', enc('A'));
      await b.create('from-b', enc('B'));
      assert.equal(dec(await b.get('from-a')), 'A');
      assert.equal(dec(await a.get('from-b')), 'B');
      const names = (await a.list('from-', 0)).names;
      assert.deepEqual(names, ['from-a', 'from-b']);
      await b.delete('from-a');
      await assert.rejects(a.get('from-a'), (e) => isKeyStoreError(e, 'KEY_NOT_FOUND'));
      // the stored secret has exactly one field named like the key
      const path = version === 'v2' ? `${engine}/data/kes/from-b` : `${engine}/kes/from-b`;
      const raw = await bao.requestOk('GET', path);
      assert.deepEqual(version === 'v2' ? raw.body.data.data : raw.body.data, { 'from-b': 'B' });
    });
  });
}

describe('token lifetime', () => {
  /** Uses the store continuously for `ms`, asserting every operation succeeds. */
  async function keepUsing(store: VaultKeyStore, tag: string, ms: number): Promise<number> {
    const end = Date.now() + ms;
    let n = 0;
    while (Date.now() < end) {
      await store.create(`${tag}-${n}`, enc(`value-${n}`));
      assert.equal(dec(await store.get(`${tag}-${n}`)), `value-${n}`);
      n++;
      await sleep(250);
    }
    return n;
  }

  test('a 1 s periodic token: re-login keeps the store working past several periods', async () => {
    const p = await provisionKes(bao, { layout: { engine: 'ttl1', version: 'v2', prefix: '' }, name: 'kes-ttl1', tokenPeriodSeconds: 1 });
    const errors: Error[] = [];
    // below the 30 s threshold the store logs in again every `reloginWaitMs` (3 s upstream)
    const store = await connect(p, { renewal: { reloginWaitMs: 500 }, onError: (e) => errors.push(e) });
    const n = await keepUsing(store, 'relogin', 4_000);
    assert.ok(n >= 8, `only ${n} rounds`);
    assert.deepEqual(errors.map((e) => e.message), []);
  });

  test('a 2 s periodic token renewed with renew-self keeps working past several periods', async () => {
    const p = await provisionKes(bao, { layout: { engine: 'ttl2', version: 'v1', prefix: '' }, name: 'kes-ttl2', tokenPeriodSeconds: 2 });
    const errors: Error[] = [];
    const store = await connect(p, { renewal: { minTtlMs: 500, maxSwitchDelayMs: 0 }, onError: (e) => errors.push(e) });
    const n = await keepUsing(store, 'renew', 6_500);
    assert.ok(n >= 12, `only ${n} rounds`);
    assert.deepEqual(errors.map((e) => e.message), []);
  });

  test('a revoked token: the store logs in again and keeps working', async () => {
    const p = await provisionKes(bao, { layout: { engine: 'revoke', version: 'v2', prefix: 'k' }, name: 'kes-revoke' });
    const store = await connect(p);
    await store.create('before', enc('1'));
    // revoke every token issued by the AppRole login (the store's included)
    await bao.requestOk('PUT', 'sys/leases/revoke-prefix/auth/approle/login', {});
    const lookup = await bao.request('POST', 'auth/approle/login', { role_id: p.roleId, secret_id: p.secretId });
    assert.equal(lookup.status, 200, 'the secret id still logs in');
    assert.equal(dec(await store.get('before')), '1');
    await store.create('after', enc('2'));
    assert.deepEqual((await store.list('', 0)).names, ['after', 'before']);
  });
});

describe('Vault goes away', () => {
  test('status and get report UNREACHABLE once OpenBao is stopped', async (t) => {
    const own = await startOpenBao();
    t.after(() => own.stop());
    const p = await provisionKes(own, { layout: { engine: 'kv', version: 'v2', prefix: '' } });
    const store = await VaultKeyStore.connect(p.options, { client: { timeoutMs: 2_000, backoffMs: 20 } });
    t.after(() => store.close());
    await store.create('k', enc('v'));
    assert.ok((await store.status()).latencyMs >= 0);
    await own.stop();
    assert.equal(own.running(), false);
    await assert.rejects(store.status(), (e) => isKeyStoreError(e, 'UNREACHABLE') && /sys\/health/.test(e.message));
    await assert.rejects(store.get('k'), (e) => isKeyStoreError(e, 'UNREACHABLE') && e.message.startsWith("vault: failed to read 'kv/data/k'"));
    await assert.rejects(store.create('k2', enc('v')), (e) => isKeyStoreError(e, 'UNREACHABLE'));
    await assert.rejects(store.list('', 0), (e) => isKeyStoreError(e, 'UNREACHABLE'));
    await assert.rejects(store.delete('k'), (e) => isKeyStoreError(e, 'UNREACHABLE'));
  });

  test('a sealed OpenBao: status UNREACHABLE and key operations fail fast without a request', async (t) => {
    const own = await startOpenBao();
    t.after(() => own.stop());
    const p = await provisionKes(own, { layout: { engine: 'kv', version: 'v1', prefix: '' } });
    const store = await VaultKeyStore.connect({ ...p.options, statusPingMs: 100 });
    t.after(() => store.close());
    await store.create('k', enc('v'));
    await own.requestOk('PUT', 'sys/seal');
    await assert.rejects(store.status(), (e) => isKeyStoreError(e, 'UNREACHABLE') && /sealed/.test(e.message));
    const deadline = Date.now() + 5_000;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        await store.get('k');
      } catch (err) {
        last = err;
        if (isKeyStoreError(err) && /Vault is sealed/.test(err.message)) break;
      }
      await sleep(100);
    }
    assert.ok(isKeyStoreError(last, 'UNREACHABLE') && /Vault is sealed/.test(last.message), String(last));
  });

  test('initial login failure rejects connect with a clear message and no secret', async () => {
    const p = await provisionKes(bao, { layout: { engine: 'badlogin', version: 'v1', prefix: '' }, name: 'kes-badlogin' });
    const secret = 'not-the-secret-id-0123456789';
    await assert.rejects(
      VaultKeyStore.connect({ ...p.options, approle: { ...p.options.approle!, secret } }),
      (e: Error) => {
        assert.match(e.message, /^vault: failed to log in with AppRole at 'auth\/approle\/login': HTTP 400/);
        assert.ok(!e.message.includes(secret) && !e.message.includes(p.roleId), e.message);
        return true;
      },
    );
  });
});
