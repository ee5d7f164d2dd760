import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { KeyCache, STATUS_PROBE_MS } from '../../src/cache/key-cache.ts';
import type { CacheExpiry } from '../../src/cache/key-cache.ts';
import type { Clock, Repeat } from '../../src/clock.ts';
import { generateKeyVersion } from '../../src/crypto/key.ts';
import { InvalidKeyError, encodeKeyVersion, parseKeyVersion } from '../../src/crypto/stored-key.ts';
import { KeyStoreError, isKeyStoreError } from '../../src/keystore/errors.ts';
import type { KeyStoreStatus } from '../../src/keystore/keystore.ts';
import { MemKeyStore } from '../../src/keystore/mem.ts';

/** Interval timers driven by `tick`, firing due callbacks in time order. */
class FakeClock implements Clock {
  time = 0;
  readonly timers = new Map<number, { fn: () => void; ms: number; due: number }>();
  #id = 0;

  now(): number {
    return this.time;
  }

  sleep(): Promise<void> {
    throw new Error('the key cache does not sleep');
  }

  every(ms: number, fn: () => void): Repeat {
    const id = ++this.#id;
    this.timers.set(id, { fn, ms, due: this.time + ms });
    return { stop: () => void this.timers.delete(id) };
  }

  /** Advances time by `ms`, running every timer that falls due, then lets promises settle. */
  async tick(ms: number): Promise<void> {
    const end = this.time + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      const next = [...this.timers.values()].filter((t) => t.due <= end).sort((a, b) => a.due - b.due)[0];
      if (!next) break;
      this.time = next.due;
      next.due += next.ms;
      next.fn();
      await flush();
    }
    this.time = end;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** A MemKeyStore that counts calls, can be taken down, and can hold `get` until released. */
class TestStore extends MemKeyStore {
  gets = 0;
  statuses = 0;
  closes = 0;
  down = false;
  gate: Promise<void> | undefined;

