/**
 * A minimal DER (X.690 distinguished encoding rules) reader and writer: just enough to slice
 * elements out of X.509 certificates and to build certificates in `x509.ts`.
 */
import { KesError } from '../errors.ts';

/** Thrown for truncated or malformed DER input. */
export class DerError extends KesError {
  readonly code = 'MALFORMED_DER';

  constructor(message: string) {
    super(`der: ${message}`);
  }
}

/** Universal and context tags used by X.509. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One decoded element: `start..end` is the whole TLV, `contentStart..end` its value. */
interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/**
 * Reads the TLV starting at `offset` within `buf[offset..limit)`. Only single-byte tags and
 * definite lengths exist in DER. Throws `DerError` on anything else or on truncation.
 */
export function readTlv(buf: Uint8Array, offset: number, limit: number = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated element header');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  let pos = offset + 1;
  const first = buf[pos++];
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const n = first & 0x7f;
    if (n === 0) throw new DerError('indefinite length is not allowed in DER');
    if (n > 4) throw new DerError('element length is too large');
    if (pos + n > limit) throw new DerError('truncated element length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[pos++];
    if (length < 0x80 || (n > 1 && buf[pos - n] === 0)) {
      throw new DerError('non-minimal length encoding');
    }
  }
  const end = pos + length;
  if (end > limit) throw new DerError('truncated element value');
  return { tag, start: offset, contentStart: pos, end };
}

/** The child elements of a constructed element, in order. */
export function childrenOf(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let pos = parent.contentStart;
  while (pos < parent.end) {
    const child = readTlv(buf, pos, parent.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

/** Reads exactly one element covering all of `buf` (trailing bytes are an error). */
export function readSingle(buf: Uint8Array): Tlv {
  const tlv = readTlv(buf, 0);
  if (tlv.end !== buf.length) throw new DerError('trailing data after element');
  return tlv;
}

function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (tlv === undefined) throw new DerError(`missing ${what}`);
  if (tlv.tag !== tag) throw new DerError(`unexpected tag 0x${tlv.tag.toString(16)} for ${what}`);
  return tlv;
}

/** The parts of a certificate's TBSCertificate that callers need, as raw TLVs. */
interface TbsParts {
  readonly tbs: Tlv;
  readonly serial: Tlv;
  readonly issuer: Tlv;
  readonly subject: Tlv;
  readonly subjectPublicKeyInfo: Tlv;
}

/**
 * Walks Certificate → tbsCertificate → [0] version (optional), serialNumber, signature,
 * issuer, validity, subject, subjectPublicKeyInfo (RFC 5280 §4.1).
 */
export function tbsPartsOf(certDer: Uint8Array): TbsParts {
  const cert = expectTag(readSingle(certDer), Tag.SEQUENCE, 'Certificate');
  const tbs = expectTag(readTlv(certDer, cert.contentStart, cert.end), Tag.SEQUENCE, 'TBSCertificate');
  const fields = childrenOf(certDer, tbs);
  let i = 0;
  if (fields[0]?.tag === 0xa0) i++; // explicit [0] version; absent means v1
  const serial = expectTag(fields[i++], Tag.INTEGER, 'serialNumber');
  expectTag(fields[i++], Tag.SEQUENCE, 'signature algorithm');
  const issuer = expectTag(fields[i++], Tag.SEQUENCE, 'issuer');
  expectTag(fields[i++], Tag.SEQUENCE, 'validity');
  const subject = expectTag(fields[i++], Tag.SEQUENCE, 'subject');
  const subjectPublicKeyInfo = expectTag(fields[i++], Tag.SEQUENCE, 'subjectPublicKeyInfo');
  return { tbs, serial, issuer, subject, subjectPublicKeyInfo };
}

/** The bytes of a whole element (header included). */
export function slice(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.subarray(tlv.start, tlv.end);
}

// ---- writer ----

function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** An element with the given tag and the concatenation of `content` as its value. */
function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const value = concat(content);
  return concat([Uint8Array.of(tag), encodeLength(value.length), value]);
}

export const sequence = (...items: Uint8Array[]): Uint8Array => tlv(Tag.SEQUENCE, ...items);

/** A SET OF: DER requires the encodings sorted in ascending byte order. */
export function setOf(...items: Uint8Array[]): Uint8Array {
  const sorted = [...items].sort((a, b) => Buffer.compare(a, b));
  return tlv(Tag.SET, ...sorted);
}

/**
 * An INTEGER from unsigned big-endian magnitude bytes or a non-negative safe integer. Leading
 * zero bytes are removed and one is added back when the high bit is set, so the value stays
 * positive and minimal.
 */
export function integer(value: Uint8Array | number): Uint8Array {
  let bytes: Uint8Array;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new DerError('integer must be a non-negative safe integer');
    const arr: number[] = [];
    for (let v = value; v > 0; v = Math.floor(v / 256)) arr.unshift(v & 0xff);
    bytes = Uint8Array.from(arr);
  } else {
    let i = 0;
    while (i < value.length && value[i] === 0) i++;
    bytes = value.subarray(i);
  }
  if (bytes.length === 0) return tlv(Tag.INTEGER, Uint8Array.of(0));
  if (bytes[0] & 0x80) return tlv(Tag.INTEGER, Uint8Array.of(0), bytes);
  return tlv(Tag.INTEGER, bytes);
}

