import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CIPHERTEXT_OVERHEAD,
  DecryptError,
  NoHmacKeyError,
  decrypt,
  encrypt,
  generateKeyVersion,
  hmac,
} from '../../src/crypto/key.ts';
import type { Cipher, KeyVersion } from '../../src/crypto/key.ts';
import { deriveSubkey } from '../../src/crypto/aead.ts';
import { b64, fixedRandom, hex, toB64, toHex, utf8, vectors } from './vectors.ts';

function keyOf(cipher: Cipher, key: string, hmacKey?: string): KeyVersion {
  return { key: b64(key), cipher, hmacKey: hmacKey ? b64(hmacKey) : undefined, createdAt: new Date(0), createdBy: '' };
}

test('decrypt_vectors: every vector decrypts to its plaintext', () => {
  assert.equal(vectors.decrypt_vectors.length, 8);
  for (const v of vectors.decrypt_vectors) {
    const out = decrypt(keyOf(v.cipher, v.key), b64(v.ciphertext), b64(v.context));
    assert.equal(toB64(out), v.plaintext, `${v.format} ${v.cipher}`);
    if (v.ciphertext_text !== undefined) assert.equal(Buffer.from(b64(v.ciphertext)).toString(), v.ciphertext_text);
  }
});

test('decrypt_vectors: the normalised raw form decrypts too and ends in IV ‖ nonce', () => {
  for (const v of vectors.decrypt_vectors) {
    const raw = b64(v.normalized_raw);
    assert.equal(toHex(raw.subarray(raw.length - 28, raw.length - 12)), v.iv_hex);
    assert.equal(toHex(raw.subarray(raw.length - 12)), v.nonce_hex);
    assert.equal(toB64(decrypt(keyOf(v.cipher, v.key), raw, b64(v.context))), v.plaintext, v.format);
  }
});

test('decrypt_vectors: a wrong context or the other cipher type fails', () => {
  for (const v of vectors.decrypt_vectors) {
    const other: Cipher = v.cipher === 'AES256' ? 'ChaCha20' : 'AES256';
    assert.throws(() => decrypt(keyOf(v.cipher, v.key), b64(v.ciphertext), utf8('other')), DecryptError);
    assert.throws(() => decrypt(keyOf(other, v.key), b64(v.ciphertext), b64(v.context)), DecryptError);
  }
});

test('decrypt_must_fail: every vector is rejected with DecryptError', () => {
  assert.equal(vectors.decrypt_must_fail.length, 5);
  for (const v of vectors.decrypt_must_fail) {
    assert.throws(
      () => decrypt(keyOf(v.cipher, v.key), utf8(v.ciphertext_text), new Uint8Array(0)),
      (err: unknown) => err instanceof DecryptError && err.message === 'decryption failed: ciphertext is not authentic',
      v.reason,
    );
  }
});

test('derived_encrypt_vectors: encryption with a fixed random value is reproduced byte for byte', () => {
  assert.equal(vectors.derived_encrypt_vectors.length, 6);
  for (const v of vectors.derived_encrypt_vectors) {
    const r = hex(v.random_28_bytes_hex);
    assert.equal(v.iv_hex + v.nonce_hex, v.random_28_bytes_hex);
    const kv = keyOf(v.cipher, v.key);
    const out = encrypt(kv, b64(v.plaintext), b64(v.context), fixedRandom(r));
    assert.equal(toB64(out), v.ciphertext, `${v.cipher} ${v.context}`);
    assert.equal(out.length, v.ciphertext_len);
    assert.equal(out.length, b64(v.plaintext).length + CIPHERTEXT_OVERHEAD);
    assert.equal(toB64(decrypt(kv, out, b64(v.context))), v.plaintext);
  }
});

test('derived_subkeys: HMAC-SHA-256 and HChaCha20 subkeys', () => {
  const s = vectors.derived_subkeys;
  assert.equal(toHex(deriveSubkey('AES256', b64(s.key), hex(s.iv_hex))), s.aes256_subkey_hex);
  assert.equal(toHex(deriveSubkey('ChaCha20', b64(s.key), hex(s.iv_hex))), s.chacha20_hchacha_subkey_hex);
});

test('hmac_vectors_derived: HMAC-SHA-256 under the HMAC key, independent of the master key', () => {
  for (const v of vectors.hmac_vectors_derived) {
    assert.equal(Buffer.from(b64(v.message)).toString(), v.message_text);
    for (const cipher of ['AES256', 'ChaCha20'] as const) {
      const kv = keyOf(cipher, toB64(new Uint8Array(32).fill(7)), v.hmac_key);
      assert.equal(toB64(hmac(kv, b64(v.message))), v.hmac);
    }
  }
});