  /** Holds every later `get` until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise((r) => (release = r));
    return release;
  }

  override async get(name: string): Promise<Uint8Array> {
    this.gets++;
    if (this.gate) await this.gate;
    if (this.down) throw new KeyStoreError('UNREACHABLE', 'test: down');
    return super.get(name);
  }

  override async status(): Promise<KeyStoreStatus> {
    this.statuses++;
    if (this.down) throw new KeyStoreError('UNREACHABLE', 'test: down');
    return super.status();
  }

  override async close(): Promise<void> {
    this.closes++;
  }
}

function setup(t: { after: (fn: () => Promise<void>) => void }, expiry: Partial<CacheExpiry> = {}) {
  const store = new TestStore();
  const clock = new FakeClock();
  const cache = new KeyCache(store, { anyMs: 0, unusedMs: 0, offlineMs: 0, ...expiry }, clock);
  t.after(() => cache.close());
  return { store, clock, cache };
}

async function put(store: MemKeyStore, name: string) {
  const kv = generateKeyVersion('creator');
  await store.create(name, encodeKeyVersion(kv));
  return kv;
}

const notFound = (err: unknown) => isKeyStoreError(err, 'KEY_NOT_FOUND');

test('get parses the stored key once and then serves it from memory', async (t) => {
  const { store, cache } = setup(t);
  const kv = await put(store, 'k');
  assert.deepEqual(await cache.get('k'), kv);
  assert.deepEqual(await cache.get('k'), kv);
  assert.equal(store.gets, 1);
  assert.equal(cache.size, 1);
});

test('concurrent misses for one name cause a single store.get (single flight)', async (t) => {
  const { store, cache } = setup(t);
  const kv = await put(store, 'k');
  await put(store, 'other');
  const release = store.hold();
  const waiting = Array.from({ length: 20 }, () => cache.get('k'));
  const other = cache.get('other');
  await flush();
  assert.equal(store.gets, 2, 'one fetch for k, one for other');
  release();
  for (const got of await Promise.all(waiting)) assert.deepEqual(got, kv);
  await other;
  store.gate = undefined;
  await cache.get('k');
  assert.equal(store.gets, 2);
});

test('a failed fetch is shared by its waiters and not cached', async (t) => {
  const { store, cache } = setup(t);
  const results = await Promise.allSettled([cache.get('nope'), cache.get('nope')]);
  assert.equal(store.gets, 1);
  for (const r of results) assert.ok(r.status === 'rejected' && notFound(r.reason));
  await assert.rejects(cache.get('nope'), notFound);
  assert.equal(store.gets, 2);
  assert.equal(cache.size, 0);
});

test('an unparsable stored value rejects with InvalidKeyError and is not cached', async (t) => {
  const { store, cache } = setup(t);
  await store.create('bad', new TextEncoder().encode('garbage!'));
  await assert.rejects(cache.get('bad'), InvalidKeyError);
  assert.equal(cache.size, 0);
});

test('create writes the storage encoding through and does not populate the cache', async (t) => {
  const { store, cache } = setup(t);
  const kv = generateKeyVersion('me');
  await cache.create('k', kv);
  assert.equal(cache.size, 0);
  assert.deepEqual(parseKeyVersion(await store.get('k')), kv);
  await assert.rejects(cache.create('k', kv), (err: unknown) => isKeyStoreError(err, 'KEY_EXISTS'));
});

test('delete removes from the store and evicts, even when the store says not found', async (t) => {
  const { store, cache } = setup(t);
  await put(store, 'k');
  await cache.get('k');
  await cache.delete('k');
  assert.equal(cache.size, 0);
  await assert.rejects(cache.get('k'), notFound);
  // Deleted behind the cache's back (another node): the local delete still evicts.
  await put(store, 'j');
  await cache.get('j');
  await store.delete('j');
  await assert.rejects(cache.delete('j'), notFound);
  assert.equal(cache.size, 0);
});

test('a fetch that started before a delete does not re-insert the key', async (t) => {
  const { store, cache } = setup(t);
  await put(store, 'k');
  const release = store.hold();
  const early = cache.get('k');
  await flush();
  store.gate = undefined;
  const deleting = cache.delete('k');
  release();
  await Promise.allSettled([early, deleting]);
  assert.equal(cache.size, 0);
  await assert.rejects(cache.get('k'), notFound);
});

test('evict drops one cached name without touching the store', async (t) => {
  const { store, cache } = setup(t);
  const kv = await put(store, 'k');
  await put(store, 'other');
  await cache.get('k');
  await cache.get('other');
  cache.evict('k');
  cache.evict('never-cached');
  assert.equal(cache.size, 1, 'only k is gone');
  assert.deepEqual(parseKeyVersion(await store.get('k')), kv, 'the store still holds k');
  const gets = store.gets;
  await cache.get('other');
  assert.equal(store.gets, gets, 'other is still served from memory');
  assert.deepEqual(await cache.get('k'), kv);
  assert.equal(store.gets, gets + 1, 'k is fetched anew');
  // Deleted through another worker: after evict the next read asks the store and sees it gone.
  await store.delete('k');
  cache.evict('k');
  await assert.rejects(cache.get('k'), notFound);
});

test('evict during a fetch: the fetch does not re-insert, later readers do not join it', async (t) => {
  const { store, cache } = setup(t);
  const kv = await put(store, 'k');
  const release = store.hold();
  const early = cache.get('k');
  await flush();
  cache.evict('k');
  const late = cache.get('k');
  await flush();
  assert.equal(store.gets, 2, 'the read after the eviction started a fetch of its own');
  release();
  assert.deepEqual(await early, kv);
  assert.deepEqual(await late, kv);
  // Only the fetch that started after the eviction may fill the cache.
  assert.equal(cache.size, 1);
  cache.evict('k');
  assert.equal(cache.size, 0);
});

test('an evict while a fetch is under way keeps that fetch out of the cache', async (t) => {
  const { store, cache } = setup(t);
  await put(store, 'k');
  const release = store.hold();
  const early = cache.get('k');
  await flush();
  cache.evict('k');
  release();
  await early;
  assert.equal(cache.size, 0);
  store.gate = undefined;
  await cache.get('k');
  assert.equal(store.gets, 2, 'the next read asks the store');
});

test('list and status pass through', async (t) => {
  const { store, cache } = setup(t);
  await put(store, 'a');
  await put(store, 'b');
  assert.deepEqual(await cache.list('', 1), { names: ['a'], continueAt: 'b' });
  assert.deepEqual(await cache.status(), { latencyMs: 1 });
  assert.equal(store.statuses, 1);
  assert.equal(cache.toString(), 'mem');
});

test('expiry.any clears everything every interval', async (t) => {
  const { store, clock, cache } = setup(t, { anyMs: 1000 });
  await put(store, 'k');
  await cache.get('k');
  await clock.tick(999);
  assert.equal(cache.size, 1);
  await clock.tick(1);
  assert.equal(cache.size, 0);
  await cache.get('k');
  assert.equal(store.gets, 2);
});

test('expiry.unused evicts entries not used within the last unused/2 interval', async (t) => {
  const { store, clock, cache } = setup(t, { unusedMs: 1000 });
  await put(store, 'idle');
  await put(store, 'busy');
  await cache.get('idle');
  await cache.get('busy');
  await clock.tick(500); // both were used since the start: kept, flags reset
  assert.equal(cache.size, 2);
  await clock.tick(200);
  await cache.get('busy');
  await clock.tick(300); // t=1000: idle untouched since t=500
  assert.equal(cache.size, 1);
  assert.deepEqual(await cache.list('', 0), { names: ['busy', 'idle'], continueAt: '' });
  await clock.tick(500); // t=1500: busy untouched since t=1000
  assert.equal(store.gets, 2);
  assert.equal(cache.size, 0);
});

test('the status probe marks the store offline; status then fails fast with UNREACHABLE', async (t) => {
  const { store, clock, cache } = setup(t);
  store.down = true;
  await clock.tick(STATUS_PROBE_MS);
  assert.equal(cache.offline, true);
  const before = store.statuses;
  await assert.rejects(cache.status(), (err: unknown) => isKeyStoreError(err, 'UNREACHABLE'));
  assert.equal(store.statuses, before);
  store.down = false;
  await clock.tick(STATUS_PROBE_MS);
  assert.equal(cache.offline, false);
  assert.deepEqual(await cache.status(), { latencyMs: 1 });
});

test('offline caching: while offline, keys keep serving and only expiry.offline clears them', async (t) => {
  const { store, clock, cache } = setup(t, { anyMs: 30_000, unusedMs: 20_000, offlineMs: 60_000 });
  const kv = await put(store, 'k');
  await cache.get('k');
  store.down = true;
  await clock.tick(10_000); // probe → offline
  assert.equal(cache.offline, true);
  await clock.tick(40_000); // t=50s: any (30s) and unused (10s steps) are paused
  assert.deepEqual(await cache.get('k'), kv);
  assert.equal(store.gets, 1);
  await clock.tick(10_000); // t=60s: offline expiry
  assert.equal(cache.size, 0);
  await assert.rejects(cache.get('k'), (err: unknown) => isKeyStoreError(err, 'UNREACHABLE'));
});

test('offline caching disabled: regular expiries continue while offline', async (t) => {
  const { store, clock, cache } = setup(t, { anyMs: 15_000 });
  await put(store, 'k');
  await cache.get('k');
  store.down = true;
  await clock.tick(10_000);
  assert.equal(cache.offline, true);
  assert.equal(cache.size, 1);
  await clock.tick(5_000);
  assert.equal(cache.size, 0);
});

test('expiry.offline does nothing while the store is online', async (t) => {
  const { store, clock, cache } = setup(t, { offlineMs: 5_000 });
  await put(store, 'k');
  await cache.get('k');
  await clock.tick(30_000);
  assert.equal(cache.offline, false);
  assert.equal(cache.size, 1);
});

test('timers ≤ 0 are not started; close stops all timers and closes the store once', async () => {
  const store = new TestStore();
  const clock = new FakeClock();
  const cache = new KeyCache(store, { anyMs: 1000, unusedMs: 0, offlineMs: -1 }, clock);
  assert.deepEqual([...clock.timers.values()].map((t) => t.ms).sort((a, b) => a - b), [1000, STATUS_PROBE_MS]);
  const full = new KeyCache(new TestStore(), { anyMs: 1, unusedMs: 4, offlineMs: 3 }, clock);
  assert.equal(clock.timers.size, 2 + 4);
  await full.close();
  await cache.close();
  await cache.close();
  assert.equal(clock.timers.size, 0);
  assert.equal(store.closes, 1);
});

test('with the system clock the timers do not keep the process alive', () => {
  const mod = (p: string) => JSON.stringify(new URL(p, import.meta.url).href);
  const script = `
    const { KeyCache } = await import(${mod('../../src/cache/key-cache.ts')});
    const { MemKeyStore } = await import(${mod('../../src/keystore/mem.ts')});
    new KeyCache(new MemKeyStore(), { anyMs: 60000, unusedMs: 60000, offlineMs: 60000 });
    console.log('started');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000, encoding: 'utf8' });
  assert.equal(r.error, undefined, 'the child did not exit by itself');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'started');
});
