import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DerError, boolean, childrenOf, decodeOid, integer, namedBits, oid, printableString, readSingle, readTlv, sequence, setOf, time,
} from '../../src/tls/der.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('encodings match X.690 examples', () => {
  const cases: Array<{ name: string; der: Uint8Array; want: string }> = [
    { name: 'INTEGER 0', der: integer(0), want: '020100' },
    { name: 'INTEGER 127', der: integer(127), want: '02017f' },
    { name: 'INTEGER 128 gets a sign byte', der: integer(128), want: '02020080' },
    { name: 'INTEGER 256', der: integer(256), want: '02020100' },
    { name: 'INTEGER from bytes, leading zeros dropped', der: integer(Uint8Array.of(0, 0, 0x01, 0x02)), want: '02020102' },
    { name: 'INTEGER from bytes, high bit', der: integer(Uint8Array.of(0xff)), want: '020200ff' },
    { name: 'BOOLEAN true', der: boolean(true), want: '0101ff' },
    { name: 'OID rsaEncryption', der: oid('1.2.840.113549.1.1.1'), want: '06092a864886f70d010101' },
    { name: 'OID Ed25519', der: oid('1.3.101.112'), want: '06032b6570' },
    { name: 'OID 2.999.3', der: oid('2.999.3'), want: '0603883703' },
    { name: 'empty SEQUENCE', der: sequence(), want: '3000' },
    { name: 'SET OF sorted', der: setOf(integer(2), integer(1)), want: '3106020101020102' },
    { name: 'KeyUsage digitalSignature', der: namedBits([0]), want: '03020780' },
    { name: 'KeyUsage digitalSignature|keyEncipherment', der: namedBits([0, 2]), want: '030205a0' },
    { name: 'KeyUsage keyCertSign|cRLSign|digitalSignature', der: namedBits([0, 5, 6]), want: '03020186' },
    { name: 'KeyUsage decipherOnly (bit 8)', der: namedBits([8]), want: '0303070080' },
    { name: 'PrintableString', der: printableString('AB 1'), want: '130441422031' },
  ];
  for (const c of cases) assert.equal(hex(c.der), c.want, c.name);
});

test('long lengths use the minimal long form', () => {
  const der = sequence(new Uint8Array(200));
  assert.equal(hex(der.subarray(0, 3)), '3081c8');
  const big = sequence(new Uint8Array(300));
  assert.equal(hex(big.subarray(0, 4)), '3082012c');
  const tlv = readSingle(big);
  assert.equal(tlv.contentStart, 4);
  assert.equal(tlv.end, 304);
});

test('validity times follow the RFC 5280 year rule', () => {
  const cases: Array<{ date: string; want: string }> = [
    { date: '1950-01-01T00:00:00Z', want: '170d3530303130313030303030305a' }, // UTCTime 500101000000Z
    { date: '2049-12-31T23:59:59Z', want: '170d3439313233313233353935395a' }, // UTCTime 491231235959Z
    { date: '2050-01-01T00:00:00Z', want: '180f32303530303130313030303030305a' }, // GeneralizedTime
    { date: '1949-12-31T23:59:59Z', want: '180f31393439313233313233353935395a' },
    { date: '2024-02-29T12:34:56.789Z', want: '170d3234303232393132333435365a' }, // fraction dropped
  ];
  for (const c of cases) assert.equal(hex(time(new Date(c.date))), c.want, c.date);
  assert.throws(() => time(new Date(Number.NaN)), DerError);
});

test('reader walks children and decodes OIDs', () => {
  const der = sequence(oid('1.2.840.10045.4.3.2'), boolean(false), integer(5));
  const kids = childrenOf(der, readSingle(der));
  assert.deepEqual(kids.map((k) => k.tag), [0x06, 0x01, 0x02]);
  assert.equal(decodeOid(der.subarray(kids[0].contentStart, kids[0].end)), '1.2.840.10045.4.3.2');
  assert.equal(decodeOid(oid('2.999.3').subarray(2)), '2.999.3');
});

test('reader rejects malformed input', () => {
  const cases: Array<{ name: string; der: number[] }> = [
    { name: 'header truncated', der: [0x30] },
    { name: 'value truncated', der: [0x30, 0x03, 0x02, 0x01] },
    { name: 'indefinite length', der: [0x30, 0x80, 0x00, 0x00] },
    { name: 'non-minimal long form', der: [0x30, 0x81, 0x01, 0x00] },
    { name: 'leading zero length byte', der: [0x30, 0x82, 0x00, 0x81, ...new Array(0x81).fill(0)] },
    { name: 'multi-byte tag', der: [0x1f, 0x81, 0x00] },
    { name: 'length too large', der: [0x30, 0x85, 1, 1, 1, 1, 1] },
  ];
  for (const c of cases) assert.throws(() => readTlv(Uint8Array.from(c.der), 0), DerError, c.name);
  assert.throws(() => readSingle(Uint8Array.of(0x05, 0x00, 0x00)), /trailing/);
  assert.throws(() => oid('1.40'), DerError);
  assert.throws(() => printableString('ä'), DerError);
});
