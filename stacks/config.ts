/**
 * Stack configuration → `MinioSseKesArgs`, validated before any resource is declared: this module
 * parses (types, required keys), the components' own validation checks the values, and its
 * errors are reported under the config key. The program passes getters over `pulumi.Config`,
 * tests a getter over a `Pulumi.<stack>.yaml`. Errors name the key (`minio-sse-kes:<key>`).
 */
import * as pulumi from '@pulumi/pulumi';
import { validateMinioSseKesArgs } from '../components/stack.ts';
import type { EphemeralVault, ExistingVault, MinioSseKesArgs } from '../components/stack.ts';
import { KES_REPLICAS, TARGETS } from '../components/kes-deployment.ts';
import { DEFAULT_EARLY_RENEWAL_HOURS } from '../components/pki.ts';
import type { LinuxHost } from '../components/targets/linux/install.ts';
import { isRenderError, requireNamePrefix, requireOneOf } from '../components/render/validate.ts';

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
  const prefix = given ?? `sse-${stack.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`.slice(0, 30).replace(/-+$/, '');
  check('namePrefix', () => requireNamePrefix('namePrefix', prefix));
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

/** Runs a rule of `components/render/validate.ts` for `key`: its error becomes a `StackConfigError`. */
function check(key: string, rule: () => void): void {
  try {
    rule();
  } catch (e) {
    if (isRenderError(e)) throw new StackConfigError(key, e.what);
    throw e;
  }
}

function oneOf<T extends string>(get: Get, key: string, allowed: readonly T[], dflt?: T): T {
  const v = get(key) ?? dflt;
  if (v === undefined) throw new StackConfigError(key, `required, one of ${allowed.join(', ')}`);
  check(key, () => requireOneOf(key, v, allowed));
  return v as T;
}

/** An integer (range rules are the components'); `undefined` when not set. */
function int(get: Get, key: string): number | undefined {
  const raw = get(key);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n)) throw new StackConfigError(key, 'must be an integer');
  return n;
}

function bool(get: Get, key: string): boolean | undefined {
  const raw = get(key);
  if (raw === undefined) return undefined;
  if (raw !== 'true' && raw !== 'false') throw new StackConfigError(key, 'must be true or false');
  return raw === 'true';
}

