/**
 * The KES server configuration file (docs/protocol.md#configuration-file) for the TypeScript KES server, which reads the same
 * schema as minio/kes. Vault AppRole credentials are never written into the file: the file refers
 * to environment variables (docs/protocol.md#config-environment-variables) that the target fills from its secret store.
 */
import { stringify } from 'yaml';
import { RenderError, isKesPattern, requireHttpUrl, requireKesName, requireNonEmpty } from './validate.ts';

/** Environment variable carrying the AppRole role_id into the KES process. */
export const KES_VAULT_ROLE_ID_ENV = 'KES_VAULT_ROLE_ID';
/** Environment variable carrying the AppRole secret_id into the KES process. */
export const KES_VAULT_SECRET_ID_ENV = 'KES_VAULT_SECRET_ID';
/** The policy bound to MinIO's identity. */
export const MINIO_POLICY_NAME = 'minio';
/** Default KES listen port. */
export const KES_PORT = 7373;

/** The Vault K/V keystore (docs/protocol.md#config-keystore, #vault-keystore). */
export interface KesVaultKeystoreArgs {
  readonly kind: 'vault';
  readonly endpoint: string;
  /** K/V mount path; default `kv`. */
  readonly engine?: string;
  /** K/V engine version; default `v1`. */
  readonly version?: 'v1' | 'v2';
  /** Folder inside the engine; default none. */
  readonly prefix?: string;
  /** Vault namespace for K/V calls; default none. */
  readonly namespace?: string;
  /** AppRole auth mount; default `approle`. */
  readonly approleEngine?: string;
  /** Login namespace when it differs from `namespace` (`/` = root). */
  readonly approleNamespace?: string;
  /** Files for mTLS to Vault and for verifying Vault's certificate. */
  readonly tls?: { readonly keyFile?: string; readonly certFile?: string; readonly caFile?: string };
}

/** A filesystem keystore (tests, single-host demos). */
export interface KesFsKeystoreArgs {
  readonly kind: 'fs';
  readonly path: string;
}

/** Everything the KES config file says. */
export interface KesConfigArgs {
  /** `ip:port` to listen on; default `0.0.0.0:7373`. */
  readonly address?: string;
  /** Admin identity (hex SHA-256 of the admin's public key), or `disabled`. */
  readonly adminIdentity: string;
  readonly tls: {
    readonly keyFile: string;
    readonly certFile: string;
    /** Set to verify client certificates against this CA (`tls.auth: on`). */
    readonly clientCaFile?: string;
  };
  /** MinIO's identity (from its client certificate or API key). */
  readonly minioIdentity: string;
  /** Key-name patterns MinIO may use (docs/protocol.md#authorization: a trailing `*` is a prefix match); default `['*']`. */
  readonly keyPatterns?: readonly string[];
  /** Allow `/v1/key/hmac/` so MinIO can derive root credentials from the default key (docs/protocol.md#minio-start-up). */
  readonly allowRootCredentialDerivation?: boolean;
  /** Keys to create at start-up (docs/protocol.md#config-keys). */
  readonly keys?: readonly string[];
  /** Cache expiry in milliseconds (docs/protocol.md#config-cache); defaults any 5m, unused 30s, offline 0. */
  readonly cache?: { readonly anyMs?: number; readonly unusedMs?: number; readonly offlineMs?: number };
  /** Console log levels (docs/protocol.md#config-log); defaults `INFO` / `off`. */
  readonly log?: { readonly error?: string; readonly audit?: string };
  readonly keystore: KesVaultKeystoreArgs | KesFsKeystoreArgs;
}

/** Routes MinIO calls (docs/protocol.md#minio-as-a-client), as policy patterns for the allowed key patterns. */
export function minioPolicyAllow(keyPatterns: readonly string[], allowHmac: boolean): string[] {
  const perKey = ['create', 'generate', 'decrypt', 'describe'];
  if (allowHmac) perKey.push('hmac');
  const allow = new Set<string>();
  for (const p of keyPatterns) for (const op of perKey) allow.add(`/v1/key/${op}/${p}`);
  // `mc admin kms key list` with `*` reaches KES as an empty list prefix (docs/protocol.md#mc-admin-kms); MinIO filters
  // the names by its own IAM policy, so listing is allowed for all names.
  allow.add('/v1/key/list/*');
  // `/version` needs no authentication (docs/protocol.md#routes); status/metrics/api back `mc admin kms` (docs/protocol.md#mc-admin-kms).
  allow.add('/v1/status');
  allow.add('/v1/metrics');
  allow.add('/v1/api');
  return [...allow].sort();
}

/** Go duration text for a millisecond count (`5m`, `30s`, `250ms`, `0s`). */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const IDENTITY = /^[0-9a-f]{64}$/;
const LOG_LEVEL = /^(on|off|debug|info|warn|error)([+-][0-9]+)?$|^-?[0-9]+$/i;

