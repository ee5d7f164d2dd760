/**
 * Filesystem keystore (docs/protocol.md#config-keystore, #other-keystores): one file per key, named after the key, holding the
 * storage text. Creation is atomic and never overwrites, even with several processes sharing
 * the directory: the value is written to a temporary file, synced, and then hard-linked to its
 * final name; `link` fails if that name exists.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode } from '../errors.ts';
import { KeyStoreError } from './errors.ts';
import { listPage, type KeyPage, type KeyStore, type KeyStoreStatus } from './keystore.ts';

/** Values larger than this are not read (a key's storage text is about 200 bytes). */
export const MAX_VALUE_SIZE = 1 << 20;

// Temporary files start with a dot, which no valid key name contains, so listings skip them.
const TEMP_PREFIX = '.kes-tmp-';

function failed(what: string, err: unknown): KeyStoreError {
  return new KeyStoreError('FAILED', `fs: failed to ${what}: ${errorCode(err) ?? 'error'}`, { cause: err });
}

/** A KeyStore in one local directory. */
export class FsKeyStore implements KeyStore {
  readonly #dir: string;

  /** Does not touch the disk; the directory is created on first write. See also `open`. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * Creates `dir` (mode 0755, with parents) if missing and returns a store on it.
   * Throws a `KeyStoreError` with code `FAILED` if the directory cannot be created.
   */
  static async open(dir: string): Promise<FsKeyStore> {
    const store = new FsKeyStore(dir);
    await store.#ensureDir();
    return store;
  }

  toString(): string {
    return `fs: ${this.#dir}`;
  }

  async #ensureDir(): Promise<void> {
    try {
      await mkdir(this.#dir, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw failed(`create directory '${this.#dir}'`, err);
    }
  }

  #path(name: string): string {
    // Upstream `validName`: a name must be a plain file name inside the directory.
    if (name === '' || /[/\\.\0]/.test(name)) {
      throw new KeyStoreError('INVALID_NAME', `fs: invalid key name '${name.replace(/[^\x20-\x7e]/g, '?')}'`);
    }
    return join(this.#dir, name);
  }

  async #syncDir(): Promise<void> {
    // Makes the new or removed directory entry durable; not possible on every platform.
    try {
      const handle = await open(this.#dir, constants.O_RDONLY);
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch {
      // Directory fsync is best effort (e.g. EISDIR/EPERM on some systems).
    }
  }

  /** Probes with a `stat` of the directory. Rejects with code `UNAVAILABLE` on failure. */
  async status(): Promise<KeyStoreStatus> {
    const start = performance.now();
    try {
      const s = await stat(this.#dir);
      if (!s.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    } catch (err) {
      throw new KeyStoreError('UNAVAILABLE', `fs: failed to stat '${this.#dir}': ${errorCode(err) ?? 'error'}`, { cause: err });
    }
    return { latencyMs: performance.now() - start };
  }

  /**
   * Writes `value` to a new file `name` (mode 0600). Rejects with `KEY_EXISTS` if the file exists,
   * `INVALID_NAME` for names with `/`, `\`, `.` or empty, `FAILED` for I/O errors.
   */
  async create(name: string, value: Uint8Array): Promise<void> {
    const path = this.#path(name);
    await this.#ensureDir();
    const temp = join(this.#dir, TEMP_PREFIX + randomBytes(12).toString('hex'));
    let linking = false;
    try {
      const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        await handle.chmod(0o600); // the umask may have narrowed it further; be exact
        await handle.writeFile(value);
        await handle.sync();
      } finally {
        await handle.close();
      }
      linking = true;
      await link(temp, path);
    } catch (err) {
      if (linking && errorCode(err) === 'EEXIST') throw new KeyStoreError('KEY_EXISTS', `fs: key '${name}' already exists`);
      throw failed(`create key '${name}'`, err);
    } finally {
      await unlink(temp).catch(() => {});
    }
    await this.#syncDir();
  }

  /**
   * Reads file `name`. Rejects with `KEY_NOT_FOUND` if absent, `INVALID_NAME` for bad names,
   * `FAILED` for I/O errors or a value over 1 MiB.
   */
  async get(name: string): Promise<Uint8Array> {
    const path = this.#path(name);
    let handle;
    try {
      handle = await open(path, constants.O_RDONLY);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') throw new KeyStoreError('KEY_NOT_FOUND', `fs: key '${name}' does not exist`);
      throw failed(`read key '${name}'`, err);
    }
    try {
      const buf = Buffer.alloc(MAX_VALUE_SIZE + 1);
      let size = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buf, size, buf.length - size, null);
        if (bytesRead === 0) break;
        size += bytesRead;
        if (size > MAX_VALUE_SIZE) throw new KeyStoreError('FAILED', `fs: key '${name}' is larger than 1 MiB`);
      }
      return new Uint8Array(buf.subarray(0, size));
    } catch (err) {
      if (err instanceof KeyStoreError) throw err;
      throw failed(`read key '${name}'`, err);
    } finally {
      await handle.close();
    }
  }

  /** Removes file `name`. Rejects with `KEY_NOT_FOUND` if absent, `FAILED` for I/O errors. */
  async delete(name: string): Promise<void> {
    const path = this.#path(name);
    try {
      await unlink(path);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') throw new KeyStoreError('KEY_NOT_FOUND', `fs: key '${name}' does not exist`);
      throw failed(`delete key '${name}'`, err);
    }
    await this.#syncDir();
  }

  /**
   * Lists regular files whose names are valid key names (temporary files are skipped). A missing
   * directory lists as empty; other I/O errors reject with code `FAILED`.
   */
  async list(prefix: string, n: number): Promise<KeyPage> {
    let entries;
    try {
      entries = await readdir(this.#dir, { withFileTypes: true });
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return { names: [], continueAt: '' };
      throw failed(`list '${this.#dir}'`, err);
    }
    const names = entries.filter((e) => e.isFile() && !/[.\\]/.test(e.name)).map((e) => e.name);
    return listPage(names, prefix, n);
  }

  async close(): Promise<void> {}
}
