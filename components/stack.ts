/**
 * MinioSseKes: the whole system from one Args object — Vault backend (existing Vault, or an
 * ephemeral OpenBao dev container for CI on Docker), PKI, KES, MinIO and encrypted buckets.
 */
import * as pulumi from '@pulumi/pulumi';
import * as docker from '@pulumi/docker';
import * as minio from '@pulumi/minio';
import * as random from '@pulumi/random';
import * as vault from '@pulumi/vault';
import { BucketEncryption } from './bucket-encryption.ts';
import { KesPki } from './pki.ts';
import { KesDeployment, kesSanTarget } from './kes-deployment.ts';
import type { KesDeploymentArgs, Target } from './kes-deployment.ts';
import { MinioCluster } from './minio.ts';
import type { LinuxHost } from './targets/linux/install.ts';
import { VaultKesBackend } from './vault-backend.ts';
import type { VaultKesBackendArgs } from './vault-backend.ts';
import { kesServerSans } from './render/pki.ts';
import { isKesName } from './render/validate.ts';
import { rethrowAsResourceError } from './errors.ts';
import { providerFor } from './providers.ts';
import { OPENBAO_IMAGE } from './peers.ts';

export { OPENBAO_IMAGE };

/**
 * Arguments of `MinioSseKes`. Explicit providers are found as the SDK finds them, by package: in
 * `opts.provider`, `opts.providers` (list or map) or inherited from a parent. `docker` /
 * `kubernetes` / `command` ones reach every child; a `vault` provider replaces the one declared from `vault.address`/`token`
 * (existing Vault only); a `minio` provider replaces the one declared from MinIO's endpoint (use it
 * when Pulumi cannot reach that endpoint directly, e.g. a cluster-internal Service).
 */
export interface MinioSseKesArgs {
  /** Where KES and MinIO run. */
  readonly target: Target;
  /**
   * An existing Vault/OpenBao (`address` as KES reaches it; `token` for the Vault provider, unless
   * `opts.providers` has one; `caCertPem` to verify Vault's certificate from KES), or `ephemeral`:
   * an OpenBao dev container on the Docker target (in-memory; for CI), published on 127.0.0.1:`hostPort` (default 8200).
   */
  readonly vault:
    | { readonly mode: 'existing'; readonly address: string; readonly token?: pulumi.Input<string>; readonly caCertPem?: pulumi.Input<string> }
    | { readonly mode: 'ephemeral'; readonly hostPort?: number };
  /** K/V mount, version, prefix, AppRole path, namespace; see `VaultKesBackendArgs`. */
  readonly vaultLayout?: Omit<VaultKesBackendArgs, 'tokenPeriodSeconds'>;
  /** The default key (`MINIO_KMS_KES_KEY_NAME`); KES creates it at start-up. */
  readonly defaultKey: string;
  /** Further keys KES creates at start-up. */
  readonly keys?: readonly string[];
  /** Buckets with their default SSE-KMS key (`defaultKey` or one of `keys`). */
  readonly buckets?: ReadonlyArray<{ readonly name: string; readonly key: string }>;
  /** KES replicas (Docker, Kubernetes); default 2. Linux: one per host in `linux.kesHosts`. */
  readonly kesReplicas?: number;
  /** MinIO nodes (Docker, Kubernetes); default 1. Linux: one per host in `linux.minioHosts`. */
  readonly minioNodes?: number;
  /** Drives per MinIO node; default 1. */
  readonly minioDrivesPerNode?: number;
  /** How MinIO authenticates to KES: `kes:v1:` API key (default) or a client certificate. */
  readonly minioAuth?: 'apiKey' | 'certificate';
  /** MinIO image; default `DEFAULT_MINIO_IMAGE`. */
  readonly minioImage?: string;
  /** KES image; default on Docker: built from `kes-server/`. Required on Kubernetes (a pushed image). */
  readonly kesImage?: pulumi.Input<string>;
  /**
   * Docker: host port (on 127.0.0.1) of the first MinIO node's S3 API (default 9000), and the
   * first of the ports KES replicas are published on (replica i at `kesHostPort + i`; default: not published).
   */
  readonly docker?: { readonly minioHostPort?: number; readonly kesHostPort?: number };
  /** Kubernetes: namespace, cluster domain, MinIO as a StatefulSet (default) or Operator `Tenant`, PVC size. */
  readonly kubernetes?: KesDeploymentArgs['kubernetes'] & { readonly minioMode?: 'statefulset' | 'tenant'; readonly storageSize?: string };
  /** Linux: the hosts of KES and of MinIO (with `ssh`, installed over SSH; without, files are rendered only). */
  readonly linux?: { readonly kesHosts: readonly LinuxHost[]; readonly minioHosts: readonly LinuxHost[] };
}

