/** Cryptographic handlers: generate, encrypt, decrypt, hmac and legacy bulk decrypt (docs/protocol.md#key-routes, #older-servers). */
import { decrypt, DecryptError, encrypt, hmac, type KeyVersion, NoHmacKeyError } from '../../crypto/key.ts';
import {
  ErrDecrypt,
  ErrDecryptFailed,
  ErrEncrypt,
  ErrGenerateKey,
  ErrInvalidBody,
  ErrNoHMAC,
  ErrTooManyCiphertexts,
  InternalFailure,
} from '../errors.ts';
import { encodeBase64 } from '../../crypto/base64.ts';
import { BodyDecodeError, decodeFields, parseFirstValue } from '../json.ts';
import { json, jsonText, type RequestContext, type Reply } from '../route.ts';
import type { ServerState } from '../state.ts';
import { keyName, loadKey } from './common.ts';

/** Legacy bulk decryption accepts at most this many ciphertexts per call. */
const MaxBulkCiphertexts = 1000;

const GenerateBody = { context: 'bytes' } as const;
const EncryptBody = { plaintext: 'bytes', context: 'bytes' } as const;
const DecryptBody = { ciphertext: 'bytes', context: 'bytes' } as const;
const HmacBody = { message: 'bytes' } as const;
const BulkItem = { ciphertext: 'bytes', context: 'bytes' } as const;

/** Decodes the body as a JSON object, mapping any decode failure to ErrInvalidBody. */
function body<S extends Record<string, 'bytes' | 'string'>>(ctx: RequestContext, schema: S) {
  try {
    return decodeFields(parseFirstValue(ctx.body), schema);
  } catch (err) {
    if (err instanceof BodyDecodeError) throw ErrInvalidBody;
    throw err;
  }
}

export async function generateKey(ctx: RequestContext, state: ServerState): Promise<Reply> {
  const name = keyName(ctx);
  // The body is optional; it is only parsed when present (docs/protocol.md#key-routes, generate).
  const req = ctx.body.length > 0 ? body(ctx, GenerateBody) : { context: new Uint8Array(0) };
  const kv = await loadKey(state, name);
  let plaintext: Uint8Array;
  let ciphertext: Uint8Array;
  try {
    plaintext = state.random(32);
    ciphertext = encrypt(kv, plaintext, req.context, state.random);
  } catch (err) {
    throw new InternalFailure(ErrGenerateKey, err);
  }
  return jsonText(`{"plaintext":"${encodeBase64(plaintext)}","ciphertext":"${encodeBase64(ciphertext)}"}\n`);
}

export async function encryptKey(ctx: RequestContext, state: ServerState): Promise<Reply> {
  const name = keyName(ctx);
  const req = body(ctx, EncryptBody);
  const kv = await loadKey(state, name);
  let ciphertext: Uint8Array;
  try {
    ciphertext = encrypt(kv, req.plaintext, req.context, state.random);
  } catch (err) {
    throw new InternalFailure(ErrEncrypt, err);
  }
  return jsonText(`{"ciphertext":"${encodeBase64(ciphertext)}"}\n`);
}

function open(kv: KeyVersion, ciphertext: Uint8Array, context: Uint8Array): Uint8Array {
  try {
    return decrypt(kv, ciphertext, context);
  } catch (err) {
    if (err instanceof DecryptError) throw ErrDecrypt;
    throw new InternalFailure(ErrDecryptFailed, err);
  }
}

export async function decryptKey(ctx: RequestContext, state: ServerState): Promise<Reply> {
  const name = keyName(ctx);
  const req = body(ctx, DecryptBody);
  const kv = await loadKey(state, name);
  return jsonText(`{"plaintext":"${encodeBase64(open(kv, req.ciphertext, req.context))}"}\n`);
}

export async function hmacKey(ctx: RequestContext, state: ServerState): Promise<Reply> {
  const name = keyName(ctx);
  const req = body(ctx, HmacBody);
  const kv = await loadKey(state, name);
  try {
    return json({ hmac: encodeBase64(hmac(kv, req.message)) });
  } catch (err) {
    if (err instanceof NoHmacKeyError) throw ErrNoHMAC;
    throw err;
  }
}

/**
 * Legacy bulk decryption (docs/protocol.md#older-servers): a JSON array of `{ciphertext, context}`, answered with an array
 * of `{plaintext}` in the same order; one failure fails the whole call.
 */
export async function bulkDecryptKey(ctx: RequestContext, state: ServerState): Promise<Reply> {
  const name = keyName(ctx);
  let items: Array<{ ciphertext: Uint8Array; context: Uint8Array }>;
  try {
    const value = parseFirstValue(ctx.body);
    if (!Array.isArray(value)) throw new BodyDecodeError('body is not a JSON array');
    if (value.length > MaxBulkCiphertexts) throw ErrTooManyCiphertexts;
    items = value.map((v) => decodeFields(v, BulkItem));
  } catch (err) {
    if (err instanceof BodyDecodeError) throw ErrInvalidBody;
    throw err;
  }
  const kv = await loadKey(state, name);
  return json(items.map((item) => ({ plaintext: encodeBase64(open(kv, item.ciphertext, item.context)) })));
}
