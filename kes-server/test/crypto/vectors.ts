/** Loads the shared test vectors (test/fixtures/kes-vectors.json) and small byte helpers. */
import { readFileSync } from 'node:fs';

export interface DecryptVector {
  format: string;
  cipher: 'AES256' | 'ChaCha20';
  key: string;
  context: string | null;
  ciphertext: string;
  ciphertext_text?: string;
  plaintext: string;
  normalized_raw: string;
  iv_hex: string;
  nonce_hex: string;
}

export interface MustFailVector {
  cipher: 'AES256' | 'ChaCha20';
  key: string;
  ciphertext_text: string;
  reason: string;
}

export interface EncryptVector {
  cipher: 'AES256' | 'ChaCha20';
  key: string;
  plaintext: string;
  context: string | null;
  random_28_bytes_hex: string;
  iv_hex: string;
  nonce_hex: string;
  ciphertext: string;
  ciphertext_len: number;
}

export interface StoredKeyVector {
  format: string;
  raw: string;
  decoded: {
    key: string;
    key_type?: number;
    algorithm: 'AES256' | 'ChaCha20';
    hmac_key: string | null;
    hmac_hash?: number;
    created_at_seconds?: number;
    created_at_nanos?: number;
    created_at: string | null;
    created_by: string | null;
  };
}

export interface Vectors {
  decrypt_vectors: DecryptVector[];
  decrypt_must_fail: MustFailVector[];
  derived_encrypt_vectors: EncryptVector[];
  derived_subkeys: { aes256_subkey_hex: string; chacha20_hchacha_subkey_hex: string; key: string; iv_hex: string };
  hmac_vectors_derived: Array<{ hmac_key: string; message: string; message_text: string; hmac: string }>;
  stored_key_vectors: StoredKeyVector[];
  minio_context_vectors: Array<{ minio_context: Record<string, string>; canonical_json: string; base64: string }>;
}

export const vectors: Vectors = JSON.parse(
  readFileSync(new URL('../fixtures/kes-vectors.json', import.meta.url), 'utf8'),
);

/** Standard base64 → bytes (`null` → empty). */
export function b64(s: string | null | undefined): Uint8Array {
  return new Uint8Array(Buffer.from(s ?? '', 'base64'));
}

export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function toB64(b: Uint8Array): string {
  return Buffer.from(b).toString('base64');
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** A random source that returns the given bytes once, then fails the test if asked again. */
export function fixedRandom(bytes: Uint8Array): (n: number) => Uint8Array {
  let used = false;
  return (n) => {
    if (used || n !== bytes.length) throw new Error(`unexpected random draw of ${n} bytes`);
    used = true;
    return bytes.slice();
  };
}
