import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidKeyError, ZERO_TIME_MS, encodeKeyVersion, parseKeyVersion } from '../../src/crypto/stored-key.ts';
import { generateKeyVersion } from '../../src/crypto/key.ts';
import type { KeyVersion } from '../../src/crypto/key.ts';
import { b64, toB64, toHex, utf8, vectors } from './vectors.ts';

const protoVector = vectors.stored_key_vectors.find((v) => v.format.startsWith('current'))!;
const legacyVectors = vectors.stored_key_vectors.filter((v) => v.format === 'legacy JSON');

test('stored_key_vectors: the protobuf record decodes to its documented fields', () => {
  const kv = parseKeyVersion(utf8(protoVector.raw));
  const d = protoVector.decoded;
  assert.equal(toB64(kv.key), d.key);
  assert.equal(kv.cipher, d.algorithm);
  assert.equal(d.key_type, 1);
  assert.equal(toB64(kv.hmacKey!), d.hmac_key);
  assert.equal(d.hmac_hash, 1);
  // A Date holds milliseconds; the stored nanoseconds are truncated.
  assert.equal(kv.createdAt.getTime(), d.created_at_seconds! * 1000 + Math.floor(d.created_at_nanos! / 1e6));
  assert.equal(kv.createdAt.toISOString(), d.created_at!.replace('886816Z', '886Z'));
  assert.equal(kv.createdBy, d.created_by);
});

test('stored_key_vectors: legacy JSON records decode, without HMAC key', () => {
  assert.equal(legacyVectors.length, 3);
  for (const v of legacyVectors) {
    const kv = parseKeyVersion(utf8(v.raw));
    assert.equal(toB64(kv.key), v.decoded.key);
    assert.equal(kv.cipher, v.decoded.algorithm);
    assert.equal(kv.hmacKey, undefined);
    assert.equal(kv.createdAt.getTime(), v.decoded.created_at ? Date.parse(v.decoded.created_at) : ZERO_TIME_MS);
    assert.equal(kv.createdBy, v.decoded.created_by ?? '');
  }
  assert.equal(new Date(ZERO_TIME_MS).toISOString(), '0001-01-01T00:00:00.000Z');
});

test('encodeKeyVersion writes the canonical protobuf layout of docs/protocol.md#stored-keys', () => {
  const d = protoVector.decoded;
  const raw = b64(protoVector.raw);
  // Timestamp field of the vector: 1a 0c 08 <5-byte seconds varint> 10 <5-byte nanos varint>.
  const tsAt = 2 + 36 + 2 + 36;
  assert.equal(toHex(raw.subarray(tsAt, tsAt + 3)), '1a0c08');
  const secondsVarint = raw.subarray(tsAt + 3, tsAt + 8);
  const kv: KeyVersion = {
    key: b64(d.key),
    cipher: 'AES256',
    hmacKey: b64(d.hmac_key!),
    createdAt: new Date(d.created_at_seconds! * 1000),
    createdBy: d.created_by!,
  };
  const expected = Uint8Array.from([
    0x0a, 0x24, 0x0a, 0x20, ...b64(d.key), 0x10, 0x01,
    0x12, 0x24, 0x0a, 0x20, ...b64(d.hmac_key!), 0x10, 0x01,
    0x1a, 0x06, 0x08, ...secondsVarint,
    0x22, 0x40, ...utf8(d.created_by!),
  ]);
  const text = encodeKeyVersion(kv);
  assert.match(Buffer.from(text).toString(), /^[A-Za-z0-9+/]+={0,2}$/);
  assert.equal(Buffer.from(text).toString(), toB64(expected));
  // The ChaCha20 type id is 2; an empty created_by is omitted.
  const chacha = encodeKeyVersion({ ...kv, cipher: 'ChaCha20', createdBy: '' });
  const bytes = b64(Buffer.from(chacha).toString());
  assert.equal(bytes[37], 2);
  assert.equal(bytes.length, expected.length - 66);
});

test('encode → parse round trips, including milliseconds and times before 1970', () => {
  const times = ['2024-01-12T10:39:20.886Z', '1970-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z'];
  for (const cipher of ['AES256', 'ChaCha20'] as const) {
    for (const t of times) {
      const kv = generateKeyVersion('3ecfcdf3', cipher, undefined, new Date(t));
      const back = parseKeyVersion(encodeKeyVersion(kv));
      assert.deepEqual(back, kv, `${cipher} ${t}`);
    }
  }
});

