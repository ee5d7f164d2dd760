/**
 * In-memory cache of parsed key versions in front of a KeyStore (docs/protocol.md#key-cache). Reads are a lookup in
 * a copy-on-write map; a miss fetches the key once per name however many requests wait for it.
 * Four interval timers expire entries and track whether the store is reachable ("offline").
 */
import { systemClock, type Clock, type Repeat } from '../clock.ts';
import { encodeKeyVersion, parseKeyVersion } from '../crypto/stored-key.ts';
import type { KeyVersion } from '../crypto/key.ts';
import { KeyStoreError } from '../keystore/errors.ts';
import type { KeyPage, KeyStore, KeyStoreStatus } from '../keystore/keystore.ts';

/** Expiry settings (config `cache.expiry`, docs/protocol.md#config-cache). An interval ≤ 0 disables its timer. */
export interface CacheExpiry {
  readonly anyMs: number;
  readonly unusedMs: number;
  readonly offlineMs: number;
}

/** Interval of the background key-store probe that decides online/offline (docs/protocol.md#key-cache). */
export const STATUS_PROBE_MS = 10_000;

interface Entry {
  readonly kv: KeyVersion;
  used: boolean;
}

/** A caching decorator over a KeyStore that speaks parsed KeyVersions. */
export class KeyCache {
  readonly #store: KeyStore;
  readonly #expiry: CacheExpiry;
  readonly #clock: Clock;
  readonly #timers: Repeat[] = [];
  readonly #inflight = new Map<string, Promise<KeyVersion>>();
  readonly #closing = new AbortController();
  #entries: ReadonlyMap<string, Entry> = new Map();
  // Bumped by every eviction so that a fetch which started before it does not re-insert a stale key.
  #epoch = 0;
  #offline = false;
  #probing = false;
  #closed = false;

  /** Starts the expiry and probe timers; `close()` stops them. */
  constructor(store: KeyStore, expiry: CacheExpiry, clock: Clock = systemClock) {
    this.#store = store;
    this.#expiry = expiry;
    this.#clock = clock;
    this.#every(expiry.anyMs, () => this.#expireAny());
    this.#every(expiry.unusedMs > 0 ? Math.max(1, Math.floor(expiry.unusedMs / 2)) : 0, () => this.#expireUnused());
    this.#every(expiry.offlineMs, () => this.#expireOffline());
    this.#every(STATUS_PROBE_MS, () => void this.#probe());
  }

  toString(): string {
    return this.#store.toString();
  }

  /** True while the last background probe of the store failed. */
  get offline(): boolean {
    return this.#offline;
  }

  /** Number of cached keys. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Returns the parsed key `name`, from the cache or (once per name, however many callers) from
   * the store. Rejects with the store's KeyStoreError (e.g. `KEY_NOT_FOUND`, never cached) or an
   * `InvalidKeyError` for a stored value that cannot be parsed.
   */
  get(name: string): Promise<KeyVersion> {
    const entry = this.#entries.get(name);
    if (entry) {
      entry.used = true;
      return Promise.resolve(entry.kv);
    }
    const inflight = this.#inflight.get(name);
    if (inflight) return inflight;
    const pending: Promise<KeyVersion> = this.#fetch(name).finally(() => {
      if (this.#inflight.get(name) === pending) this.#inflight.delete(name);
    });
    this.#inflight.set(name, pending);
    return pending;
  }

  async #fetch(name: string): Promise<KeyVersion> {
    const epoch = this.#epoch;
    const kv = parseKeyVersion(await this.#store.get(name));
    if (epoch === this.#epoch && !this.#closed) {
      const next = new Map(this.#entries);
      next.set(name, { kv, used: true });
      this.#entries = next;
    }
    return kv;
  }

  /**
   * Stores `kv` under `name` (write-through; the cache is not populated, docs/protocol.md#key-cache). Rejects with the
   * store's KeyStoreError (`KEY_EXISTS`, …) or an `InvalidKeyError` for a key without HMAC key.
   */
  async create(name: string, kv: KeyVersion): Promise<void> {
    await this.#store.create(name, encodeKeyVersion(kv));
  }

  /**
   * Deletes `name` from the store and evicts it. The eviction happens even when the store fails
   * (e.g. already deleted through another node), so a deleted key is never served from here.
   */
  async delete(name: string): Promise<void> {
    try {
      await this.#store.delete(name);
    } finally {
      this.evict(name);
    }
  }

  /**
   * Drops `name` from the cache without touching the store (used when the key was deleted
   * through another worker). A fetch of it that is under way does not re-insert it, and later
   * readers do not join that fetch: they ask the store anew.
   */
  evict(name: string): void {
    this.#inflight.delete(name);
    this.#evict((n) => n === name);
  }

  /** Pass-through to the store's `list`. */
  list(prefix: string, n: number): Promise<KeyPage> {
    return this.#store.list(prefix, n);
  }

  /**
   * Pass-through to the store's `status`, except that it rejects with code `UNREACHABLE` without
   * asking the store while the background probe considers the store offline.
   */
  status(signal?: AbortSignal): Promise<KeyStoreStatus> {
    if (this.#offline) {
      return Promise.reject(new KeyStoreError('UNREACHABLE', `cache: key store ${this.#store} is offline`));
    }
    return this.#store.status(signal);
  }

  /** Stops all timers, drops the cached keys and closes the underlying store. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) t.stop();
    this.#closing.abort();
    this.#evict(() => true);
    await this.#store.close();
  }

  #every(ms: number, fn: () => void): void {
    if (ms > 0) this.#timers.push(this.#clock.every(ms, fn));
  }

  #evict(drop: (name: string, entry: Entry) => boolean): void {
    this.#epoch++;
    const next = new Map<string, Entry>();
    for (const [name, entry] of this.#entries) if (!drop(name, entry)) next.set(name, entry);
    this.#entries = next;
  }

  // While the store is offline and offline caching is on, the regular expiries pause (docs/protocol.md#key-cache).
  #regularExpiryActive(): boolean {
    return !this.#offline || this.#expiry.offlineMs <= 0;
  }

  #expireAny(): void {
    if (this.#regularExpiryActive()) this.#evict(() => true);
  }

  // An entry survives only if it was used since the previous run: lifetime unused/2 … unused.
  #expireUnused(): void {
    if (!this.#regularExpiryActive()) return;
    const survivors = new Map<string, Entry>();
    for (const [name, entry] of this.#entries) if (entry.used) survivors.set(name, entry);
    for (const entry of survivors.values()) entry.used = false;
    if (survivors.size !== this.#entries.size) {
      this.#epoch++;
      this.#entries = survivors;
    }
  }

  #expireOffline(): void {
    if (this.#offline && this.#expiry.offlineMs > 0) this.#evict(() => true);
  }

  async #probe(): Promise<void> {
    if (this.#probing || this.#closed) return;
    this.#probing = true;
    try {
      const signal = AbortSignal.any([this.#closing.signal, AbortSignal.timeout(STATUS_PROBE_MS)]);
      await this.#store.status(signal);
      this.#offline = false;
    } catch {
      // Cancellation by close() says nothing about the store (docs/protocol.md#key-cache).
      if (!this.#closing.signal.aborted) this.#offline = true;
    } finally {
      this.#probing = false;
    }
  }
}
