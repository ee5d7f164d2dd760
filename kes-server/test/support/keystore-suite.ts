/**
 * The conformance suite every KeyStore backend runs (mem, fs, vault). It registers node:test
 * tests; each test makes its own store and uses names with a fresh random prefix, so backends
 * that share state between stores (a Vault server) can run it too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isKeyStoreError } from '../../src/keystore/errors.ts';
import type { KeyStoreErrorCode } from '../../src/keystore/errors.ts';
import { listPage, type KeyStore } from '../../src/keystore/keystore.ts';

export interface KeystoreSuiteOptions {
  /** Deleting a missing key succeeds on this backend (Vault, docs/protocol.md#vault-errors) instead of KEY_NOT_FOUND. */
  readonly deleteMissingSucceeds?: boolean;
}

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function str(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

function code(expected: KeyStoreErrorCode): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isKeyStoreError(err), `expected a KeyStoreError, got ${String(err)}`);
    assert.equal(err.code, expected);
    return true;
  };
}

/** Registers the conformance tests for the store made by `makeStore`. */
export function keystoreSuite(
  name: string,
  makeStore: () => Promise<KeyStore>,
  options: KeystoreSuiteOptions = {},
): void {
  async function fresh(t: { after: (fn: () => Promise<void>) => void }): Promise<{ store: KeyStore; prefix: string }> {
    const store = await makeStore();
    t.after(() => store.close());
    return { store, prefix: `t${randomBytes(6).toString('hex')}-` };
  }

  test(`${name}: status reports a latency`, async (t) => {
    const { store } = await fresh(t);
    const s = await store.status();
    assert.equal(typeof s.latencyMs, 'number');
    assert.ok(Number.isFinite(s.latencyMs) && s.latencyMs >= 0, `latency ${s.latencyMs}`);
    assert.equal(typeof store.toString(), 'string');
    assert.notEqual(store.toString(), '[object Object]');
  });

  test(`${name}: create then get returns the value`, async (t) => {
    const { store, prefix } = await fresh(t);
    const value = text('CiQKIMiHG7XrN94FuwblJJor4f7f6rbqAl7DwsLaiIoyz0D2EAES');
    await store.create(`${prefix}a`, value);
    assert.equal(str(await store.get(`${prefix}a`)), str(value));
  });

  test(`${name}: the store keeps its own copy of values`, async (t) => {
    const { store, prefix } = await fresh(t);
    const value = text('original');
    await store.create(`${prefix}a`, value);
    value.fill(0x41);
    const got = await store.get(`${prefix}a`);
    got.fill(0x42);
    assert.equal(str(await store.get(`${prefix}a`)), 'original');
  });

  test(`${name}: a second create fails with KEY_EXISTS and keeps the first value`, async (t) => {
    const { store, prefix } = await fresh(t);
    await store.create(`${prefix}k`, text('first'));
    await assert.rejects(store.create(`${prefix}k`, text('second')), code('KEY_EXISTS'));
    assert.equal(str(await store.get(`${prefix}k`)), 'first');
  });

  test(`${name}: 50 concurrent creates of one name: exactly one wins and its value is stored`, async (t) => {
    const { store, prefix } = await fresh(t);
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => store.create(`${prefix}race`, text(`value-${i}`))),
    );
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    assert.equal(winners.length, 1, `winners: ${winners.join(',')}`);
    for (const r of results) {
      if (r.status === 'rejected') code('KEY_EXISTS')(r.reason);
    }
    assert.equal(str(await store.get(`${prefix}race`)), `value-${winners[0]}`);
  });

  test(`${name}: get of a missing key fails with KEY_NOT_FOUND`, async (t) => {
    const { store, prefix } = await fresh(t);
    await assert.rejects(store.get(`${prefix}missing`), code('KEY_NOT_FOUND'));
  });

  test(`${name}: delete removes the key, which can then be created again`, async (t) => {
    const { store, prefix } = await fresh(t);
    await store.create(`${prefix}d`, text('one'));
    await store.delete(`${prefix}d`);
    await assert.rejects(store.get(`${prefix}d`), code('KEY_NOT_FOUND'));
    assert.deepEqual((await store.list(prefix, 0)).names, []);
    await store.create(`${prefix}d`, text('two'));
    assert.equal(str(await store.get(`${prefix}d`)), 'two');
  });

  test(`${name}: delete of a missing key ${options.deleteMissingSucceeds ? 'succeeds' : 'fails with KEY_NOT_FOUND'}`, async (t) => {
    const { store, prefix } = await fresh(t);
    if (options.deleteMissingSucceeds) {
      await store.delete(`${prefix}missing`);
      await assert.rejects(store.get(`${prefix}missing`), code('KEY_NOT_FOUND'));
    } else {
      await assert.rejects(store.delete(`${prefix}missing`), code('KEY_NOT_FOUND'));
    }
  });

  test(`${name}: list filters by prefix and sorts by name`, async (t) => {
    const { store, prefix } = await fresh(t);
    const names = ['b', 'a-2', 'a-1', 'C', 'a_3', 'ab'].map((n) => prefix + n);
    for (const n of names) await store.create(n, text(n));
    await store.create(`x${prefix}a-1`, text('other'));
    t.after(() => store.delete(`x${prefix}a-1`).catch(() => {}));
    const all = await store.list(prefix, 0);
    assert.deepEqual(all.names, [...names].sort());
    assert.equal(all.continueAt, '');
    const a = await store.list(`${prefix}a`, 0);
    assert.deepEqual(a.names, [`${prefix}a-1`, `${prefix}a-2`, `${prefix}a_3`, `${prefix}ab`]);
    assert.deepEqual((await store.list(`${prefix}zz`, 0)).names, []);
    const everything = await store.list('', 0);
    for (const n of names) assert.ok(everything.names.includes(n), `list('') lacks ${n}`);
    assert.deepEqual(everything.names, [...everything.names].sort());
  });

  test(`${name}: list answers the page listPage makes: UTF-8 byte order, not UTF-16 order`, async (t) => {
    const { store, prefix } = await fresh(t);
    // UTF-16 code units put U+1F600 (0xD83D…) before U+FF21; UTF-8 bytes put it after (F0 > EF).
    const names = ['\u{1F600}', '\u{FF21}', 'z', 'Z', '_'].map((n) => prefix + n);
    for (const n of names) await store.create(n, text('v'));
    const want = [prefix + 'Z', prefix + '_', prefix + 'z', prefix + '\u{FF21}', prefix + '\u{1F600}'];
    assert.deepEqual(await store.list(prefix, 0), { names: want, continueAt: '' });
    assert.deepEqual(await store.list(prefix, 0), listPage(names, prefix, 0));
    assert.deepEqual(await store.list(prefix, 3), { names: want.slice(0, 3), continueAt: want[3] });
    assert.deepEqual(await store.list(prefix, 3), listPage(names, prefix, 3));
  });

  test(`${name}: list pages with n and names the next entry in continueAt`, async (t) => {
    const { store, prefix } = await fresh(t);
    const names = ['a', 'b', 'c', 'd', 'e'].map((n) => prefix + n);
    for (const n of names.toReversed()) await store.create(n, text(n));
    const first = await store.list(prefix, 2);
    assert.deepEqual(first.names, names.slice(0, 2));
    assert.equal(first.continueAt, names[2]);
    const exact = await store.list(prefix, 5);
    assert.deepEqual(exact.names, names);
    assert.equal(exact.continueAt, '');
    const more = await store.list(prefix, 10);
    assert.deepEqual(more.names, names);
    assert.equal(more.continueAt, '');
    const one = await store.list(`${prefix}d`, 1);
    assert.deepEqual(one.names, [names[3]]);
    assert.equal(one.continueAt, '');
  });
}
