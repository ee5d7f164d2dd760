/** Key lifecycle handlers: create, import, describe, list, delete (docs/protocol.md#key-routes). */
import { type Cipher, generateKeyVersion, type KeyVersion } from '../../crypto/key.ts';
import {
  ErrCreateKey,
  ErrCreateKeyInternal,
  ErrDeleteKey,
  ErrImportCipher,
  ErrImportKeySize,
  ErrInvalidImportBody,
  ErrInvalidPattern,
  ErrListKeys,
  InternalFailure,
} from '../errors.ts';
import { BodyDecodeError, decodeFields, formatTime, parseFirstValue } from '../json.ts';
import { isValidPattern, patternPrefix } from '../names.ts';
import { empty, json, type RequestContext, type Reply } from '../route.ts';
import type { ServerState } from '../state.ts';
import { audit, keyName, loadKey, storeFailure } from './common.ts';

const ImportBody = { key: 'bytes', cipher: 'string' } as const;

/** Import cipher names the server accepts (docs/protocol.md#key-routes, import). A Map: `toString` is no cipher. */
const IMPORT_CIPHERS: ReadonlyMap<string, Cipher> = new Map([
  ['AES256', 'AES256'],
  ['AES256-GCM_SHA256', 'AES256'],
  ['ChaCha20', 'ChaCha20'],
  ['XCHACHA20-POLY1305', 'ChaCha20'],
]);

export async function createKey(ctx: RequestContext, state: ServerState): Promise<Reply> {
  const name = keyName(ctx);
  let kv: KeyVersion;
  try {
    kv = generateKeyVersion(ctx.identity, 'AES256', state.random);
  } catch (err) {
    throw new InternalFailure(ErrCreateKeyInternal, err);
  }
  try {
    await state.cache.create(name, kv);
  } catch (err) {
    throw storeFailure(err, ErrCreateKey);
  }
  audit(ctx, state, `secret key '${name}' created`);
  return empty;
}

export async function importKey(ctx: RequestContext, state: ServerState): Promise<Reply> {
  const name = keyName(ctx);
  let req: { key: Uint8Array; cipher: string };
  try {
    req = decodeFields(parseFirstValue(ctx.body), ImportBody);
  } catch (err) {
    if (err instanceof BodyDecodeError) throw ErrInvalidImportBody;
    throw err;
  }
  const cipher = IMPORT_CIPHERS.get(req.cipher);
  if (cipher === undefined) throw ErrImportCipher(req.cipher);
  if (req.key.length !== 32) throw ErrImportKeySize(req.cipher);
  const kv: KeyVersion = {
    key: req.key,
    cipher,
    // The HMAC key is always fresh: HMACs of an imported key are not reproducible elsewhere.
    hmacKey: state.random(32),
    createdAt: new Date(),
    createdBy: ctx.identity,
  };
  try {
    await state.cache.create(name, kv);
  } catch (err) {
    throw storeFailure(err, ErrCreateKey);
  }
  audit(ctx, state, `secret key '${name}' imported`);
  return empty;
}

export async function describeKey(ctx: RequestContext, state: ServerState): Promise<Reply> {
  const name = keyName(ctx);
  const kv = await loadKey(state, name);
  const out: Record<string, string> = { name, algorithm: kv.cipher, created_at: formatTime(kv.createdAt) };
  if (kv.createdBy !== '') out.created_by = kv.createdBy;
  return json(out);
}

/**
 * Lists all keys with the pattern's prefix. Unlike upstream, one trailing `*` is stripped, and
 * all names are returned at once without `continue_at` (docs/protocol.md#key-routes, list).
 */
export async function listKeys(ctx: RequestContext, state: ServerState): Promise<Reply> {
  if (!isValidPattern(ctx.resource)) throw ErrInvalidPattern;
  const prefix = patternPrefix(ctx.resource);
  let names: string[];
  try {
    // n = 0 asks the store for every matching name (KeyStore.list contract).
    names = (await state.cache.list(prefix, 0)).names;
  } catch (err) {
    throw storeFailure(err, ErrListKeys);
  }
  return json({ names });
}

export async function deleteKey(ctx: RequestContext, state: ServerState): Promise<Reply> {
  const name = keyName(ctx);
  try {
    await state.cache.delete(name);
  } catch (err) {
    throw storeFailure(err, ErrDeleteKey);
  } finally {
    // Like the local cache, every other worker forgets the key even when the store failed; the
    // answer waits for them so that a request right after it sees the delete on any worker.
    await state.evictFromOtherWorkers(name);
  }
  audit(ctx, state, `secret key '${name}' deleted`);
  return empty;
}
