import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeCiphertext } from '../../src/crypto/ciphertext.ts';
import { DecryptError, decrypt, encrypt, generateKeyVersion } from '../../src/crypto/key.ts';
import type { KeyVersion } from '../../src/crypto/key.ts';
import { b64, hex, toB64, utf8, vectors } from './vectors.ts';

// A small MessagePack writer for the legacy layout, with explicit widths per field.
type Width = 'fix' | 8 | 16 | 32;

function header(kind: 'str' | 'bin', n: number, width: Width): number[] {
  if (kind === 'str' && width === 'fix') return [0xa0 | n];
  const codes = kind === 'str' ? { 8: 0xd9, 16: 0xda, 32: 0xdb } : { 8: 0xc4, 16: 0xc5, 32: 0xc6 };
  const w = width === 'fix' ? 8 : width;
  const len = w === 8 ? [n] : w === 16 ? [n >> 8, n & 0xff] : [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  return [codes[w], ...len];
}

function str(s: string, width: Width): number[] {
  const b = utf8(s);
  return [...header('str', b.length, width), ...b];
}

function bin(b: Uint8Array, width: Width): number[] {
  return [...header('bin', b.length, width), ...b];
}

interface Parts {
  sealed: Uint8Array;
  iv: Uint8Array;
  nonce: Uint8Array;
}

function partsOf(v: { normalized_raw: string; iv_hex: string; nonce_hex: string }): Parts {
  const raw = b64(v.normalized_raw);
  return { sealed: raw.subarray(0, raw.length - 28), iv: hex(v.iv_hex), nonce: hex(v.nonce_hex) };
}

function msgpack(p: Parts, algorithm: string, id: string, sw: Width, bw: Width): Uint8Array {
  return Uint8Array.from([0x95, ...str(algorithm, sw), ...str(id, sw), ...bin(p.iv, bw), ...bin(p.nonce, bw), ...bin(p.sealed, bw)]);
}

const mpVector = vectors.decrypt_vectors.find((v) => v.format === 'legacy-msgpack' && v.cipher === 'AES256')!;
const kvOf = (v: { key: string; cipher: 'AES256' | 'ChaCha20' }): KeyVersion => ({
  key: b64(v.key),
  cipher: v.cipher,
  createdAt: new Date(0),
  createdBy: '',
});

test('legacy MessagePack: every str and bin width is accepted, and the key id is not checked', () => {
  const p = partsOf(mpVector);
  const widths: Array<[Width, Width]> = [['fix', 8], [8, 8], [16, 16], [32, 32], ['fix', 32], [16, 8]];
  for (const [sw, bw] of widths) {
    for (const [alg, id] of [['AES256-GCM_SHA256', 'whatever'], ['AES256', ''], ['ChaCha20', 'x'], ['XCHACHA20-POLY1305', 'y']]) {
      const ct = msgpack(p, alg, id, sw, bw);
      assert.equal(toB64(normalizeCiphertext(ct)), mpVector.normalized_raw, `${sw}/${bw} ${alg}`);
      assert.equal(toB64(decrypt(kvOf(mpVector), ct, new Uint8Array(0))), mpVector.plaintext);
    }
  }
});

test('legacy MessagePack: malformed candidates are used unchanged as raw and then fail', () => {
  const p = partsOf(mpVector);
  const good = msgpack(p, 'AES256', 'id', 'fix', 8);
  const cases: Array<[string, Uint8Array]> = [
    ['unknown algorithm', msgpack(p, 'AES-256', 'id', 'fix', 8)],
    ['trailing byte', Uint8Array.from([...good, 0])],
    ['truncated', good.subarray(0, good.length - 1)],
    ['iv of 15 bytes', msgpack({ ...p, iv: p.iv.subarray(1) }, 'AES256', 'id', 'fix', 8)],
    ['nonce of 13 bytes', msgpack({ ...p, nonce: Uint8Array.from([...p.nonce, 0]) }, 'AES256', 'id', 'fix', 8)],
    ['str where bin is expected', Uint8Array.from([0x95, ...str('AES256', 'fix'), ...str('', 'fix'), ...str('x'.repeat(16), 8), ...bin(p.nonce, 8), ...bin(p.sealed, 8)])],
  ];
  for (const [name, ct] of cases) {
    assert.deepEqual(normalizeCiphertext(ct), ct, name);
    assert.throws(() => decrypt(kvOf(mpVector), ct, new Uint8Array(0)), DecryptError, name);
  }
});

test('legacy JSON: field names match case-insensitively, unknown fields are ignored', () => {
  const v = vectors.decrypt_vectors.find((x) => x.format === 'legacy-json' && x.cipher === 'AES256')!;
  const o = JSON.parse(v.ciphertext_text!);
  const variants = [
    { AEAD: o.aead, IV: o.iv, Nonce: o.nonce, Bytes: o.bytes },
    { ...o, id: 'not checked', extra: [1, 2] },
  ];
  for (const variant of variants) {
    const ct = utf8(JSON.stringify(variant));
    assert.equal(toB64(normalizeCiphertext(ct)), v.normalized_raw);
    assert.equal(toB64(decrypt(kvOf(v), ct, new Uint8Array(0))), v.plaintext);
  }
  for (const bad of [{ ...o, iv: o.iv.replace(/=+$/, '') }, { ...o, id: 5 }, [o]]) {
    const ct = utf8(JSON.stringify(bad));
    assert.deepEqual(normalizeCiphertext(ct), ct);
    assert.throws(() => decrypt(kvOf(v), ct, new Uint8Array(0)), DecryptError);
  }
});

test('raw ciphertexts whose first byte is 0x95 or 0x7b still decrypt (legacy parse falls back)', () => {
  const kv = generateKeyVersion('');
  for (const first of [0x95, 0x7b]) {
    let found = false;
    for (let i = 0; i < 20_000 && !found; i++) {
      const p = utf8(`plaintext ${i}`);
      const c = encrypt(kv, p, new Uint8Array(0));
      if (c[0] !== first) continue;
      found = true;
      assert.deepEqual(normalizeCiphertext(c), c);
      assert.deepEqual(decrypt(kv, c, new Uint8Array(0)), p);
    }
    assert.ok(found, `no ciphertext starting with 0x${first.toString(16)} in 20000 tries`);
  }
});