function json<T>(get: Get, key: string, shape: (v: unknown) => v is T): T | undefined {
  const raw = get(key);
  if (raw === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new StackConfigError(key, 'must be a YAML list or object');
  }
  if (!shape(v)) throw new StackConfigError(key, 'has the wrong shape');
  return v;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isBuckets = (v: unknown): v is Array<{ name: string; key: string; forceDestroy?: boolean }> =>
  Array.isArray(v) &&
  v.every((b) => isObject(b) && typeof b.name === 'string' && typeof b.key === 'string' && (b.forceDestroy === undefined || typeof b.forceDestroy === 'boolean'));
interface HostEntry {
  address: string;
  sshUser?: string;
  sshHost?: string;
  sshPort?: number;
  arch?: 'x64' | 'arm64';
}
const HOST_FIELDS = new Set(['address', 'sshUser', 'sshHost', 'sshPort', 'arch']);
const isHosts = (v: unknown): v is HostEntry[] =>
  Array.isArray(v) &&
  v.length > 0 &&
  v.every(
    (h) =>
      isObject(h) &&
      Object.keys(h).every((k) => HOST_FIELDS.has(k)) &&
      typeof h.address === 'string' &&
      ['undefined', 'string'].includes(typeof h.sshUser) &&
      ['undefined', 'string'].includes(typeof h.sshHost) &&
      (h.sshPort === undefined || (Number.isInteger(h.sshPort) && (h.sshPort as number) >= 1 && (h.sshPort as number) <= 65535)) &&
      [undefined, 'x64', 'arm64'].includes(h.arch as string | undefined),
  );

/** The config key of each argument the components name in a `RenderError`. */
const KEY_OF_FIELD: ReadonlyArray<readonly [RegExp, string]> = [
  [/^vault\.mode$/, 'vaultMode'],
  [/^vault\.address$/, 'vaultAddress'],
  [/^vault\.providerAddress$/, 'vaultProviderAddress'],
  [/^vault\.hostPort$/, 'openbaoHostPort'],
  [/^vault\.token$/, 'vaultToken'],
  [/^vaultLayout\.engine$/, 'vaultEngine'],
  [/^vaultLayout\.version$/, 'vaultKvVersion'],
  [/^vaultLayout\.prefix$/, 'vaultPrefix'],
  [/^vaultLayout\.approlePath$/, 'vaultApprolePath'],
  [/^vaultLayout\.roleName$/, 'vaultRoleName'],
  [/^vaultLayout\.policyName$/, 'vaultPolicyName'],
  [/^vaultLayout\.(namespace|policies)/, 'vaultNamespace'],
  [/^keys\[/, 'keys'],
  [/^buckets\[/, 'buckets'],
  [/^docker\.minioHostPort$/, 'minioHostPort'],
  [/^docker\.kesHostPort$/, 'kesHostPort'],
  [/^kubernetes\.namespace$/, 'namespace'],
  [/^kubernetes\.minioMode$/, 'minioMode'],
  [/^linux\.kesHosts/, 'kesHosts'],
  [/^linux\.minioHosts/, 'minioHosts'],
  [/^linux\.minioBinary\.url$/, 'minioBinaryUrl'],
  [/^linux\.minioBinary\.sha256$/, 'minioBinarySha256'],
  [/^linux\.minioBinary\.path$/, 'minioBinaryPath'],
  [/^minioProvider\./, 'minioProviderEndpoint'],
];

/** The config key that sets the argument `field` of `MinioSseKesArgs`. */
export function configKeyOf(field: string): string {
  return KEY_OF_FIELD.find(([re]) => re.test(field))?.[1] ?? field.replace(/[.[].*$/, '');
}

/** Secret values by key (`pulumi.Config.getSecret` in the program), kept out of plain strings. */
type GetSecret = (key: string) => pulumi.Input<string> | undefined;

/**
 * Reads the stack configuration into `MinioSseKesArgs` and runs the components' validation on it,
 * before any resource. `getSecret` reads `vaultToken` and `sshPrivateKey` (default: `get`, wrapped
 * as secrets); `env` supplies `VAULT_TOKEN` when `vaultToken` is not set (the Vault provider's own
 * convention). `stack` names the stack (the default host ports derive from it). Throws
 * `StackConfigError` naming the key.
 */
export function readStackConfig(
  get: Get,
  env: Readonly<Record<string, string | undefined>> = {},
  stack = 'dev',
  getSecret: GetSecret = (key) => {
    const v = get(key);
    return v === undefined ? undefined : pulumi.secret(v);
  },
): MinioSseKesArgs {
  const args = parseStackConfig(get, env, stack, getSecret);
  try {
    validateMinioSseKesArgs(args);
  } catch (e) {
    if (isRenderError(e)) throw new StackConfigError(configKeyOf(e.field), e.what);
    throw e;
  }
  return args;
}

function parseStackConfig(get: Get, env: Readonly<Record<string, string | undefined>>, stack: string, getSecret: GetSecret): MinioSseKesArgs {
  const target = oneOf(get, 'target', TARGETS);
  const vaultMode = oneOf(get, 'vaultMode', ['existing', 'ephemeral'] as const, 'existing');
  const ports = stackPortBase(stack);
  const prefix = stackNamePrefix(get, stack);
  let vault: ExistingVault | EphemeralVault;
  if (vaultMode === 'existing') {
    const address = get('vaultAddress');
    if (address === undefined) throw new StackConfigError('vaultAddress', 'required: the http(s) URL of Vault/OpenBao as KES reaches it');
    const token = getSecret('vaultToken') ?? (env.VAULT_TOKEN === undefined ? undefined : pulumi.secret(env.VAULT_TOKEN));
    if (token === undefined) throw new StackConfigError('vaultToken', 'required (pulumi config set --secret vaultToken, or VAULT_TOKEN)');
    vault = {
      mode: 'existing',
      address,
      providerAddress: get('vaultProviderAddress'),
      token,
      caCertPem: get('vaultCaCert'),
      providerCaCertFile: get('vaultProviderCaCertFile'),
    };
  } else {
    vault = { mode: 'ephemeral', hostPort: int(get, 'openbaoHostPort') ?? ports + 1 };
  }
  // Shared mounts of an existing Vault are used, not created, unless the config says so.
  const owns = vaultMode === 'ephemeral';
  const minioProviderEndpoint = get('minioProviderEndpoint');
  const common = {
    defaultKey: get('defaultKey') ?? 'minio-default',
    keys: json(get, 'keys', isStringList) ?? [],
    buckets: json(get, 'buckets', isBuckets) ?? [],
    kesReplicas: int(get, 'kesReplicas') ?? KES_REPLICAS.default,
    minioNodes: int(get, 'minioNodes') ?? 1,
    minioDrivesPerNode: int(get, 'minioDrivesPerNode') ?? 1,
    minioAuth: oneOf(get, 'minioAuth', ['apiKey', 'certificate'] as const, 'apiKey'),
    minioImage: get('minioImage'),
    minioProvider:
      minioProviderEndpoint === undefined
        ? undefined
        : { endpoint: minioProviderEndpoint, ssl: bool(get, 'minioProviderSsl') ?? false, caCertFile: get('minioProviderCaCertFile') },
    earlyRenewalHours: int(get, 'earlyRenewalHours') ?? DEFAULT_EARLY_RENEWAL_HOURS,
    retainData: bool(get, 'retainData') ?? true,
    vaultLayout: {
      engine: get('vaultEngine') ?? 'kv',
      version: oneOf(get, 'vaultKvVersion', ['v1', 'v2'] as const, 'v1'),
      prefix: get('vaultPrefix'),
      createMount: bool(get, 'vaultCreateMount') ?? owns,
      approlePath: get('vaultApprolePath') ?? 'approle',
      createAuthBackend: bool(get, 'vaultCreateAuthBackend') ?? owns,
      namespace: get('vaultNamespace'),
      createNamespace: bool(get, 'vaultCreateNamespace') ?? false,
      roleName: get('vaultRoleName') ?? `${prefix}-kes`,
      policyName: get('vaultPolicyName') ?? `${prefix}-kes`,
    },
  };
  switch (target) {
    case 'docker':
      return {
        ...common,
        target,
        vault,
        kesImage: get('kesImage'),
        docker: { minioHostPort: int(get, 'minioHostPort') ?? ports, kesHostPort: int(get, 'kesHostPort') ?? ports + 2 },
      };
    case 'kubernetes': {
      if (vault.mode !== 'existing') throw new StackConfigError('vaultMode', 'an ephemeral OpenBao needs the docker target');
      const namespace = get('namespace');
      if (namespace === undefined) throw new StackConfigError('namespace', 'required: the Kubernetes namespace');
      const kesImage = get('kesImage');
      if (kesImage === undefined) throw new StackConfigError('kesImage', 'the kubernetes target needs a pushed image');
      return {
        ...common,
        target,
        vault,
        kesImage,
        kubernetes: {
          namespace,
          clusterDomain: get('clusterDomain') ?? 'cluster.local',
          minioMode: oneOf(get, 'minioMode', ['statefulset', 'tenant'] as const, 'statefulset'),
          storageSize: get('storageSize') ?? '10Gi',
        },
      };
    }
    case 'linux': {
      if (vault.mode !== 'existing') throw new StackConfigError('vaultMode', 'an ephemeral OpenBao needs the docker target');
      const sshKey = getSecret('sshPrivateKey');
      const hosts = (key: string): LinuxHost[] => {
        const list = json(get, key, isHosts);
        if (!list) throw new StackConfigError(key, 'required on linux: a list of {address, sshUser?, sshHost?, sshPort?, arch?}');
        return list.map((h) => ({
          address: h.address,
          arch: h.arch,
          ssh: sshKey === undefined ? undefined : { host: h.sshHost, user: h.sshUser ?? 'root', port: h.sshPort, privateKey: sshKey },
        }));
      };
      // MinIO from a URL the hosts download (with its SHA-256), or a path already on them.
      const url = get('minioBinaryUrl');
      const sha256 = get('minioBinarySha256');
      const path = get('minioBinaryPath');
      if ((url === undefined) !== (sha256 === undefined)) throw new StackConfigError(url === undefined ? 'minioBinaryUrl' : 'minioBinarySha256', 'minioBinaryUrl and minioBinarySha256 go together');
      if (path !== undefined && url !== undefined) throw new StackConfigError('minioBinaryPath', 'set either minioBinaryPath or minioBinaryUrl, not both');
      const minioBinary = url !== undefined && sha256 !== undefined ? { url, sha256 } : path !== undefined ? { path } : undefined;
      return { ...common, target, vault, linux: { kesHosts: hosts('kesHosts'), minioHosts: hosts('minioHosts'), minioBinary } };
    }
  }
}
