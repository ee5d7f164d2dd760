/**
 * The storage encoding of a key version (docs/protocol.md#stored-keys). Written: base64 of a protobuf
 * `KeyVersion`. Read: that, or the legacy JSON object of older servers (never written).
 */
import { KesError } from '../errors.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';
import type { Cipher, KeyVersion } from './key.ts';
import { KEY_SIZE } from './key.ts';
import { LEN, ProtoWriter, VARINT, decodeFields } from './protobuf.ts';

/** Go's zero `time.Time` (0001-01-01T00:00:00Z): `created_at` of legacy keys without one. */
export const ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z');

const TYPE_IDS: Record<Cipher, number> = { AES256: 1, ChaCha20: 2 };
const SHA256_ID = 1;

/** The stored value is not a key version this server can read. Never includes key bytes. */
export class InvalidKeyError extends KesError {
  readonly code = 'INVALID_STORED_KEY';

  constructor(message: string, options?: ErrorOptions) {
    super(`crypto: invalid stored key: ${message}`, options);
  }
}

/**
 * Encodes a key version as its storage text (ASCII bytes). Sub-millisecond precision of
 * `createdAt` does not exist in a Date and is written as zero. Throws `InvalidKeyError` for a
 * key without HMAC key (legacy keys cannot be re-encoded, docs/protocol.md#stored-keys) or with wrong key sizes.
 */
export function encodeKeyVersion(kv: KeyVersion): Uint8Array {
  if (!kv.hmacKey) throw new InvalidKeyError('a key without HMAC key cannot be encoded');
  if (kv.key.length !== KEY_SIZE || kv.hmacKey.length !== KEY_SIZE) {
    throw new InvalidKeyError('master and HMAC keys must be 32 bytes');
  }
  const ms = kv.createdAt.getTime();
  if (!Number.isFinite(ms)) throw new InvalidKeyError('created_at is not a valid time');
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms - seconds * 1000) * 1_000_000;
  const secret = new ProtoWriter().bytes(1, kv.key).varint(2, TYPE_IDS[kv.cipher]).finish();
  const hmacKey = new ProtoWriter().bytes(1, kv.hmacKey).varint(2, SHA256_ID).finish();
  const timestamp = new ProtoWriter().varint(1, seconds).varint(2, nanos).finish();
  const msg = new ProtoWriter()
    .message(1, secret)
    .message(2, hmacKey)
    .message(3, timestamp)
    .bytes(4, kv.createdBy)
    .finish();
  return new TextEncoder().encode(encodeBase64(msg));
}

/**
 * Parses a stored value: legacy JSON if the bytes are valid JSON, else base64 protobuf (docs/protocol.md#stored-keys).
 * Throws `InvalidKeyError` for anything else, or for wrong sizes, types or hash ids.
 */
export function parseKeyVersion(bytes: Uint8Array): KeyVersion {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new InvalidKeyError('not UTF-8 text', { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return parseProtobuf(text);
  }
  return parseLegacyJson(json);
}

// Fields of embedded messages that occur more than once are merged by protobuf; concatenating
// their encodings and decoding once has exactly that effect.
function collect(msg: Uint8Array): Map<number, { varint?: bigint; bytes: Uint8Array[] }> {
  const out = new Map<number, { varint?: bigint; bytes: Uint8Array[] }>();
  for (const f of decodeFields(msg)) {
    const slot = out.get(f.field) ?? { bytes: [] };
    if (f.wireType === VARINT) slot.varint = f.value;
    else if (f.wireType === LEN) slot.bytes.push(f.value);
    out.set(f.field, slot);
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => Array.from(p)));
}

function last(parts: Uint8Array[] | undefined): Uint8Array {
  return parts && parts.length > 0 ? parts[parts.length - 1] : new Uint8Array(0);
}

function parseProtobuf(text: string): KeyVersion {
  const raw = decodeBase64(text);
  if (!raw) throw new InvalidKeyError('neither JSON nor base64');
  try {
    const top = collect(raw);
    const secret = collect(concat(top.get(1)?.bytes ?? []));
    const hmacKey = collect(concat(top.get(2)?.bytes ?? []));
    const ts = collect(concat(top.get(3)?.bytes ?? []));
    const key = Uint8Array.from(last(secret.get(1)?.bytes));
    const type = secret.get(2)?.varint ?? 0n;
    const hk = Uint8Array.from(last(hmacKey.get(1)?.bytes));
    const hash = hmacKey.get(2)?.varint ?? 0n;
    if (key.length !== KEY_SIZE) throw new InvalidKeyError('master key is not 32 bytes');
    if (type !== 1n && type !== 2n) throw new InvalidKeyError('unknown key type');
    if (hk.length !== KEY_SIZE) throw new InvalidKeyError('HMAC key is not 32 bytes');
    if (hash !== BigInt(SHA256_ID)) throw new InvalidKeyError('unknown HMAC hash');
    const seconds = BigInt.asIntN(64, ts.get(1)?.varint ?? 0n);
    const nanos = BigInt.asIntN(32, ts.get(2)?.varint ?? 0n);
    if (nanos < 0n || nanos > 999_999_999n) throw new InvalidKeyError('invalid created_at');
    const createdAt = new Date(Number(seconds) * 1000 + Math.floor(Number(nanos) / 1_000_000));
    if (Number.isNaN(createdAt.getTime())) throw new InvalidKeyError('invalid created_at');
    const createdBy = new TextDecoder('utf-8', { fatal: true }).decode(last(top.get(4)?.bytes));
    const cipher: Cipher = type === 1n ? 'AES256' : 'ChaCha20';
    return { key, cipher, hmacKey: hk, createdAt, createdBy };
  } catch (err) {
    if (err instanceof InvalidKeyError) throw err;
    throw new InvalidKeyError('malformed protobuf', { cause: err });
  }
}

const LEGACY_ALGORITHMS: Record<string, Cipher> = {
  '': 'AES256',
  AES256: 'AES256',
  'AES256-GCM_SHA256': 'AES256',
  ChaCha20: 'ChaCha20',
  'XCHACHA20-POLY1305': 'ChaCha20',
};

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

// Go's encoding/json matches field names case-insensitively, preferring an exact match.
function field(obj: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : obj[key];
}

function optionalString(obj: Record<string, unknown>, name: string): string {
  const v = field(obj, name);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new InvalidKeyError(`legacy field ${name} is not a string`);
  return v;
}

// {"bytes": b64(32), "algorithm": str, "created_at": RFC 3339, "created_by": str} (docs/protocol.md#stored-keys).
function parseLegacyJson(json: unknown): KeyVersion {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidKeyError('legacy JSON value is not an object');
  }
  const obj = json as Record<string, unknown>;
  const key = decodeBase64(optionalString(obj, 'bytes'));
  if (!key || key.length !== KEY_SIZE) throw new InvalidKeyError('legacy master key is not 32 bytes');
  const algorithm = optionalString(obj, 'algorithm');
  const cipher = Object.hasOwn(LEGACY_ALGORITHMS, algorithm) ? LEGACY_ALGORITHMS[algorithm] : undefined;
  if (!cipher) throw new InvalidKeyError('unknown legacy algorithm');
  const created = optionalString(obj, 'created_at');
  let createdAt = new Date(ZERO_TIME_MS);
  if (created !== '') {
    createdAt = new Date(created.toUpperCase());
    if (!RFC3339.test(created) || Number.isNaN(createdAt.getTime())) {
      throw new InvalidKeyError('legacy created_at is not an RFC 3339 time');
    }
  }
  return { key, cipher, createdAt, createdBy: optionalString(obj, 'created_by') };
}
