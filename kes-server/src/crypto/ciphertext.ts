/**
 * Ciphertext framing (docs/protocol.md#ciphertext, #legacy-ciphertexts). The current format is `C ‖ IV ‖ N`; two legacy formats
 * (MessagePack and JSON) carry the same three parts and are normalised to it before decryption.
 */
import { decodeBase64 } from './base64.ts';
import { IV_SIZE, NONCE_SIZE } from './aead.ts';

/** Size of the `IV ‖ N` trailer of a raw ciphertext. */
export const TRAILER_SIZE = IV_SIZE + NONCE_SIZE;

const MSGPACK_ALGORITHMS = new Set(['AES256', 'AES256-GCM_SHA256', 'ChaCha20', 'XCHACHA20-POLY1305']);
const JSON_AEADS = new Set(['AES-256-GCM-HMAC-SHA-256', 'ChaCha20Poly1305']);

/** The parts of a raw ciphertext. */
interface RawParts {
  readonly sealed: Uint8Array; // ciphertext ‖ tag
  readonly iv: Uint8Array;
  readonly nonce: Uint8Array;
}

/**
 * Joins the parts into the current raw format `C ‖ IV ‖ N`. Ciphertexts are not secret: a short
 * one is joined in Buffer's shared pool instead of memory of its own (an off-heap allocation,
 * registered with and later swept by V8, for anything over 64 bytes).
 */
export function joinRaw(sealed: Uint8Array, iv: Uint8Array, nonce: Uint8Array): Uint8Array {
  return Buffer.concat([sealed, iv, nonce]);
}

/** Splits a raw ciphertext; returns `undefined` when it is not longer than the trailer (docs/protocol.md#legacy-ciphertexts). */
export function splitRaw(raw: Uint8Array): RawParts | undefined {
  if (raw.length <= TRAILER_SIZE) return undefined;
  const n = raw.length;
  return {
    sealed: raw.subarray(0, n - TRAILER_SIZE),
    iv: raw.subarray(n - TRAILER_SIZE, n - NONCE_SIZE),
    nonce: raw.subarray(n - NONCE_SIZE),
  };
}

/**
 * Converts a received ciphertext to the raw format. A legacy candidate (first byte 0x95 or `{`)
 * that does not parse is returned unchanged, because a raw ciphertext may start with either
 * byte (docs/protocol.md#legacy-ciphertexts). Never throws.
 */
export function normalizeCiphertext(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) return bytes;
  const legacy = bytes[0] === 0x95 ? parseMsgpack(bytes) : bytes[0] === 0x7b ? parseJson(bytes) : undefined;
  return legacy ? joinRaw(legacy.sealed, legacy.iv, legacy.nonce) : bytes;
}

class Reader {
  readonly #b: Uint8Array;
  #pos = 0;

  constructor(b: Uint8Array) {
    this.#b = b;
  }

  get done(): boolean {
    return this.#pos === this.#b.length;
  }

  #byte(): number {
    if (this.#pos >= this.#b.length) throw new RangeError('msgpack: truncated');
    return this.#b[this.#pos++];
  }

  #uint(size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + this.#byte();
    return v;
  }

  #take(n: number): Uint8Array {
    if (this.#b.length - this.#pos < n) throw new RangeError('msgpack: truncated');
    const out = this.#b.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** Reads a str of any width (fixstr, str8, str16, str32). */
  str(): string {
    const t = this.#byte();
    let n: number;
    if (t >= 0xa0 && t <= 0xbf) n = t & 0x1f;
    else if (t === 0xd9) n = this.#uint(1);
    else if (t === 0xda) n = this.#uint(2);
    else if (t === 0xdb) n = this.#uint(4);
    else throw new TypeError('msgpack: expected str');
    return new TextDecoder('utf-8', { fatal: true }).decode(this.#take(n));
  }

  /** Reads a bin of any width (bin8, bin16, bin32). */
  bin(): Uint8Array {
    const t = this.#byte();
    let n: number;
    if (t === 0xc4) n = this.#uint(1);
    else if (t === 0xc5) n = this.#uint(2);
    else if (t === 0xc6) n = this.#uint(4);
    else throw new TypeError('msgpack: expected bin');
    return this.#take(n);
  }

  skip(n: number): void {
    this.#take(n);
  }
}

// [algorithm: str, id: str, iv: bin(16), nonce: bin(12), bytes: bin], nothing after it (docs/protocol.md#legacy-ciphertexts).
function parseMsgpack(bytes: Uint8Array): RawParts | undefined {
  try {
    const r = new Reader(bytes);
    r.skip(1); // 0x95: fixarray of 5
    const algorithm = r.str();
    r.str(); // key id: no longer checked (docs/protocol.md#legacy-ciphertexts)
    const iv = r.bin();
    const nonce = r.bin();
    const sealed = r.bin();
    if (!r.done || !MSGPACK_ALGORITHMS.has(algorithm)) return undefined;
    if (iv.length !== IV_SIZE || nonce.length !== NONCE_SIZE) return undefined;
    return { sealed, iv, nonce };
  } catch {
    return undefined;
  }
}

// Go's encoding/json matches field names case-insensitively, preferring an exact match.
function field(obj: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : obj[key];
}

function bytesField(obj: Record<string, unknown>, name: string): Uint8Array | undefined {
  const v = field(obj, name);
  if (v === undefined || v === null) return new Uint8Array(0);
  return typeof v === 'string' ? decodeBase64(v) : undefined;
}

// {"aead": str, "id": str (optional), "iv": b64(16), "nonce": b64(12), "bytes": b64} (docs/protocol.md#legacy-ciphertexts).
function parseJson(bytes: Uint8Array): RawParts | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  const aead = field(rec, 'aead');
  const id = field(rec, 'id');
  if (typeof aead !== 'string' || !JSON_AEADS.has(aead)) return undefined;
  if (id !== undefined && id !== null && typeof id !== 'string') return undefined;
  const iv = bytesField(rec, 'iv');
  const nonce = bytesField(rec, 'nonce');
  const sealed = bytesField(rec, 'bytes');
  if (!iv || !nonce || !sealed) return undefined;
  if (iv.length !== IV_SIZE || nonce.length !== NONCE_SIZE) return undefined;
  return { sealed, iv, nonce };
}
