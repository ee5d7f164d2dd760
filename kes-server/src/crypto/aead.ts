/**
 * The per-message AEAD construction of spec §4.3: a subkey is derived from the master key and a
 * 16-byte IV, then used with a standard 12-byte-nonce AEAD. Only the framing differs between the
 * current and the legacy ciphertext formats, so this module is shared by all of them.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { hchacha } from '@noble/ciphers/chacha.js';
import type { Cipher } from './key.ts';

export const IV_SIZE = 16;
export const NONCE_SIZE = 12;
export const TAG_SIZE = 16;

// "expand 32-byte k" as little-endian words (RFC 8439 §2.3).
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);

function words(bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Uint32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(4 * i, true);
  return out;
}

function hchacha20(key: Uint8Array, input: Uint8Array): Uint8Array {
  const out = new Uint32Array(8);
  hchacha(SIGMA, words(key), words(input), out);
  const bytes = new Uint8Array(32);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 8; i++) view.setUint32(4 * i, out[i], true);
  return bytes;
}

/**
 * Derives the 32-byte message subkey (spec §4.3 step 2): HMAC-SHA-256(key, iv) for AES256,
 * HChaCha20(key, iv) for ChaCha20. Throws a RangeError if `key` is not 32 or `iv` not 16 bytes.
 */
export function deriveSubkey(cipher: Cipher, key: Uint8Array, iv: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new RangeError('crypto: master key must be 32 bytes');
  if (iv.length !== IV_SIZE) throw new RangeError('crypto: iv must be 16 bytes');
  if (cipher === 'AES256') return new Uint8Array(createHmac('sha256', key).update(iv).digest());
  return hchacha20(key, iv);
}

function cipherOf(cipher: Cipher, subkey: Uint8Array, nonce: Uint8Array) {
  const opts = { authTagLength: TAG_SIZE };
  return cipher === 'AES256'
    ? createCipheriv('aes-256-gcm', subkey, nonce, opts)
    : createCipheriv('chacha20-poly1305', subkey, nonce, opts);
}

function decipherOf(cipher: Cipher, subkey: Uint8Array, nonce: Uint8Array) {
  const opts = { authTagLength: TAG_SIZE };
  return cipher === 'AES256'
    ? createDecipheriv('aes-256-gcm', subkey, nonce, opts)
    : createDecipheriv('chacha20-poly1305', subkey, nonce, opts);
}

/** Returns `ciphertext ‖ tag` of `plaintext` under the subkey derived from `key` and `iv`. */
export function seal(
  cipher: Cipher,
  key: Uint8Array,
  iv: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  const subkey = deriveSubkey(cipher, key, iv);
  const c = cipherOf(cipher, subkey, nonce);
  c.setAAD(aad);
  const head = c.update(plaintext);
  const tail = c.final();
  const tag = c.getAuthTag();
  const out = new Uint8Array(head.length + tail.length + tag.length);
  out.set(head, 0);
  out.set(tail, head.length);
  out.set(tag, head.length + tail.length);
  subkey.fill(0);
  return out;
}

/**
 * Opens `sealed` (= ciphertext ‖ tag). Throws (an Error from node:crypto or a RangeError) when
 * the input is too short or not authentic; callers map every failure to one decrypt error.
 */
export function open(
  cipher: Cipher,
  key: Uint8Array,
  iv: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  if (sealed.length < TAG_SIZE) throw new RangeError('crypto: ciphertext shorter than the tag');
  const subkey = deriveSubkey(cipher, key, iv);
  try {
    const d = decipherOf(cipher, subkey, nonce);
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
    const head = d.update(sealed.subarray(0, sealed.length - TAG_SIZE));
    const tail = d.final();
    const out = new Uint8Array(head.length + tail.length);
    out.set(head, 0);
    out.set(tail, head.length);
    return out;
  } finally {
    subkey.fill(0);
  }
}