test('parseKeyVersion tolerates unknown protobuf fields and line breaks in the base64', () => {
  const raw = b64(protoVector.raw);
  // field 9 varint 5, field 10 fixed64, field 11 fixed32, field 12 bytes "zz"
  const extra = [0x48, 0x05, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5d, 1, 2, 3, 4, 0x62, 0x02, 0x7a, 0x7a];
  const text = toB64(Uint8Array.from([...raw, ...extra]));
  const kv = parseKeyVersion(utf8(text.slice(0, 20) + '\r\n' + text.slice(20) + '\n'));
  assert.equal(toB64(kv.key), protoVector.decoded.key);
  assert.equal(kv.createdBy, protoVector.decoded.created_by);
});

test('parseKeyVersion rejects garbage and invalid records with InvalidKeyError', () => {
  const d = protoVector.decoded;
  const key = b64(d.key);
  const hk = b64(d.hmac_key!);
  const proto = (bytes: number[]) => utf8(toB64(Uint8Array.from(bytes)));
  const cases: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['not base64', utf8('not a key!')],
    ['base64 of invalid length', utf8(protoVector.raw.slice(0, -1))],
    ['URL-safe base64', utf8(protoVector.raw.slice(0, -4) + '-_-_')],
    ['not UTF-8', Uint8Array.from([0xff, 0xfe])],
    ['truncated protobuf', utf8(toB64(b64(protoVector.raw).subarray(0, 50)))],
    ['short master key', proto([0x0a, 0x05, 0x0a, 0x01, 0x00, 0x10, 0x01, 0x12, 0x24, 0x0a, 0x20, ...hk, 0x10, 0x01])],
    ['key type 3', proto([0x0a, 0x24, 0x0a, 0x20, ...key, 0x10, 0x03, 0x12, 0x24, 0x0a, 0x20, ...hk, 0x10, 0x01])],
    ['no HMAC key', proto([0x0a, 0x24, 0x0a, 0x20, ...key, 0x10, 0x01])],
    ['hash 2', proto([0x0a, 0x24, 0x0a, 0x20, ...key, 0x10, 0x01, 0x12, 0x24, 0x0a, 0x20, ...hk, 0x10, 0x02])],
    ['legacy: array', utf8('[1]')],
    ['legacy: short key', utf8('{"bytes":"AAAA"}')],
    ['legacy: unknown algorithm', utf8(`{"bytes":"${d.key}","algorithm":"AES128"}`)],
    ['legacy: bad time', utf8(`{"bytes":"${d.key}","created_at":"yesterday"}`)],
    ['legacy: bytes not a string', utf8('{"bytes":5}')],
  ];
  for (const [name, bytes] of cases) {
    assert.throws(
      () => parseKeyVersion(bytes),
      (err: unknown) => err instanceof InvalidKeyError && !err.message.includes(d.key) && !err.message.includes(d.hmac_key!),
      name,
    );
  }
});

test('legacy JSON: field names match case-insensitively and the ChaCha20 aliases are accepted', () => {
  const key = toB64(new Uint8Array(32).fill(9));
  for (const [alg, cipher] of [['ChaCha20', 'ChaCha20'], ['XCHACHA20-POLY1305', 'ChaCha20'], ['AES256', 'AES256'], ['', 'AES256']]) {
    const kv = parseKeyVersion(utf8(`{"Bytes":"${key}","ALGORITHM":"${alg}","version":"v1","Created_At":"2009-11-10T23:00:00+01:00"}`));
    assert.equal(kv.cipher, cipher);
    assert.equal(toB64(kv.key), key);
    assert.equal(kv.createdAt.toISOString(), '2009-11-10T22:00:00.000Z');
  }
});

test('encodeKeyVersion refuses legacy keys and wrong key sizes', () => {
  const legacy = parseKeyVersion(utf8(legacyVectors[1].raw));
  assert.throws(() => encodeKeyVersion(legacy), InvalidKeyError);
  const kv = generateKeyVersion('');
  assert.throws(() => encodeKeyVersion({ ...kv, key: kv.key.subarray(1) }), InvalidKeyError);
  assert.throws(() => encodeKeyVersion({ ...kv, createdAt: new Date(NaN) }), InvalidKeyError);
});
