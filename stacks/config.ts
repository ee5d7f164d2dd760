/**
 * Stack configuration → `MinioSseKesArgs`, validated before any resource is declared. Pure: the
 * program passes a getter over `pulumi.Config`, tests a getter over a `Pulumi.<stack>.yaml`.
 * Errors name the configuration key (`minio-sse-kes:<key>`).
 */
import type { MinioSseKesArgs } from '../components/stack.ts';

export const PROJECT = 'minio-sse-kes';

/** A configuration error; the message names the key and never contains its value. */
export class StackConfigError extends Error {
  readonly key: string;
  constructor(key: string, what: string) {
    super(`stack config [${PROJECT}:${key}]: ${what}`);
    this.name = 'StackConfigError';
    this.key = key;
  }
}

type Get = (key: string) => string | undefined;

/**
 * Prefix of every physical name the stack declares (containers, network, volumes, Kubernetes
 * objects, Vault role and policy): `namePrefix`, default `sse-<stack>`, so two stacks on one Docker
 * daemon, cluster namespace or Vault do not collide.
 */
export function stackNamePrefix(get: Get, stack: string): string {
  const given = get('namePrefix');
  const prefix = given ?? `sse-${stack.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`.replace(/-+$/, '').slice(0, 30);
  if (!/^[a-z][a-z0-9-]{0,28}[a-z0-9]$/.test(prefix)) {
    throw new StackConfigError('namePrefix', given === undefined ? 'the stack name gives no usable prefix; set namePrefix' : 'must be 2-30 lower-case letters, digits and hyphens, starting with a letter');
  }
  return prefix;
}

/**
 * First of the 20 loopback host ports a stack publishes when the config names none (MinIO S3 at
 * +0, OpenBao at +1, KES replicas from +2), derived from the stack name: stacks side by side on
 * one Docker host get different ports (600 blocks in 20000-31999, below the ephemeral range).
 */
export function stackPortBase(stack: string): number {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(stack)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return 20000 + 20 * (h % 600);
}

