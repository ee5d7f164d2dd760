/**
 * KES API keys (docs/protocol.md#api-keys): `kes:v1:` + base64(0x00 ‖ 32-byte Ed25519 seed).
 */
import { KesError } from '../errors.ts';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { identityOfPublicKey } from './identity.ts';

const PREFIX = 'kes:v1:';
const TYPE_ED25519 = 0x00;
const SEED_LENGTH = 32;
// PKCS#8 PrivateKeyInfo for Ed25519 (RFC 8410 §7) up to the 32-byte seed:
// SEQ { INTEGER 0, SEQ { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } }
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An Ed25519 API key and the identity of its public key. */
export interface ApiKey {
  readonly identity: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The `kes:v1:…` text form. This is a secret: never log it. */
  toString(): string;
}

/** Thrown for text that is not an API key. The message never contains the input. */
export class ApiKeyError extends KesError {
  readonly code = 'INVALID_API_KEY';

  constructor(message: string) {
    super(`api key: ${message}`);
  }
}

class Ed25519ApiKey implements ApiKey {
  readonly identity: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly #seed: Uint8Array;

  constructor(seed: Uint8Array) {
    this.#seed = Uint8Array.from(seed);
    this.privateKey = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, this.#seed]),
      format: 'der',
      type: 'pkcs8',
    });
    this.publicKey = createPublicKey(this.privateKey);
    this.identity = identityOfPublicKey(this.publicKey);
  }

  toString(): string {
    return PREFIX + Buffer.concat([Uint8Array.of(TYPE_ED25519), this.#seed]).toString('base64');
  }

  // Keeps the seed out of util.inspect / console.log output.
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `ApiKey { identity: '${this.identity}' }`;
  }

  toJSON(): { identity: string } {
    return { identity: this.identity };
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parses an API key; the `kes:v1:` prefix is optional. Throws `ApiKeyError` when the text is
 * not standard padded base64 of 33 bytes starting with the Ed25519 type byte 0x00.
 */
export function parseApiKey(text: string): ApiKey {
  const body = text.startsWith(PREFIX) ? text.slice(PREFIX.length) : text;
  if (!BASE64.test(body)) throw new ApiKeyError('invalid encoding: not base64');
  const raw = Buffer.from(body, 'base64');
  if (raw.length !== 1 + SEED_LENGTH) {
    throw new ApiKeyError(`invalid length: expected ${1 + SEED_LENGTH} bytes, got ${raw.length}`);
  }
  if (raw[0] !== TYPE_ED25519) throw new ApiKeyError(`unsupported key type ${raw[0]}`);
  const key = new Ed25519ApiKey(raw.subarray(1));
  raw.fill(0);
  return key;
}

/** Generates a new API key from 32 random bytes (the source is injectable for tests). */
export function generateApiKey(random: (n: number) => Uint8Array = randomBytes): ApiKey {
  const seed = random(SEED_LENGTH);
  if (seed.length !== SEED_LENGTH) throw new ApiKeyError('random source returned a wrong length');
  return new Ed25519ApiKey(seed);
}
