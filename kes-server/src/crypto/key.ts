/**
 * Key versions and the operations a KES server performs with them (docs/protocol.md#stored-keys, #ciphertext).
 * Randomness is a parameter so that encryption is reproducible in tests.
 */
import { KesError } from '../errors.ts';
import { createHmac, randomBytes, randomFillSync } from 'node:crypto';
import { IV_SIZE, NONCE_SIZE, open, seal, secretKeyOf } from './aead.ts';
import { TRAILER_SIZE, normalizeCiphertext, splitRaw } from './ciphertext.ts';

/** Master-key type. Type ids in storage: AES256 = 1, ChaCha20 = 2 (docs/protocol.md#stored-keys). */
export type Cipher = 'AES256' | 'ChaCha20';

/** One version of a key: master key, optional HMAC key (absent for legacy keys) and metadata. */
export interface KeyVersion {
  readonly key: Uint8Array;
  readonly cipher: Cipher;
  readonly hmacKey?: Uint8Array;
  readonly createdAt: Date;
  readonly createdBy: string;
}

/** Source of random bytes: must return exactly `n` fresh bytes. */
type RandomSource = (n: number) => Uint8Array;

/** Size of master and HMAC keys in bytes. */
export const KEY_SIZE = 32;

/** Bytes a ciphertext adds to its plaintext: tag (16) + IV (16) + nonce (12). */
export const CIPHERTEXT_OVERHEAD = 16 + TRAILER_SIZE;

/**
 * Bytes from the OS CSPRNG, fetched in blocks: every generate request draws twice (data key;
 * IV and nonce), and under load one `randomBytes` call per draw took about a sixth of that
 * request's CPU time. Handed-out bytes are copied and zeroed in the block, so no two callers
 * share them and none stay behind.
 */
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolUsed = POOL_SIZE;

/** The OS CSPRNG. */
export const systemRandom: RandomSource = (n) => {
  if (n > POOL_SIZE / 8) return new Uint8Array(randomBytes(n));
  if (poolUsed + n > POOL_SIZE) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  const out = new Uint8Array(n);
  out.set(pool.subarray(poolUsed, poolUsed + n));
  pool.fill(0, poolUsed, poolUsed + n);
  poolUsed += n;
  return out;
};

/**
 * A ciphertext could not be decrypted: malformed, too short, tampered with, wrong key or wrong
 * context. Deliberately carries no detail (the wire answer is one constant, docs/protocol.md#errors).
 */
export class DecryptError extends KesError {
  readonly code = 'DECRYPT_FAILED';

  constructor(options?: ErrorOptions) {
    super('decryption failed: ciphertext is not authentic', options);
  }
}

/** HMAC was requested from a legacy key that has no HMAC key (→ 409, docs/protocol.md#errors). */
export class NoHmacKeyError extends KesError {
  readonly code = 'NO_HMAC_KEY';

  constructor() {
    super('key does not support HMAC');
  }
}

function draw(random: RandomSource, n: number): Uint8Array {
  const bytes = random(n);
  if (!(bytes instanceof Uint8Array) || bytes.length !== n) {
    throw new RangeError(`crypto: random source returned ${bytes?.length} bytes, expected ${n}`);
  }
  return bytes;
}

/**
 * Creates a new key version with a random master key and a random SHA-256 HMAC key (docs/protocol.md#stored-keys).
 * Throws a RangeError if `random` does not return the requested number of bytes.
 */
export function generateKeyVersion(
  createdBy: string,
  cipher: Cipher = 'AES256',
  random: RandomSource = systemRandom,
  now: Date = new Date(),
): KeyVersion {
  const key = Uint8Array.from(draw(random, KEY_SIZE));
  const hmacKey = Uint8Array.from(draw(random, KEY_SIZE));
  return { key, cipher, hmacKey, createdAt: new Date(now.getTime()), createdBy };
}

/**
 * Encrypts `plaintext` with `context` as associated data and returns `C ‖ IV ‖ N` (docs/protocol.md#ciphertext).
 * Throws a RangeError if the key is not 32 bytes or `random` misbehaves.
 */
export function encrypt(
  kv: KeyVersion,
  plaintext: Uint8Array,
  context: Uint8Array,
  random: RandomSource = systemRandom,
): Uint8Array {
  const r = draw(random, IV_SIZE + NONCE_SIZE);
  const iv = r.subarray(0, IV_SIZE);
  const nonce = r.subarray(IV_SIZE, IV_SIZE + NONCE_SIZE);
  // The raw format `C ‖ IV ‖ N` (joinRaw's layout), joined in the one copy seal makes.
  return seal(kv.cipher, kv.key, iv, nonce, plaintext, context, [iv, nonce]);
}

/**
 * Decrypts a raw or legacy (MessagePack / JSON) ciphertext with `context` as associated data
 * (docs/protocol.md#legacy-ciphertexts). The algorithm is always the stored key's; legacy algorithm and id fields are ignored.
 * Throws `DecryptError` on every failure.
 */
export function decrypt(kv: KeyVersion, ciphertext: Uint8Array, context: Uint8Array): Uint8Array {
  const parts = splitRaw(normalizeCiphertext(ciphertext));
  if (!parts) throw new DecryptError();
  try {
    return open(kv.cipher, kv.key, parts.iv, parts.nonce, parts.sealed, context);
  } catch (cause) {
    throw new DecryptError({ cause });
  }
}

/** HMAC-SHA-256 of `message` under the key's HMAC key (docs/protocol.md#hmac). Throws `NoHmacKeyError`. */
export function hmac(kv: KeyVersion, message: Uint8Array): Uint8Array {
  if (!kv.hmacKey) throw new NoHmacKeyError();
  return new Uint8Array(createHmac('sha256', secretKeyOf(kv.hmacKey)).update(message).digest());
}
