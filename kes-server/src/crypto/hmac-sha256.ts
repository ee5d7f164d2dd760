/**
 * HMAC-SHA-256 (RFC 2104, FIPS 180-4) of a message of at most one SHA-256 block, with the key's
 * padded states computed once. The AES256 subkey of every generate and decrypt is the HMAC of a
 * 16-byte IV under the master key (docs/protocol.md#ciphertext); node:crypto's createHmac made a
 * native object, hashed both key pads again and returned an off-heap buffer for each, together
 * 4-5 times the cost of the two compressions left here. Only adds, xors and rotations of 32-bit
 * words: the time taken does not depend on key or message.
 */

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

// FIPS 180-4 §5.3.3: the initial hash value.
const INITIAL = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const BLOCK_SIZE = 64;
/** The longest message that fits one block with its padding (0x80 and the 8-byte length). */
export const MAX_MESSAGE_SIZE = BLOCK_SIZE - 9;

/** The message schedule; its first 16 words are the block being hashed. Zeroed after each HMAC. */
const W = new Int32Array(64);

/** The SHA-256 compression function: folds the block in W[0..15] into `state`. */
function compress(state: Int32Array): void {
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15];
    const w2 = W[t - 2];
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[t] = (W[t - 16] + s0 + W[t - 7] + s1) | 0;
  }
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let e = state[4];
  let f = state[5];
  let g = state[6];
  let h = state[7];
  for (let t = 0; t < 64; t++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[t] + W[t]) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0;
  state[5] = (state[5] + f) | 0;
  state[6] = (state[6] + g) | 0;
  state[7] = (state[7] + h) | 0;
}

/** Puts `bytes` into W[0..15] big-endian, followed by SHA-256 padding for a total of `totalBytes` hashed. */
function loadFinalBlock(bytes: Uint8Array, totalBytes: number): void {
  W.fill(0, 0, 16);
  for (let i = 0; i < bytes.length; i++) W[i >> 2] |= bytes[i] << (24 - 8 * (i & 3));
  W[bytes.length >> 2] |= 0x80 << (24 - 8 * (bytes.length & 3));
  W[15] = totalBytes * 8;
}

/** The states after hashing the key's inner and outer pad: what HMAC under this key starts from. */
export interface HmacKeyState {
  readonly inner: Int32Array;
  readonly outer: Int32Array;
}

/** Hashes the key's two pads (RFC 2104 §2); keys of at most 64 bytes, as every KES key is. */
export function hmacKeyState(key: Uint8Array): HmacKeyState {
  if (key.length > BLOCK_SIZE) throw new RangeError('hmac: key longer than one block');
  const padded = (pad: number): Int32Array => {
    W.fill(0, 0, 16);
    for (let i = 0; i < key.length; i++) W[i >> 2] |= key[i] << (24 - 8 * (i & 3));
    for (let i = 0; i < 16; i++) W[i] ^= pad;
    const state = INITIAL.slice();
    compress(state);
    return state;
  };
  const state = { inner: padded(0x36363636), outer: padded(0x5c5c5c5c) };
  W.fill(0);
  return state;
}

/** HMAC-SHA-256 of `message` (at most MAX_MESSAGE_SIZE bytes) under the key `state` was made from. */
export function hmacSha256(state: HmacKeyState, message: Uint8Array): Uint8Array {
  if (message.length > MAX_MESSAGE_SIZE) throw new RangeError('hmac: message longer than one block');
  const inner = state.inner.slice();
  loadFinalBlock(message, BLOCK_SIZE + message.length);
  compress(inner);
  // The outer block: the inner digest, then padding for 64 + 32 bytes.
  W.fill(0, 8, 16);
  W.set(inner, 0);
  W[8] = 0x80000000 | 0;
  W[15] = (BLOCK_SIZE + 32) * 8;
  const outer = state.outer.slice();
  compress(outer);
  const mac = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const w = outer[i];
    mac[4 * i] = w >>> 24;
    mac[4 * i + 1] = w >>> 16;
    mac[4 * i + 2] = w >>> 8;
    mac[4 * i + 3] = w;
  }
  inner.fill(0);
  outer.fill(0);
  W.fill(0);
  return mac;
}
