/**
 * Every argument rule, written once: the renderers, the components' validation passes and the
 * stack configuration use these. A bad argument throws a `RenderError` whose `field` names the
 * argument, so components can re-throw it as a `pulumi.ResourceError` and the stack configuration
 * can point at the config key; the text after the field is the same everywhere.
 */

/** Stable codes of `RenderError`. */
export type RenderErrorCode = 'INVALID_ARGUMENT' | 'CONFLICTING_ARGUMENTS' | 'MISSING_ARGUMENT';

/** A rejected renderer argument. The message never contains the argument's value. */
export class RenderError extends Error {
  readonly code: RenderErrorCode;
  /** Dotted path of the offending argument, e.g. `keystore.vault.version`. */
  readonly field: string;
  /** What is wrong, without the field. */
  readonly what: string;

  constructor(code: RenderErrorCode, field: string, what: string) {
    super(`invalid [${field}]: ${what}`);
    this.name = 'RenderError';
    this.code = code;
    this.field = field;
    this.what = what;
  }
}

/** `true` for `RenderError`s, also across duplicate module copies. */
export function isRenderError(e: unknown): e is RenderError {
  return e instanceof Error && e.name === 'RenderError' && typeof (e as RenderError).field === 'string';
}

// KES name grammar (docs/protocol.md#names-and-patterns): [0-9A-Za-z_-], 1..80 bytes, no leading/trailing hyphen, not "_".
const KES_NAME = /^[0-9A-Za-z_](?:[0-9A-Za-z_-]{0,78}[0-9A-Za-z_])?$/;

/** Whether `name` is a valid KES key, policy or identity name (docs/protocol.md#names-and-patterns). */
export function isKesName(name: string): boolean {
  return name !== '_' && KES_NAME.test(name);
}

/** Throws `RenderError` unless `name` is a valid KES name. */
export function requireKesName(field: string, name: string): void {
  if (!isKesName(name)) {
    throw new RenderError('INVALID_ARGUMENT', field, 'not a valid KES name ([0-9A-Za-z_-], at most 80 characters, no leading or trailing hyphen)');
  }
}

/**
 * Whether `pattern` is a valid KES list/policy pattern (docs/protocol.md#names-and-patterns): a name, optionally followed by one
 * trailing `*`; the empty string and `*` alone are valid.
 */
export function isKesPattern(pattern: string): boolean {
  if (pattern === '' || pattern === '*') return true;
  const body = pattern.endsWith('*') ? pattern.slice(0, -1) : pattern;
  if (pattern.endsWith('*')) return /^[0-9A-Za-z_-]{1,79}$/.test(body) && !body.startsWith('-');
  return isKesName(body);
}

/** Throws `RenderError` unless `value` is an integer in [min, max]. */
export function requireInt(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RenderError('INVALID_ARGUMENT', field, `must be an integer between ${min} and ${max}`);
  }
}

/** Throws `RenderError` unless `value` is a non-empty string. */
export function requireNonEmpty(field: string, value: string | undefined): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new RenderError('MISSING_ARGUMENT', field, 'must be a non-empty string');
  }
}

/** Throws `RenderError` unless `value` is one of `allowed`. */
export function requireOneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): asserts value is T {
  if (!allowed.includes(value as T)) throw new RenderError('INVALID_ARGUMENT', field, `must be one of ${allowed.join(', ')}`);
}

/** Throws `RenderError` unless `name` is an S3 bucket name (3-63 of a-z 0-9 . -, no `..`, not an IP address). */
export function requireBucketName(field: string, name: string): void {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    throw new RenderError('INVALID_ARGUMENT', field, 'not a valid S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)');
  }
}

