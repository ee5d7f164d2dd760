/**
 * The keystore contract: bytes in, bytes out. Backends store the opaque storage text of a key
 * (see crypto/stored-key.ts) under its name and know nothing about key formats. Caching,
 * single flight, metrics and offline handling are decorators around this interface.
 */

/** Compares strings by their UTF-8 bytes, the order of every listing (docs/protocol.md#other-keystores). */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * The listing contract every keystore answers `list` with: the names starting with `prefix`,
 * in byte order, at most `n` when `n > 0`; `continueAt` is the first name left out, or "".
 */
export function listPage(names: Iterable<string>, prefix: string, n: number): KeyPage {
  const matching = [...names].filter((name) => name.startsWith(prefix)).sort(byteOrder);
  if (n <= 0 || matching.length <= n) return { names: matching, continueAt: '' };
  return { names: matching.slice(0, n), continueAt: matching[n] };
}

/** Result of a successful health probe. */
export interface KeyStoreStatus {
  /** Duration of the probe in milliseconds. */
  readonly latencyMs: number;
}

/** One page of key names, in byte order. `continueAt` is "" when there is nothing more. */
export interface KeyPage {
  readonly names: string[];
  readonly continueAt: string;
}

export interface KeyStore {
  /** Short description for logs and status, e.g. `fs: /var/lib/kes` (never a secret). */
  toString(): string;
  /**
   * Probes the backend. Resolves with the probe latency; rejects with a KeyStoreError whose code
   * is `UNREACHABLE` (network down, sealed, timed out) or `UNAVAILABLE` (any other failure).
   */
  status(signal?: AbortSignal): Promise<KeyStoreStatus>;
  /** Stores `value` under `name`. Never overwrites: rejects with code `KEY_EXISTS` if present. */
  create(name: string, value: Uint8Array): Promise<void>;
  /** Returns the stored value. Rejects with code `KEY_NOT_FOUND` if absent. */
  get(name: string): Promise<Uint8Array>;
  /** Removes `name`. Rejects with `KEY_NOT_FOUND` if absent (a backend may document otherwise). */
  delete(name: string): Promise<void>;
  /**
   * Lists names starting with `prefix`: the page `listPage` makes of the stored names (byte
   * order, at most `n` when `n > 0`, all when `n <= 0`, `continueAt` the first name left out).
   */
  list(prefix: string, n: number): Promise<KeyPage>;
  /** Releases timers, connections and renewal loops. Idempotent. */
  close(): Promise<void>;
}