function oneOf<T extends string>(get: Get, key: string, allowed: readonly T[], dflt?: T): T {
  const v = get(key) ?? dflt;
  if (v === undefined) throw new StackConfigError(key, `required, one of ${allowed.join(', ')}`);
  if (!allowed.includes(v as T)) throw new StackConfigError(key, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

function int(get: Get, key: string, dflt: number, min: number, max: number): number {
  const raw = get(key);
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new StackConfigError(key, `must be an integer between ${min} and ${max}`);
  return n;
}

function json<T>(get: Get, key: string, check: (v: unknown) => v is T): T | undefined {
  const raw = get(key);
  if (raw === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new StackConfigError(key, 'must be a YAML list or object');
  }
  if (!check(v)) throw new StackConfigError(key, 'has the wrong shape');
  return v;
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isBuckets = (v: unknown): v is Array<{ name: string; key: string }> =>
  Array.isArray(v) && v.every((b) => typeof b === 'object' && b !== null && typeof b.name === 'string' && typeof b.key === 'string');
const isHosts = (v: unknown): v is Array<{ address: string; sshUser?: string }> =>
  Array.isArray(v) && v.length > 0 && v.every((h) => typeof h === 'object' && h !== null && typeof h.address === 'string');

/**
 * Reads and validates the stack configuration. `env` supplies `VAULT_TOKEN` when `vaultToken` is
 * not set (the Vault provider's own convention). Throws `StackConfigError` naming the key.
 */
export function readStackConfig(get: Get, env: Readonly<Record<string, string | undefined>> = {}, stack = 'dev'): MinioSseKesArgs {
  const ports = stackPortBase(stack);
  const target = oneOf(get, 'target', ['docker', 'kubernetes', 'linux'] as const);
  const vaultMode = oneOf(get, 'vaultMode', ['existing', 'ephemeral'] as const, 'existing');
  if (vaultMode === 'ephemeral' && target !== 'docker') throw new StackConfigError('vaultMode', 'ephemeral needs target docker');
  let vault: MinioSseKesArgs['vault'];
  if (vaultMode === 'existing') {
    const address = get('vaultAddress');
    if (!address || !/^https?:\/\/\S+$/.test(address)) throw new StackConfigError('vaultAddress', 'required: the http(s) URL of Vault/OpenBao');
    const token = get('vaultToken') ?? env.VAULT_TOKEN;
    if (!token) throw new StackConfigError('vaultToken', 'required (pulumi config set --secret vaultToken, or VAULT_TOKEN)');
    vault = { mode: 'existing', address, token };
  } else {
    vault = { mode: 'ephemeral', hostPort: int(get, 'openbaoHostPort', ports + 1, 1024, 65535) };
  }
  const defaultKey = get('defaultKey') ?? 'minio-default';
  const keys = json(get, 'keys', isStringList) ?? [];
  const buckets = json(get, 'buckets', isBuckets) ?? [];
  const nameOk = (k: string) => /^[0-9A-Za-z_](?:[0-9A-Za-z_-]{0,78}[0-9A-Za-z_])?$/.test(k) && k !== '_';
  if (!nameOk(defaultKey)) throw new StackConfigError('defaultKey', 'not a valid KES key name');
  keys.forEach((k) => {
    if (!nameOk(k)) throw new StackConfigError('keys', 'contains an invalid KES key name');
  });
  buckets.forEach((b) => {
    if (b.key !== defaultKey && !keys.includes(b.key)) throw new StackConfigError('buckets', 'a bucket key is neither defaultKey nor in keys');
  });
  const args: Record<string, unknown> = {
    target,
    vault,
    defaultKey,
    keys,
    buckets,
    kesReplicas: int(get, 'kesReplicas', 2, 1, 16),
    minioNodes: int(get, 'minioNodes', 1, 1, 32),
    minioDrivesPerNode: int(get, 'minioDrivesPerNode', 1, 1, 16),
    minioAuth: oneOf(get, 'minioAuth', ['apiKey', 'certificate'] as const, 'apiKey'),
    minioImage: get('minioImage'),
    kesImage: get('kesImage'),
    vaultLayout: { engine: get('vaultEngine') ?? 'kv', version: oneOf(get, 'vaultKvVersion', ['v1', 'v2'] as const, 'v1'), prefix: get('vaultPrefix') ?? '' },
  };
  if ((args.minioNodes as number) > 1 && (args.minioNodes as number) * (args.minioDrivesPerNode as number) < 4) {
    throw new StackConfigError('minioDrivesPerNode', 'a distributed MinIO needs at least 4 drives in total');
  }
  if (target === 'docker') args.docker = { minioHostPort: int(get, 'minioHostPort', ports, 1024, 65535), kesHostPort: int(get, 'kesHostPort', ports + 2, 1024, 65535) };
  if (target === 'kubernetes') {
    const namespace = get('namespace');
    if (!namespace || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) throw new StackConfigError('namespace', 'required: a Kubernetes namespace name');
    if (!args.kesImage) throw new StackConfigError('kesImage', 'required on kubernetes: a pushed KES server image');
    args.kubernetes = { namespace, minioMode: oneOf(get, 'minioMode', ['statefulset', 'tenant'] as const, 'statefulset'), storageSize: get('storageSize') ?? '10Gi' };
  }
  if (target === 'linux') {
    const sshKey = get('sshPrivateKey');
    const hosts = (key: string) => {
      const list = json(get, key, isHosts);
      if (!list) throw new StackConfigError(key, 'required on linux: a list of {address, sshUser?}');
      return list.map((h) => ({ address: h.address, ssh: sshKey ? { user: h.sshUser ?? 'root', privateKey: sshKey } : undefined }));
    };
    args.linux = { kesHosts: hosts('kesHosts'), minioHosts: hosts('minioHosts') };
  }
  return args as unknown as MinioSseKesArgs;
}