test('hmac on a legacy key without HMAC key throws NoHmacKeyError', () => {
  const kv = keyOf('AES256', toB64(new Uint8Array(32)));
  assert.throws(() => hmac(kv, utf8('root access key')), NoHmacKeyError);
});

test('minio_context_vectors: canonical contexts round-trip and are not interchangeable', () => {
  const kv = generateKeyVersion('');
  const ctxs = vectors.minio_context_vectors.map((v) => {
    assert.equal(Buffer.from(v.canonical_json).toString('base64'), v.base64);
    return b64(v.base64);
  });
  const dek = new Uint8Array(32).fill(0xab);
  for (const [i, ctx] of ctxs.entries()) {
    const c = encrypt(kv, dek, ctx);
    assert.deepEqual(decrypt(kv, c, ctx), dek);
    for (const [j, other] of ctxs.entries()) {
      if (i !== j) assert.throws(() => decrypt(kv, c, other), DecryptError);
    }
  }
});

test('round trips for both ciphers and assorted sizes; absent and empty context are equal', () => {
  for (const cipher of ['AES256', 'ChaCha20'] as const) {
    const kv = generateKeyVersion('me', cipher);
    for (const size of [0, 1, 15, 16, 17, 32, 1000, 70_000]) {
      const p = new Uint8Array(size).map((_, i) => i * 31);
      const c = encrypt(kv, p, new Uint8Array(0));
      assert.equal(c.length, size + 44);
      assert.deepEqual(decrypt(kv, c, new Uint8Array(0)), p, `${cipher} ${size}`);
    }
  }
});

test('tampering with any region, a wrong key or a wrong context fails', () => {
  for (const cipher of ['AES256', 'ChaCha20'] as const) {
    const kv = generateKeyVersion('', cipher);
    const ctx = utf8('{"b":"b/o"}');
    const c = encrypt(kv, utf8('secret data key material'), ctx);
    for (const at of [0, c.length - 45, c.length - 44, c.length - 29, c.length - 28, c.length - 13, c.length - 12, c.length - 1]) {
      const t = c.slice();
      t[at] ^= 0x01;
      assert.throws(() => decrypt(kv, t, ctx), DecryptError, `${cipher} byte ${at}`);
    }
    assert.throws(() => decrypt(generateKeyVersion('', cipher), c, ctx), DecryptError);
    assert.throws(() => decrypt(kv, c, utf8('{"b":"b/x"}')), DecryptError);
    assert.throws(() => decrypt(kv, c, new Uint8Array(0)), DecryptError);
    assert.throws(() => decrypt(kv, c.subarray(1), ctx), DecryptError);
    assert.throws(() => decrypt(kv, c.subarray(0, c.length - 1), ctx), DecryptError);
  }
});

test('ciphertexts of at most 28 bytes are rejected; 29..43 bytes fail authentication', () => {
  const kv = generateKeyVersion('');
  for (const n of [0, 1, 27, 28, 29, 43]) {
    assert.throws(() => decrypt(kv, new Uint8Array(n), new Uint8Array(0)), DecryptError, `${n}`);
  }
});

test('generateKeyVersion takes its key and HMAC key from the random source', () => {
  const seq = new Uint8Array(64).map((_, i) => i);
  let pos = 0;
  const random = (n: number) => seq.slice(pos, (pos += n));
  const now = new Date('2024-05-06T07:08:09.123Z');
  const kv = generateKeyVersion('abc', 'ChaCha20', random, now);
  assert.deepEqual(kv.key, seq.slice(0, 32));
  assert.deepEqual(kv.hmacKey, seq.slice(32, 64));
  assert.equal(kv.cipher, 'ChaCha20');
  assert.equal(kv.createdBy, 'abc');
  assert.equal(kv.createdAt.toISOString(), '2024-05-06T07:08:09.123Z');
  assert.equal(generateKeyVersion('').cipher, 'AES256');
  const a = generateKeyVersion('');
  const b = generateKeyVersion('');
  assert.notDeepEqual(a.key, b.key);
  assert.notDeepEqual(a.key, a.hmacKey);
});

test('a misbehaving random source is an error, not a weak key', () => {
  assert.throws(() => generateKeyVersion('', 'AES256', () => new Uint8Array(16)), RangeError);
  assert.throws(() => encrypt(generateKeyVersion(''), utf8('x'), utf8(''), () => new Uint8Array(27)), RangeError);
});
