/**
 * MinIO server environment (docs/protocol.md#minio-environment): KES endpoints, default key, exactly one
 * KES client credential, root credentials and the `MINIO_VOLUMES` expression; plus the systemd
 * `EnvironmentFile` text of such an environment.
 */
import { RenderError, requireDistributedDrives, requireInt, requireKesName, requireNonEmpty, sortedRecord } from './validate.ts';

/** Where MinIO's drives are. */
export interface MinioVolumeLayout {
  /** Number of MinIO nodes; 1 = single node. */
  readonly nodes: number;
  /** Drives per node; 1 = `dataRoot` itself, more = `dataRoot{1...N}`. */
  readonly drivesPerNode: number;
  /** Drive path (single drive) or drive path prefix (several drives), e.g. `/data`. */
  readonly dataRoot: string;
  /** Multi-node only: host names are `${hostPrefix}{first...last}${hostSuffix}`. */
  readonly hostPrefix?: string;
  readonly hostSuffix?: string;
  /** Index of the first host; 0 for StatefulSet pods, default 1. */
  readonly firstHostIndex?: number;
  /** Multi-node only; default 9000. */
  readonly port?: number;
  /** Multi-node only; default `http`. */
  readonly scheme?: 'http' | 'https';
}

/** `MINIO_VOLUMES` for a layout, using MinIO's `{a...b}` ellipsis notation. */
export function minioVolumes(l: MinioVolumeLayout): string {
  requireInt('nodes', l.nodes, 1, 1024);
  requireInt('drivesPerNode', l.drivesPerNode, 1, 64);
  requireNonEmpty('dataRoot', l.dataRoot);
  if (!l.dataRoot.startsWith('/') || /\s|\{/.test(l.dataRoot)) throw new RenderError('INVALID_ARGUMENT', 'dataRoot', 'must be an absolute path without spaces or braces');
  const drives = l.drivesPerNode === 1 ? l.dataRoot : `${l.dataRoot}{1...${l.drivesPerNode}}`;
  if (l.nodes === 1) return drives;
  requireNonEmpty('hostPrefix', l.hostPrefix);
  // Distributed MinIO needs at least 2 nodes with ≥ 4 drives in total per erasure set.
  requireDistributedDrives('drivesPerNode', l.nodes, l.drivesPerNode);
  const first = l.firstHostIndex ?? 1;
  requireInt('firstHostIndex', first, 0, 1_000_000);
  const port = l.port ?? 9000;
  requireInt('port', port, 1, 65535);
  return `${l.scheme ?? 'http'}://${l.hostPrefix}{${first}...${first + l.nodes - 1}}${l.hostSuffix ?? ''}:${port}${drives}`;
}

/** Everything MinIO needs to know about KES and itself. */
export interface MinioEnvArgs {
  /** Full KES URLs, e.g. `https://kes-0:7373`; all replicas. */
  readonly kesEndpoints: readonly string[];
  /** `MINIO_KMS_KES_KEY_NAME`, required by MinIO whenever KES is configured. */
  readonly defaultKeyName: string;
  /** `kes:v1:` API key; exclusive with the client cert/key files. */
  readonly apiKey?: string;
  readonly clientCertFile?: string;
  readonly clientKeyFile?: string;
  /** CA file or directory that verifies the KES server certificate. */
  readonly kesCaPath?: string;
  readonly rootUser: string;
  readonly rootPassword: string;
  /** `MINIO_VOLUMES`, see `minioVolumes`. */
  readonly volumes: string;
  /** `MINIO_OPTS` (systemd unit only), e.g. `--console-address :9001`. */
  readonly opts?: string;
}

/**
 * Renders MinIO's environment. Throws `RenderError` when both or neither KES credential kinds are
 * given (MinIO refuses to start then), or when an argument is malformed.
 */
export function renderMinioEnv(a: MinioEnvArgs): Record<string, string> {
  if (a.kesEndpoints.length === 0) throw new RenderError('MISSING_ARGUMENT', 'kesEndpoints', 'at least one KES endpoint is needed');
  for (const e of a.kesEndpoints) {
    if (!/^https:\/\/[^\s,/]+$/.test(e)) throw new RenderError('INVALID_ARGUMENT', 'kesEndpoints', 'each endpoint must be https://host:port with no path');
  }
  requireKesName('defaultKeyName', a.defaultKeyName);
  const hasFiles = a.clientCertFile !== undefined || a.clientKeyFile !== undefined;
  if (a.apiKey !== undefined && hasFiles) {
    throw new RenderError('CONFLICTING_ARGUMENTS', 'apiKey', 'MinIO accepts either an API key or a client certificate and key, not both');
  }
  if (a.apiKey === undefined && !hasFiles) throw new RenderError('MISSING_ARGUMENT', 'apiKey', 'an API key or a client certificate and key is needed');
  if (hasFiles && (!a.clientCertFile || !a.clientKeyFile)) {
    throw new RenderError('MISSING_ARGUMENT', a.clientCertFile ? 'clientKeyFile' : 'clientCertFile', 'client certificate and key go together');
  }
  if (a.apiKey !== undefined && !a.apiKey.startsWith('kes:v1:')) throw new RenderError('INVALID_ARGUMENT', 'apiKey', 'must be a kes:v1: API key');
  if (a.rootUser.length < 3) throw new RenderError('INVALID_ARGUMENT', 'rootUser', 'must have at least 3 characters');
  if (a.rootPassword.length < 8) throw new RenderError('INVALID_ARGUMENT', 'rootPassword', 'must have at least 8 characters');
  requireNonEmpty('volumes', a.volumes);

  const env: Record<string, string> = {
    MINIO_KMS_KES_ENDPOINT: a.kesEndpoints.join(','),
    MINIO_KMS_KES_KEY_NAME: a.defaultKeyName,
    MINIO_ROOT_USER: a.rootUser,
    MINIO_ROOT_PASSWORD: a.rootPassword,
    MINIO_VOLUMES: a.volumes,
  };
  if (a.apiKey !== undefined) env.MINIO_KMS_KES_API_KEY = a.apiKey;
  else {
    env.MINIO_KMS_KES_CERT_FILE = a.clientCertFile as string;
    env.MINIO_KMS_KES_KEY_FILE = a.clientKeyFile as string;
  }
  if (a.kesCaPath) env.MINIO_KMS_KES_CAPATH = a.kesCaPath;
  if (a.opts) env.MINIO_OPTS = a.opts;
  return sortedRecord(env);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Text of a systemd `EnvironmentFile` (also valid for a POSIX shell `.`): one `KEY="value"` line
 * per variable, sorted. Inside double quotes `\`, `"`, `$` and `` ` `` are escaped with a
 * backslash, which systemd and sh both undo. Throws `RenderError` for invalid names and for
 * values with newlines or NUL (neither format can carry them safely).
 */
export function renderEnvFile(env: Readonly<Record<string, string>>): string {
  return envLines(sortedRecord(env), '');
}

/**
 * The `config.env` of a MinIO Operator Tenant (the Secret named in `spec.configuration`): the
 * root credentials as `export KEY="value"` lines, escaped exactly like `renderEnvFile`.
 */
export function renderTenantConfigEnv(a: { readonly rootUser: string; readonly rootPassword: string }): string {
  return envLines({ MINIO_ROOT_USER: a.rootUser, MINIO_ROOT_PASSWORD: a.rootPassword }, 'export ');
}

function envLines(env: Readonly<Record<string, string>>, prefix: string): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (!ENV_NAME.test(k)) throw new RenderError('INVALID_ARGUMENT', 'env', `invalid variable name ${JSON.stringify(k)}`);
    if (/[\n\r\0]/.test(v)) throw new RenderError('INVALID_ARGUMENT', `env.${k}`, 'value contains a newline or NUL');
    lines.push(`${prefix}${k}="${v.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
