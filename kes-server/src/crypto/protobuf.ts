/**
 * The few protobuf wire-format primitives the stored key format needs (docs/protocol.md#stored-keys): varints,
 * length-delimited fields and skipping of unknown fields. Not a general protobuf library.
 */
import { KesError } from '../errors.ts';

/** Wire types used here. */
export const VARINT = 0;
const I64 = 1;
export const LEN = 2;
const I32 = 5;

/** Appends protobuf fields to a growing buffer. */
export class ProtoWriter {
  readonly #parts: number[] = [];

  #varint(value: bigint): void {
    // Negative int64 values are encoded as their 64-bit two's complement (10 bytes).
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) {
      this.#parts.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#parts.push(Number(v));
  }

  #tag(field: number, wireType: number): void {
    this.#varint(BigInt((field << 3) | wireType));
  }

  /** Writes a varint field; proto3 omits zero values, so `0` writes nothing. */
  varint(field: number, value: bigint | number): this {
    const v = BigInt(value);
    if (v === 0n) return this;
    this.#tag(field, VARINT);
    this.#varint(v);
    return this;
  }

  /** Writes a length-delimited field (bytes, string or embedded message); empty → nothing. */
  bytes(field: number, value: Uint8Array | string): this {
    const b = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    if (b.length === 0) return this;
    this.#tag(field, LEN);
    this.#varint(BigInt(b.length));
    for (const x of b) this.#parts.push(x);
    return this;
  }

  /** Writes an embedded message even when it is empty (presence matters for messages). */
  message(field: number, value: Uint8Array): this {
    this.#tag(field, LEN);
    this.#varint(BigInt(value.length));
    for (const x of value) this.#parts.push(x);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.#parts);
  }
}

/** One decoded field. `value` is a bigint for varint/fixed fields, bytes for LEN fields. */
type ProtoField =
  | { readonly field: number; readonly wireType: typeof VARINT | typeof I64 | typeof I32; readonly value: bigint }
  | { readonly field: number; readonly wireType: typeof LEN; readonly value: Uint8Array };

/** Thrown for input that is not a well-formed protobuf message. */
class ProtoError extends KesError {
  constructor(message: string) {
    super(`protobuf: ${message}`);
  }
}

function readVarint(b: Uint8Array, pos: { i: number }): bigint {
  let v = 0n;
  for (let shift = 0n; shift < 70n; shift += 7n) {
    if (pos.i >= b.length) throw new ProtoError('truncated varint');
    const x = b[pos.i++];
    v |= BigInt(x & 0x7f) << shift;
    if ((x & 0x80) === 0) return BigInt.asUintN(64, v);
  }
  throw new ProtoError('varint too long');
}

function readFixed(b: Uint8Array, pos: { i: number }, size: number): bigint {
  if (b.length - pos.i < size) throw new ProtoError('truncated fixed field');
  let v = 0n;
  for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[pos.i + k]);
  pos.i += size;
  return v;
}

/** Decodes all fields of a message in order. Throws `ProtoError` on malformed input. */
export function decodeFields(b: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  const pos = { i: 0 };
  while (pos.i < b.length) {
    const tag = readVarint(b, pos);
    const field = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (field === 0 || tag >> 3n > 0x1fffffffn) throw new ProtoError('invalid field number');
    if (wireType === VARINT) fields.push({ field, wireType, value: readVarint(b, pos) });
    else if (wireType === I64) fields.push({ field, wireType, value: readFixed(b, pos, 8) });
    else if (wireType === I32) fields.push({ field, wireType, value: readFixed(b, pos, 4) });
    else if (wireType === LEN) {
      const n = readVarint(b, pos);
      if (n > BigInt(b.length - pos.i)) throw new ProtoError('truncated length-delimited field');
      fields.push({ field, wireType, value: b.subarray(pos.i, pos.i + Number(n)) });
      pos.i += Number(n);
    } else throw new ProtoError(`unsupported wire type ${wireType}`);
  }
  return fields;
}
