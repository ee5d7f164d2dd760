/**
 * Argument checks shared by the renderers. A renderer never guesses: a bad argument throws a
 * `RenderError` whose `field` names the argument, so components can re-throw it as a
 * `pulumi.ResourceError` and stack config validation can point at the config key.
 */

/** Stable codes of `RenderError`. */
export type RenderErrorCode = 'INVALID_ARGUMENT' | 'CONFLICTING_ARGUMENTS' | 'MISSING_ARGUMENT';

/** A rejected renderer argument. The message never contains the argument's value. */
export class RenderError extends Error {
  readonly code: RenderErrorCode;
  /** Dotted path of the offending argument, e.g. `keystore.vault.version`. */
  readonly field: string;

  constructor(code: RenderErrorCode, field: string, what: string) {
    super(`invalid [${field}]: ${what}`);
    this.name = 'RenderError';
    this.code = code;
    this.field = field;
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

/** Keys of `obj` sorted, for deterministic output. */
export function sortedRecord<T>(obj: Readonly<Record<string, T>>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(obj).sort()) out[k] = obj[k];
  return out;
}
