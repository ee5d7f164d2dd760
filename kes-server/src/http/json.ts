/**
 * JSON with Go's semantics (docs/protocol.md#response-bodies): compact output with a trailing newline and `<>&` escaped
 * as Go does; request decoding with case-insensitive field names, unknown fields ignored, only the
 * first JSON value read, and byte fields as padded standard base64.
 */
import { decodeBase64 } from '../crypto/base64.ts';
import { KesError } from '../errors.ts';

const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** `json.Encoder` output: compact JSON plus `\n`. */
export function encodeJson(value: unknown): Buffer {
  const text = JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]);
  return Buffer.from(text + '\n', 'utf8');
}

/** Thrown for any body that Go's decoder would reject; handlers map it to their wire error. */
export class BodyDecodeError extends KesError {
  constructor(message: string) {
    super(message);
  }
}

/** Decodes a JSON `[]byte` string the way Go does (crypto/base64.ts); throws BodyDecodeError otherwise. */
export function decodeBytes(text: string): Uint8Array {
  const bytes = decodeBase64(text);
  if (bytes === undefined) throw new BodyDecodeError('illegal base64 data');
  return bytes;
}

/** Go's decoder refuses values nested deeper than this (arrays and objects together). */
export const MaxNestingDepth = 10_000;

/**
 * Returns the end index (exclusive) of the JSON value starting at `start`.
 * @throws BodyDecodeError when the value is unterminated or nested deeper than MaxNestingDepth
 */
function valueEnd(text: string, start: number): number {
  const first = text[start];
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (c === '"') {
        i = stringEnd(text, i) - 1;
      } else if (c === '{' || c === '[') {
        if (++depth > MaxNestingDepth) throw new BodyDecodeError('exceeded max depth');
      } else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    throw new BodyDecodeError('unexpected end of JSON input');
  }
  if (first === '"') return stringEnd(text, start);
  let i = start;
  while (i < text.length && !/[\s,\]}{[:"]/.test(text[i])) i++;
  return i;
}

function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  throw new BodyDecodeError('unexpected end of JSON input');
}

/** Parses the first JSON value of `body`; trailing bytes are ignored, as Go's decoder does. */
export function parseFirstValue(body: Uint8Array): unknown {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  // A body that is one JSON value (the usual case) is its own first value; only a body with
  // something after its first value needs the value's end found first. A text no longer than
  // the nesting bound cannot nest deeper than it.
  if (text.length <= MaxNestingDepth) {
    try {
      return JSON.parse(text);
    } catch {
      // something follows the first value, or nothing is valid: find out below
    }
  }
  const start = text.search(/\S/);
  if (start < 0) throw new BodyDecodeError('empty body');
  const end = valueEnd(text, start);
  try {
    return JSON.parse(text.slice(start, end));
  } catch {
    throw new BodyDecodeError('malformed JSON');
  }
}

type FieldKind = 'bytes' | 'string';
type FieldValue<K extends FieldKind> = K extends 'bytes' ? Uint8Array : string;
type Decoded<S extends Record<string, FieldKind>> = { [P in keyof S]: FieldValue<S[P]> };

/**
 * Decodes a JSON object into the fields of `schema` like Go's `json.Unmarshal` into a struct:
 * keys match case-insensitively (a later duplicate wins), unknown keys are ignored whatever
 * their value, `null` or absent yields the zero value, a wrong type is an error. A bytes field
 * is base64 text or, as Go decodes into a `[]byte`, an array of integers 0..255.
 */
export function decodeFields<S extends Record<string, FieldKind>>(value: unknown, schema: S): Decoded<S> {
  const fields = fieldsOf(schema);
  const out: Record<string, Uint8Array | string> = {};
  for (const name of fields.names) out[name] = schema[name] === 'bytes' ? new Uint8Array(0) : '';
  if (value === null) return out as Decoded<S>;
  if (typeof value !== 'object' || Array.isArray(value)) throw new BodyDecodeError('body is not a JSON object');
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    // Exact names first: they are what clients send, and they need no lower-casing.
    const field = fields.exact.has(key) ? key : fields.lower.get(key.toLowerCase());
    if (field === undefined) continue;
    const raw = obj[key];
    if (raw === null) continue;
    if (schema[field] === 'bytes' && Array.isArray(raw)) out[field] = byteArray(raw, field);
    else if (typeof raw !== 'string') throw new BodyDecodeError(`field '${field}' has the wrong type`);
    else out[field] = schema[field] === 'bytes' ? decodeBytes(raw) : raw;
  }
  return out as Decoded<S>;
}

/** A JSON array as Go decodes it into `[]byte`: each element an integer 0..255, `null` as 0. */
function byteArray(values: readonly unknown[], field: string): Uint8Array {
  const out = new Uint8Array(values.length);
  values.forEach((v, i) => {
    if (v === null) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) throw new BodyDecodeError(`field '${field}' has the wrong type`);
    out[i] = v;
  });
  return out;
}

interface SchemaFields {
  readonly names: readonly string[];
  readonly exact: ReadonlySet<string>;
  /** Lower-cased name → field name. */
  readonly lower: ReadonlyMap<string, string>;
}

// Schemas are module constants of the handlers: their lookups are built once each.
const schemaFields = new WeakMap<Record<string, FieldKind>, SchemaFields>();

function fieldsOf(schema: Record<string, FieldKind>): SchemaFields {
  let f = schemaFields.get(schema);
  if (f === undefined) {
    const names = Object.keys(schema);
    f = { names, exact: new Set(names), lower: new Map(names.map((k) => [k.toLowerCase(), k] as const)) };
    schemaFields.set(schema, f);
  }
  return f;
}

/** Go `time.Time` JSON: RFC 3339 with trailing zeros of the fraction trimmed. */
export function formatTime(date: Date): string {
  if (Number.isNaN(date.getTime())) return '0001-01-01T00:00:00Z';
  const iso = date.toISOString();
  return iso.replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac === '' ? 'Z' : `.${frac}Z`));
}
