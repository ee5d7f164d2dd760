import { posix } from 'node:path';

/**
 * POSIX path join with cleaning, as the Vault keystore builds its locations (docs/protocol.md#vault-layout): empty
 * parts vanish, duplicate slashes collapse, `.`/`..` are resolved. The result has no leading or
 * trailing slash, e.g. `joinPath('kv', 'data', '', 'k1')` is `kv/data/k1`.
 */
export function joinPath(...parts: string[]): string {
  const joined = posix.join('/', ...parts.filter((p) => p !== ''));
  return joined.replace(/^\/+/, '').replace(/\/+$/, '');
}

/**
 * True when `name` can be used as the last segment of a Vault path without escaping the
 * configured prefix: not empty, no path separator, not `.` or `..`, no control characters.
 */
export function isSafeKeyName(name: string): boolean {
  return (
    name !== '' &&
    name !== '.' &&
    name !== '..' &&
    !name.includes('/') &&
    !name.includes('\\') &&
    !/[\u0000-\u001f\u007f]/.test(name)
  );
}

/** Encodes each segment of a Vault path for use in a URL. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}