function checkArgs(a: KesConfigArgs): void {
  requireNonEmpty('adminIdentity', a.adminIdentity);
  if (!IDENTITY.test(a.minioIdentity)) throw new RenderError('INVALID_ARGUMENT', 'minioIdentity', 'must be a 64-character lower-case hex identity');
  if (a.minioIdentity === a.adminIdentity) throw new RenderError('CONFLICTING_ARGUMENTS', 'minioIdentity', 'must differ from the admin identity');
  requireNonEmpty('tls.keyFile', a.tls.keyFile);
  requireNonEmpty('tls.certFile', a.tls.certFile);
  if (a.address !== undefined && !/^[0-9a-fA-F.:[\]]+:[0-9]{1,5}$/.test(a.address)) {
    throw new RenderError('INVALID_ARGUMENT', 'address', 'must be ip:port (KES rejects host names, docs/protocol.md#config-top-level)');
  }
  const patterns = a.keyPatterns ?? ['*'];
  if (patterns.length === 0) throw new RenderError('MISSING_ARGUMENT', 'keyPatterns', 'at least one key pattern is needed');
  for (const p of patterns) if (p === '' || !isKesPattern(p)) throw new RenderError('INVALID_ARGUMENT', 'keyPatterns', 'not a KES name pattern');
  const keys = a.keys ?? [];
  keys.forEach((k, i) => requireKesName(`keys[${i}]`, k));
  if (new Set(keys).size !== keys.length) throw new RenderError('INVALID_ARGUMENT', 'keys', 'duplicate key names');
  for (const [f, v] of Object.entries(a.cache ?? {})) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new RenderError('INVALID_ARGUMENT', `cache.${f}`, 'must be a non-negative integer');
  }
  for (const [f, v] of Object.entries(a.log ?? {})) {
    if (v !== undefined && !LOG_LEVEL.test(v)) throw new RenderError('INVALID_ARGUMENT', `log.${f}`, 'not a log level');
  }
  const ks = a.keystore;
  if (ks.kind === 'fs') {
    requireNonEmpty('keystore.path', ks.path);
  } else {
    requireNonEmpty('keystore.endpoint', ks.endpoint);
    requireHttpUrl('keystore.endpoint', ks.endpoint);
    if (ks.version !== undefined && ks.version !== 'v1' && ks.version !== 'v2') throw new RenderError('INVALID_ARGUMENT', 'keystore.version', "must be 'v1' or 'v2'");
    if ((ks.tls?.keyFile === undefined) !== (ks.tls?.certFile === undefined)) {
      throw new RenderError('CONFLICTING_ARGUMENTS', 'keystore.tls', 'keyFile and certFile go together');
    }
  }
}

/** The `keystore:` mapping of a KES config; AppRole credentials are `${…}` references to the environment. */
export function keystoreSection(ks: KesVaultKeystoreArgs | KesFsKeystoreArgs): Record<string, unknown> {
  switch (ks.kind) {
    case 'fs':
      return { fs: { path: ks.path } };
    case 'vault': {
      const approle: Record<string, string> = {
        engine: ks.approleEngine ?? 'approle',
        id: `\${${KES_VAULT_ROLE_ID_ENV}}`,
        secret: `\${${KES_VAULT_SECRET_ID_ENV}}`,
      };
      if (ks.approleNamespace) approle.namespace = ks.approleNamespace;
      const vault: Record<string, unknown> = {
        endpoint: ks.endpoint,
        engine: ks.engine ?? 'kv',
        version: ks.version ?? 'v1',
        approle,
      };
      if (ks.prefix) vault.prefix = ks.prefix;
      if (ks.namespace) vault.namespace = ks.namespace;
      const tls: Record<string, string> = {};
      if (ks.tls?.keyFile) tls.key = ks.tls.keyFile;
      if (ks.tls?.certFile) tls.cert = ks.tls.certFile;
      if (ks.tls?.caFile) tls.ca = ks.tls.caFile;
      if (Object.keys(tls).length > 0) vault.tls = tls;
      return { vault };
    }
    default: {
      const never: never = ks;
      throw new RenderError('INVALID_ARGUMENT', 'keystore.kind', `unknown keystore ${String((never as { kind: unknown }).kind)}`);
    }
  }
}

/**
 * Renders the KES config YAML. Deterministic: keys sorted, lists sorted. Throws `RenderError`
 * naming the argument when an argument is invalid.
 */
export function renderKesConfig(a: KesConfigArgs): string {
  checkArgs(a);
  const tls: Record<string, string> = { key: a.tls.keyFile, cert: a.tls.certFile };
  if (a.tls.clientCaFile) {
    tls.auth = 'on';
    tls.ca = a.tls.clientCaFile;
  }
  const cache = a.cache ?? {};
  const doc = {
    version: 'v1',
    address: a.address ?? `0.0.0.0:${KES_PORT}`,
    admin: { identity: a.adminIdentity },
    tls,
    policy: {
      [MINIO_POLICY_NAME]: {
        allow: minioPolicyAllow(a.keyPatterns ?? ['*'], a.allowRootCredentialDerivation ?? false),
        identities: [a.minioIdentity],
      },
    },
    // Readiness probes (Kubernetes, Docker health checks) carry no client certificate.
    api: { '/v1/ready': { skip_auth: true } },
    // `unused` is always set: with unused 0, kes resets `any` to 30s (docs/protocol.md#config-cache).
    cache: {
      expiry: {
        any: goDuration(cache.anyMs ?? 300_000),
        unused: goDuration(cache.unusedMs ?? 30_000),
        offline: goDuration(cache.offlineMs ?? 0),
      },
    },
    log: { error: a.log?.error ?? 'INFO', audit: a.log?.audit ?? 'off' },
    keys: [...(a.keys ?? [])].sort().map((name) => ({ name })),
    keystore: keystoreSection(a.keystore),
  };
  return stringify(doc, { sortMapEntries: true, lineWidth: 0 });
}