/** Throws `RenderError` when a distributed MinIO (more than one node) has fewer than 4 drives in total. */
export function requireDistributedDrives(field: string, nodes: number, drivesPerNode: number): void {
  if (nodes > 1 && nodes * drivesPerNode < 4) throw new RenderError('INVALID_ARGUMENT', field, 'a distributed deployment needs at least 4 drives in total');
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Throws `RenderError` unless `name` is a DNS-1123 label of at most `max` characters (63 for a
 * namespace; 52 for names that get suffixes, such as a StatefulSet's pods).
 */
export function requireDnsLabel(field: string, name: string | undefined, max = 52): void {
  if (typeof name !== 'string' || !DNS_LABEL.test(name) || name.length > max) {
    throw new RenderError('INVALID_ARGUMENT', field, `must be a lower-case DNS label of at most ${max} characters`);
  }
}

/** Throws `RenderError` unless `prefix` can start every container, Kubernetes object and Vault role name. */
export function requireNamePrefix(field: string, prefix: string): void {
  if (!/^[a-z][a-z0-9-]{0,28}[a-z0-9]$/.test(prefix)) {
    throw new RenderError('INVALID_ARGUMENT', field, 'must be 2-30 lower-case letters, digits and hyphens, starting with a letter');
  }
}

/** Throws `RenderError` unless `url` is an http(s) URL. */
export function requireHttpUrl(field: string, url: string): void {
  if (typeof url !== 'string' || !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(url)) throw new RenderError('INVALID_ARGUMENT', field, 'must be an http(s) URL');
}

/** Throws `RenderError` unless `url` is an http(s) URL a shell can carry in single quotes (no quotes, spaces or backslashes). */
export function requireDownloadUrl(field: string, url: string): void {
  if (typeof url !== 'string' || !/^https?:\/\/[^\s/'"\\]+(\/[^\s'"\\]*)?$/.test(url)) throw new RenderError('INVALID_ARGUMENT', field, 'must be an http(s) URL without quotes, spaces or backslashes');
}

/** Throws `RenderError` unless `hex` is a SHA-256 in lower-case hex. */
export function requireSha256(field: string, hex: string): void {
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) throw new RenderError('INVALID_ARGUMENT', field, 'must be a hex SHA-256 (64 lower-case hex digits)');
}

/** Throws `RenderError` unless `path` is an absolute path of [A-Za-z0-9._/-] (safe in a shell script and a unit file). */
export function requireAbsolutePath(field: string, path: string): void {
  if (typeof path !== 'string' || !/^\/[A-Za-z0-9._/-]+$/.test(path)) throw new RenderError('INVALID_ARGUMENT', field, 'must be an absolute path of [A-Za-z0-9._/-]');
}

/** Throws `RenderError` unless `port` is an unprivileged TCP port. */
export function requirePort(field: string, port: number): void {
  requireInt(field, port, 1024, 65535);
}

/** Throws `RenderError` unless `value` is given (an Input may still be unknown, but not absent). */
export function requirePresent(field: string, value: unknown, what: string): void {
  if (value === undefined || value === null || value === '') throw new RenderError('MISSING_ARGUMENT', field, what);
}

/** Throws `RenderError` unless `path` is a Vault mount path (segments of [A-Za-z0-9_.-], no leading or trailing `/`). */
export function requireVaultPath(field: string, path: string): void {
  if (typeof path !== 'string' || !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(path)) {
    throw new RenderError('INVALID_ARGUMENT', field, 'must be a Vault path of [A-Za-z0-9_.-] segments, without leading or trailing /');
  }
}

/** Throws `RenderError` unless `name` is a Vault role or policy name. */
export function requireVaultName(field: string, name: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(name)) throw new RenderError('INVALID_ARGUMENT', field, 'must be 1-128 of [A-Za-z0-9_.-]');
}

/** Throws `RenderError` unless `list` has at least one element. */
export function requireNonEmptyList(field: string, list: readonly unknown[] | undefined, what: string): void {
  if (!Array.isArray(list) || list.length === 0) throw new RenderError('MISSING_ARGUMENT', field, what);
}

/** Runs `check` on a nested argument: a `RenderError` it throws names `<prefix>.<field>`. */
export function within(prefix: string, check: () => void): void {
  try {
    check();
  } catch (e) {
    if (isRenderError(e)) throw new RenderError(e.code, `${prefix}.${e.field}`, e.what);
    throw e;
  }
}

/** Keys of `obj` sorted, for deterministic output. */
export function sortedRecord<T>(obj: Readonly<Record<string, T>>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(obj).sort()) out[k] = obj[k];
  return out;
}
