/** The route table of the API (docs/protocol.md#routes) and the `api:` configuration overrides (docs/protocol.md#config-api). */
import * as E from './errors.ts';
import { bulkDecryptKey, decryptKey, encryptKey, generateKey, hmacKey } from './handlers/crypto.ts';
import { createKey, deleteKey, describeKey, importKey, listKeys } from './handlers/keys.ts';
import { auditLog, errorLog } from './handlers/logs.ts';
import { describeIdentity, describePolicy, describeSelf, listIdentities, listPolicies, readPolicy } from './handlers/policy.ts';
import { listApis, metrics, ready, status, version } from './handlers/system.ts';
import * as P from './paths.ts';
import type { AuthMode, Handler, Route } from './route.ts';

/** Body limit of routes that take a body: 1 MB (SI), as the newest server (docs/protocol.md#request-pipeline). */
const MaxBody = 1_000_000;
/** Legacy bulk decryption kept the old 1 MiB limit (docs/protocol.md#older-servers). */
const MaxBulkBody = 1_048_576;

const S = 1000;

function route(
  method: Route['method'],
  path: string,
  maxBody: number,
  timeoutMs: number,
  auth: AuthMode,
  handler: Handler,
  failure: E.ApiError,
  opts: { counted?: boolean; bodyError?: E.ApiError } = {},
): Route {
  return Object.freeze({
    method,
    path,
    prefix: path.endsWith('/'),
    maxBody,
    timeoutMs,
    auth,
    counted: opts.counted ?? false,
    bodyError: opts.bodyError ?? E.ErrInvalidBody,
    failure,
    handler,
  });
}

/** A fresh copy of the default route table. */
export function defaultRoutes(): Route[] {
  const c = { counted: true };
  return [
    route('GET', P.PathVersion, 0, 10 * S, 'none', version, E.ErrVersion),
    route('GET', P.PathReady, 0, 15 * S, 'policy', ready, E.ErrKeyStoreUnavailable),
    route('GET', P.PathStatus, 0, 15 * S, 'policy', status, E.ErrInternal),
    route('GET', P.PathMetrics, 0, 15 * S, 'policy', metrics, E.ErrInternal),
    route('GET', P.PathListAPIs, 0, 10 * S, 'policy', listApis, E.ErrInternal),

    route('PUT', P.PathKeyCreate, 0, 15 * S, 'policy', createKey, E.ErrCreateKey, c),
    route('PUT', P.PathKeyImport, MaxBody, 15 * S, 'policy', importKey, E.ErrCreateKey, { counted: true, bodyError: E.ErrInvalidImportBody }),
    route('GET', P.PathKeyDescribe, 0, 15 * S, 'policy', describeKey, E.ErrReadKey, c),
    route('GET', P.PathKeyList, 0, 15 * S, 'policy', listKeys, E.ErrListKeys, c),
    route('DELETE', P.PathKeyDelete, 0, 15 * S, 'policy', deleteKey, E.ErrDeleteKey, c),
    route('PUT', P.PathKeyGenerate, MaxBody, 15 * S, 'policy', generateKey, E.ErrGenerateKey, c),
    route('PUT', P.PathKeyEncrypt, MaxBody, 15 * S, 'policy', encryptKey, E.ErrEncrypt, c),
    route('PUT', P.PathKeyDecrypt, MaxBody, 15 * S, 'policy', decryptKey, E.ErrDecryptFailed, c),
    route('PUT', P.PathKeyHMAC, MaxBody, 15 * S, 'policy', hmacKey, E.ErrReadKey, c),
    route('PUT', P.PathKeyBulkDecrypt, MaxBulkBody, 15 * S, 'policy', bulkDecryptKey, E.ErrDecryptFailed, c),

    route('GET', P.PathPolicyDescribe, 0, 15 * S, 'policy', describePolicy, E.ErrInternal, c),
    route('GET', P.PathPolicyRead, 0, 15 * S, 'policy', readPolicy, E.ErrInternal, c),
    route('GET', P.PathPolicyList, 0, 15 * S, 'policy', listPolicies, E.ErrInternal, c),
    route('GET', P.PathIdentityDescribe, 0, 15 * S, 'policy', describeIdentity, E.ErrInternal, c),
    route('GET', P.PathIdentityList, 0, 15 * S, 'policy', listIdentities, E.ErrInternal, c),
    route('GET', P.PathIdentitySelfDescribe, 0, 15 * S, 'self', describeSelf, E.ErrInternal, c),

    route('GET', P.PathLogError, 0, 0, 'policy', errorLog, E.ErrInternal),
    route('GET', P.PathLogAudit, 0, 0, 'policy', auditLog, E.ErrInternal),
  ];
}

export interface ApiOverride {
  readonly skipAuth: boolean;
  /** 0 keeps the default timeout. */
  readonly timeoutMs: number;
}

/**
 * Applies `api:` entries keyed by route path (unknown paths are ignored): `skip_auth` turns a
 * route into "identify only", a positive `timeout` replaces the default.
 */
export function applyApiOverrides(routes: readonly Route[], api: ReadonlyMap<string, ApiOverride>): Route[] {
  return routes.map((r) => {
    const o = api.get(r.path);
    if (o === undefined) return r;
    return Object.freeze({
      ...r,
      auth: o.skipAuth && r.auth === 'policy' ? 'self' : r.auth,
      timeoutMs: o.timeoutMs > 0 ? o.timeoutMs : r.timeoutMs,
    });
  });
}

/** True when any override skips authentication (relaxes the TLS client-auth mode, docs/protocol.md#client-certificates). */
export function anySkipAuth(api: ReadonlyMap<string, ApiOverride>): boolean {
  return [...api.values()].some((o) => o.skipAuth);
}
