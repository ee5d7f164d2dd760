/** Helpers shared by the handlers: name checks, key-store error mapping, audit records. */
import type { KeyVersion } from '../../crypto/key.ts';
import { isKeyStoreError } from '../../keystore/errors.ts';
import { type ApiError, ErrInvalidKeyName, ErrKeyExists, ErrKeyNotFound, ErrReadKey, InternalFailure } from '../errors.ts';
import { isValidName } from '../names.ts';
import type { RequestContext } from '../route.ts';
import type { ServerState } from '../state.ts';

/** The resource as a key name. @throws ErrInvalidKeyName */
export function keyName(ctx: RequestContext): string {
  if (!isValidName(ctx.resource)) throw ErrInvalidKeyName;
  return ctx.resource;
}

/**
 * Maps a key-store error to its wire error: missing → 404, existing → 400; anything else is an
 * internal failure answered with `fallback` and logged.
 */
export function storeFailure(err: unknown, fallback: ApiError): Error {
  if (isKeyStoreError(err, 'KEY_NOT_FOUND')) return ErrKeyNotFound;
  if (isKeyStoreError(err, 'KEY_EXISTS')) return ErrKeyExists;
  if (isKeyStoreError(err, 'INVALID_NAME')) return ErrInvalidKeyName;
  return new InternalFailure(fallback, err);
}

/** The named key through the cache. @throws ErrKeyNotFound, or an internal failure (502). */
export async function loadKey(state: ServerState, name: string): Promise<KeyVersion> {
  try {
    return await state.cache.get(name);
  } catch (err) {
    throw storeFailure(err, ErrReadKey);
  }
}

/** Records a successful key create, import or delete (the only audited operations, docs/protocol.md#audit-log). */
export function audit(ctx: RequestContext, state: ServerState, msg: string): void {
  state.auditLog.record({
    time: new Date(),
    method: ctx.method,
    path: ctx.path,
    ip: ctx.ip,
    identity: ctx.identity,
    code: 200,
    durationMs: Math.round(performance.now() - ctx.startedAt),
    msg,
  });
}