export function boolean(value: boolean): Uint8Array {
  return tlv(Tag.BOOLEAN, Uint8Array.of(value ? 0xff : 0x00));
}

export function nullValue(): Uint8Array {
  return tlv(Tag.NULL);
}

/** An OBJECT IDENTIFIER from dotted notation, e.g. `1.3.101.112`. */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((s) => {
    if (!/^\d+$/.test(s)) throw new DerError(`invalid object identifier '${dotted}'`);
    return Number(s);
  });
  if (arcs.length < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39)) {
    throw new DerError(`invalid object identifier '${dotted}'`);
  }
  const out: number[] = [];
  const push = (v: number): void => {
    const groups: number[] = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) groups.unshift(0x80 | (x & 0x7f));
    out.push(...groups);
  };
  push(arcs[0] * 40 + arcs[1]);
  for (const arc of arcs.slice(2)) push(arc);
  return tlv(Tag.OID, Uint8Array.from(out));
}

export function utf8String(s: string): Uint8Array {
  return tlv(Tag.UTF8_STRING, new TextEncoder().encode(s));
}

/** A PrintableString; throws when `s` has characters outside the PrintableString alphabet. */
export function printableString(s: string): Uint8Array {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s)) throw new DerError('value is not a PrintableString');
  return tlv(Tag.PRINTABLE_STRING, new TextEncoder().encode(s));
}

/** A BIT STRING with zero unused bits. */
export function bitString(bytes: Uint8Array): Uint8Array {
  return tlv(Tag.BIT_STRING, Uint8Array.of(0), bytes);
}

/**
 * A named-bit-list BIT STRING (e.g. KeyUsage): bit 0 is the most significant bit of the first
 * byte; DER drops trailing zero bits and states how many bits of the last byte are unused.
 */
export function namedBits(bits: readonly number[]): Uint8Array {
  if (bits.length === 0) return tlv(Tag.BIT_STRING, Uint8Array.of(0));
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const b of bits) bytes[b >> 3] |= 0x80 >> (b & 7);
  const unused = 7 - (highest & 7);
  return tlv(Tag.BIT_STRING, Uint8Array.of(unused), bytes);
}

export function octetString(bytes: Uint8Array): Uint8Array {
  return tlv(Tag.OCTET_STRING, bytes);
}

/** A context-specific element `[n]`: constructed (explicit tagging) or primitive (implicit). */
export function context(n: number, constructed: boolean, ...content: Uint8Array[]): Uint8Array {
  if (n < 0 || n > 30) throw new DerError('context tag out of range');
  return tlv(0x80 | (constructed ? 0x20 : 0) | n, ...content);
}

/**
 * A certificate validity time per RFC 5280 §4.1.2.5: UTCTime (YYMMDDHHMMSSZ) for years
 * 1950–2049, GeneralizedTime (YYYYMMDDHHMMSSZ) otherwise; always UTC, whole seconds.
 */
export function time(date: Date): Uint8Array {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new DerError('invalid date');
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) throw new DerError('year out of range');
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const rest = `${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}Z`;
  const enc = new TextEncoder();
  if (year >= 1950 && year <= 2049) return tlv(Tag.UTC_TIME, enc.encode(p2(year % 100) + rest));
  return tlv(Tag.GENERALIZED_TIME, enc.encode(String(year).padStart(4, '0') + rest));
}

/** Decodes the value bytes of an OBJECT IDENTIFIER to dotted notation. */
export function decodeOid(value: Uint8Array): string {
  const arcs: number[] = [];
  let acc = 0;
  for (let i = 0; i < value.length; i++) {
    acc = acc * 128 + (value[i] & 0x7f);
    if ((value[i] & 0x80) === 0) {
      arcs.push(acc);
      acc = 0;
    }
  }
  if (arcs.length === 0 || (value[value.length - 1] & 0x80) !== 0) throw new DerError('truncated object identifier');
  const first = arcs[0] < 80 ? Math.floor(arcs[0] / 40) : 2;
  return [first, arcs[0] - first * 40, ...arcs.slice(1)].join('.');
}

/** One certificate extension: its `extnValue` contents (the DER inside the OCTET STRING). */
interface Extension {
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** The v3 extensions of a certificate keyed by dotted OID (empty for v1/v2 certificates). */
export function extensionsOf(certDer: Uint8Array): Map<string, Extension> {
  const { tbs, subjectPublicKeyInfo } = tbsPartsOf(certDer);
  const out = new Map<string, Extension>();
  const wrapper = childrenOf(certDer, tbs).find((f) => f.start >= subjectPublicKeyInfo.end && f.tag === 0xa3);
  if (wrapper === undefined) return out;
  const list = expectTag(readTlv(certDer, wrapper.contentStart, wrapper.end), Tag.SEQUENCE, 'extensions');
  for (const ext of childrenOf(certDer, list)) {
    const parts = childrenOf(certDer, expectTag(ext, Tag.SEQUENCE, 'extension'));
    const id = expectTag(parts[0], Tag.OID, 'extension id');
    let i = 1;
    let critical = false;
    if (parts[i]?.tag === Tag.BOOLEAN) critical = certDer[parts[i++].contentStart] !== 0;
    const value = expectTag(parts[i], Tag.OCTET_STRING, 'extension value');
    out.set(decodeOid(certDer.subarray(id.contentStart, id.end)), {
      critical,
      value: certDer.subarray(value.contentStart, value.end),
    });
  }
  return out;
}