/** Validates `MinioSseKesArgs` without declaring anything; throws Error naming the argument. */
export function validateMinioSseKesArgs(a: MinioSseKesArgs): void {
  if (!['docker', 'kubernetes', 'linux'].includes(a.target)) throw new Error(`invalid [target]: must be docker, kubernetes or linux`);
  if (a.vault.mode === 'ephemeral' && a.target !== 'docker') throw new Error('invalid [vault.mode]: an ephemeral OpenBao needs the docker target');
  if (a.vault.mode === 'existing' && !/^https?:\/\/[^\s]+$/.test(a.vault.address)) throw new Error('invalid [vault.address]: must be an http(s) URL');
  if (a.vault.mode !== 'existing' && a.vault.mode !== 'ephemeral') throw new Error('invalid [vault.mode]: must be existing or ephemeral');
  for (const [field, k] of [['defaultKey', a.defaultKey], ...(a.keys ?? []).map((k, i) => [`keys[${i}]`, k])] as Array<[string, string]>) {
    if (!isKesName(k)) throw new Error(`invalid [${field}]: not a valid KES key name`);
  }
  const known = new Set([a.defaultKey, ...(a.keys ?? [])]);
  (a.buckets ?? []).forEach((b, i) => {
    if (!known.has(b.key)) throw new Error(`invalid [buckets[${i}].key]: key is neither defaultKey nor in keys`);
  });
  if (a.target === 'kubernetes' && !a.kubernetes?.namespace) throw new Error('invalid [kubernetes.namespace]: required for the kubernetes target');
  if (a.target === 'kubernetes' && a.kesImage === undefined) throw new Error('invalid [kesImage]: the kubernetes target needs a pushed KES image');
  if (a.target === 'linux' && (!a.linux?.kesHosts.length || !a.linux?.minioHosts.length)) throw new Error('invalid [linux]: kesHosts and minioHosts are required');
}

/** The whole system: Vault backend, PKI, KES, MinIO and buckets with default SSE-KMS. */
export class MinioSseKes extends pulumi.ComponentResource {
  public readonly kesEndpoints: string[];
  public readonly kesHostEndpoints: string[];
  public readonly minioEndpoint: string;
  public readonly minioRootUser: string;
  public readonly minioRootPassword: pulumi.Output<string>;
  public readonly adminIdentity: pulumi.Output<string>;
  public readonly minioIdentity: pulumi.Output<string>;
  public readonly caCertPem: pulumi.Output<string>;
  public readonly buckets: string[];

