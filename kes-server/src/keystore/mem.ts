/**
 * In-memory keystore for `--dev` and tests (docs/protocol.md#other-keystores): a copy-on-write map, so readers see a
 * consistent snapshot without locking. Keys are lost when the process exits.
 */
import { KeyStoreError } from './errors.ts';
import { listPage, type KeyPage, type KeyStore, type KeyStoreStatus } from './keystore.ts';

/** A KeyStore held in process memory. Never fails except for exists / not-found. */
export class MemKeyStore implements KeyStore {
  #keys: ReadonlyMap<string, Uint8Array> = new Map();

  toString(): string {
    return 'mem';
  }

  /** Always reachable; reports the fixed latency of 1 ms upstream reports (docs/protocol.md#other-keystores). */
  async status(): Promise<KeyStoreStatus> {
    return { latencyMs: 1 };
  }

  /** Rejects with `KEY_EXISTS` if `name` is present. Stores a copy of `value`. */
  async create(name: string, value: Uint8Array): Promise<void> {
    if (this.#keys.has(name)) throw new KeyStoreError('KEY_EXISTS', `mem: key '${name}' already exists`);
    const next = new Map(this.#keys);
    next.set(name, Uint8Array.from(value));
    this.#keys = next;
  }

  /** Rejects with `KEY_NOT_FOUND` if `name` is absent. Returns a copy. */
  async get(name: string): Promise<Uint8Array> {
    const value = this.#keys.get(name);
    if (!value) throw new KeyStoreError('KEY_NOT_FOUND', `mem: key '${name}' does not exist`);
    return Uint8Array.from(value);
  }

  /** Rejects with `KEY_NOT_FOUND` if `name` is absent. */
  async delete(name: string): Promise<void> {
    if (!this.#keys.has(name)) throw new KeyStoreError('KEY_NOT_FOUND', `mem: key '${name}' does not exist`);
    const next = new Map(this.#keys);
    next.delete(name);
    this.#keys = next;
  }

  async list(prefix: string, n: number): Promise<KeyPage> {
    return listPage(this.#keys.keys(), prefix, n);
  }

  async close(): Promise<void> {}
}
