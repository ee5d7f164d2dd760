/**
 * Stand-ins for values only a provider knows once it has created a resource (a role id, an image
 * id). At capture time each such output is a unique token; when the resource is realized the
 * token is replaced by the real value everywhere it flowed, also inside strings built from it.
 */
import { randomBytes } from 'node:crypto';

const PATTERN = /__realize_[0-9a-f]{8}_\d+__/g;

/** Makes tokens for one capture; `origin` says which resource and output field each stands for. */
export function tokenMaker(): { make(resource: string, field: string): string; origin: Record<string, { resource: string; field: string }> } {
  const nonce = randomBytes(4).toString('hex');
  const origin: Record<string, { resource: string; field: string }> = {};
  let n = 0;
  return {
    make(resource, field) {
      const token = `__realize_${nonce}_${n++}__`;
      origin[token] = { resource, field };
      return token;
    },
    origin,
  };
}

/** `value` with every known token replaced by its real value (strings, arrays and objects, deeply). */
export function substitute(value: unknown, known: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return value.replace(PATTERN, (t) => known.get(t) ?? t);
  if (Array.isArray(value)) return value.map((v) => substitute(v, known));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, known)]));
  return value;
}

/** The tokens still left in `value`. */
export function tokensIn(value: unknown): string[] {
  return [...JSON.stringify(value ?? null).matchAll(PATTERN)].map((m) => m[0]);
}