  constructor(name: string, args: MinioSseKesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('minio-sse-kes:index:MinioSseKes', name, args, opts);
    const givenVault = providerFor(this, 'vault');
    const givenMinio = providerFor(this, 'minio');
    try {
      validateMinioSseKesArgs(args);
      if (args.vault.mode === 'existing' && args.vault.token === undefined && givenVault === undefined) {
        throw new Error('invalid [vault.token]: required unless a vault provider is given (opts.provider, opts.providers or a parent)');
      }
    } catch (e) {
      rethrowAsResourceError('MinioSseKes', e, this);
    }
    const parent = { parent: this };
    let network: docker.Network | undefined;
    if (args.target === 'docker') network = new docker.Network(`${name}-net`, { name: `${name}-net`, driver: 'bridge' }, parent);

    // Vault provider: an explicit one in opts wins for an existing Vault; otherwise one is declared here.
    let vaultEndpoint: string;
    let vaultProvider: pulumi.ProviderResource;
    if (args.vault.mode === 'ephemeral') {
      const token = new random.RandomPassword(`${name}-openbao-token`, { length: 32, special: false }, parent);
      const image = new docker.RemoteImage(`${name}-openbao-image`, { name: OPENBAO_IMAGE, keepLocally: true }, parent);
      const port = args.vault.hostPort ?? 8200;
      const bao = new docker.Container(
        `${name}-openbao`,
        {
          name: `${name}-openbao`,
          image: image.imageId,
          // The image's entrypoint adds -dev-root-token-id / -dev-listen-address from these (docs/protocol.md#deploying-minio).
          envs: pulumi.secret(pulumi.interpolate`BAO_DEV_ROOT_TOKEN_ID=${token.result}`).apply((t) => [t, 'BAO_DEV_LISTEN_ADDRESS=0.0.0.0:8200']),
          networksAdvanced: [{ name: network!.name, aliases: [`${name}-openbao`] }],
          ports: [{ internal: 8200, external: port, ip: '127.0.0.1' }],
          capabilities: { adds: ['IPC_LOCK'] },
          // The Vault provider talks to it right after creation: wait until it answers.
          healthcheck: { tests: ['CMD', 'bao', 'status', '-address=http://127.0.0.1:8200'], interval: '2s', timeout: '5s', retries: 30, startPeriod: '2s' },
          wait: true,
          waitTimeout: 120,
        },
        parent,
      );
      vaultEndpoint = `http://${name}-openbao:8200`;
      vaultProvider = new vault.Provider(`${name}-vault`, { address: `http://127.0.0.1:${port}`, token: pulumi.secret(token.result), skipChildToken: true, skipGetVaultVersion: true }, { parent: this, dependsOn: [bao] });
    } else {
      vaultEndpoint = args.vault.address;
      vaultProvider = givenVault ?? new vault.Provider(`${name}-vault`, { address: args.vault.address, token: pulumi.secret(args.vault.token as pulumi.Input<string>) }, parent);
    }
    const layout = args.vaultLayout ?? {};
    // Role and policy are named after the system, so several systems can share one Vault.
    const backend = new VaultKesBackend(
      `${name}-vault-backend`,
      { roleName: `${name}-kes`, policyName: `${name}-kes`, ...layout },
      { parent: this, providers: { vault: vaultProvider } },
    );

    const kesArgsBase = { target: args.target, replicas: args.kesReplicas ?? 2, kubernetes: args.kubernetes, linux: args.linux ? { hosts: args.linux.kesHosts } : undefined };
    const pki = new KesPki(`${name}-pki`, { serverSans: kesServerSans(kesSanTarget(name, kesArgsBase)), minioAuth: args.minioAuth ?? 'apiKey' }, parent);
    const keys = [...new Set([args.defaultKey, ...(args.keys ?? [])])].sort();
    const kes = new KesDeployment(
      name,
      {
        ...kesArgsBase,
        vault: {
          endpoint: vaultEndpoint,
          engine: backend.engine,
          version: backend.version,
          prefix: backend.prefix,
          namespace: layout.namespace,
          approlePath: backend.approlePath,
          caCertPem: args.vault.mode === 'existing' ? args.vault.caCertPem : undefined,
        },
        roleId: backend.roleId,
        secretId: backend.secretId,
        serverCertPem: pki.server.certPem,
        serverPrivateKeyPem: pki.server.privateKeyPem,
        // Client certificates are verified against the stack's CA (it issues MinIO's and the
        // admin's); MinIO's API key, when it uses one, is named in the config and still passes.
        clientCaCertPem: pki.caCertPem,
        adminIdentity: pki.adminIdentity,
        minioIdentity: pki.minioIdentity,
        keys,
        image: args.kesImage,
        docker: network ? { network: network.name, hostPort: args.docker?.kesHostPort } : undefined,
      },
      parent,
    );
    const cluster = new MinioCluster(
      name,
      {
        target: args.target,
        image: args.minioImage,
        nodes: args.minioNodes,
        drivesPerNode: args.minioDrivesPerNode,
        kes: { endpoints: kes.endpoints, caCertPem: pki.caCertPem, defaultKeyName: args.defaultKey, apiKey: pki.minioApiKey, clientCertPem: pki.minioClient?.certPem, clientKeyPem: pki.minioClient?.privateKeyPem },
        docker: network ? { network: network.name, hostPort: args.docker?.minioHostPort } : undefined,
        kubernetes: args.kubernetes ? { namespace: args.kubernetes.namespace, mode: args.kubernetes.minioMode, storageSize: args.kubernetes.storageSize } : undefined,
        linux: args.linux ? { hosts: args.linux.minioHosts } : undefined,
      },
      { parent: this, dependsOn: kes.ready },
    );
    const minioProvider =
      givenMinio ??
      new minio.Provider(
        `${name}-minio`,
        { minioServer: cluster.endpoint, minioUser: cluster.rootUser, minioPassword: cluster.rootPassword, minioSsl: false },
        { parent: this, dependsOn: cluster.ready },
      );
    this.buckets = (args.buckets ?? []).map((b) => b.name);
    for (const b of args.buckets ?? []) {
      new BucketEncryption(`${name}-${b.name}`, { bucket: b.name, keyId: b.key }, { parent: this, providers: { minio: minioProvider }, dependsOn: cluster.ready });
    }
    this.kesEndpoints = kes.endpoints;
    this.kesHostEndpoints = kes.hostEndpoints;
    this.minioEndpoint = cluster.endpoint;
    this.minioRootUser = cluster.rootUser;
    this.minioRootPassword = cluster.rootPassword;
    this.adminIdentity = pki.adminIdentity;
    this.minioIdentity = pki.minioIdentity;
    this.caCertPem = pki.caCertPem;
    this.registerOutputs({
      kesEndpoints: this.kesEndpoints,
      kesHostEndpoints: this.kesHostEndpoints,
      minioEndpoint: this.minioEndpoint,
      minioRootUser: this.minioRootUser,
      minioRootPassword: this.minioRootPassword,
      adminIdentity: this.adminIdentity,
      minioIdentity: this.minioIdentity,
      caCertPem: this.caCertPem,
      buckets: this.buckets,
    });
  }
}
