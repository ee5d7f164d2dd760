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
import { KES_REPLICAS, KesDeployment, TARGETS, kesSanTarget } from './kes-deployment.ts';
import { MINIO_LIMITS, MinioCluster, validateMinioBinary } from './minio.ts';
import type { MinioBinary } from './minio.ts';
import type { LinuxHost } from './targets/linux/install.ts';
import { VaultKesBackend, validateVaultKesBackendArgs } from './vault-backend.ts';
import type { VaultKesBackendArgs } from './vault-backend.ts';
import { kesServerSans } from './render/pki.ts';
import {
  RenderError,
  requireBucketName,
  requireDistributedDrives,
  requireDnsLabel,
  requireHttpUrl,
  requireInt,
  requireKesName,
  requireNonEmptyList,
  requireOneOf,
  requirePort,
  requirePresent,
  within,
} from './render/validate.ts';
import { rethrowAsResourceError } from './errors.ts';
import { providerFor } from './providers.ts';
import { OPENBAO_IMAGE } from './peers.ts';

export { OPENBAO_IMAGE };

/** An existing Vault/OpenBao. */
export interface ExistingVault {
  readonly mode: 'existing';
  /** Vault's URL as KES reaches it (from the containers, pods or hosts). */
  readonly address: string;
  /** Vault's URL as Pulumi reaches it, when it differs (e.g. from a laptop or CI); default `address`. */
  readonly providerAddress?: string;
  /** Token of the declared Vault provider (made secret here); not needed when a vault provider is given. */
  readonly token?: pulumi.Input<string>;
  /** PEM of the CA that signed Vault's certificate, for KES. */
  readonly caCertPem?: pulumi.Input<string>;
  /** A CA file on the machine running Pulumi, for the declared Vault provider. */
  readonly providerCaCertFile?: string;
}

/** An OpenBao dev server in a container on the Docker target: in-memory, for CI. */
export interface EphemeralVault {
  readonly mode: 'ephemeral';
  /** Loopback host port of its API; default 8200. */
  readonly hostPort?: number;
}

/** How Pulumi reaches MinIO's S3 API for the buckets, when not at `minioEndpoint` over HTTP. */
export interface MinioProviderEndpoint {
  /** `host:port` (e.g. an Ingress or a port-forward). */
  readonly endpoint: string;
  /** Use HTTPS; default false. */
  readonly ssl?: boolean;
  /** A CA file on the machine running Pulumi that verifies `endpoint`. */
  readonly caCertFile?: string;
}

/** A bucket whose default encryption is SSE-KMS with `key`. */
export interface BucketSpec {
  readonly name: string;
  /** `defaultKey` or one of `keys`. */
  readonly key: string;
  /** Delete the bucket's objects on destroy (e.g. CI); default false, so destroy fails on a non-empty bucket. */
  readonly forceDestroy?: boolean;
}

/** Arguments of `MinioSseKes` every target shares. */
interface MinioSseKesCommonArgs {
  /** K/V mount, version, prefix, AppRole path, role and policy names, namespace; see `VaultKesBackendArgs`. */
  readonly vaultLayout?: Omit<VaultKesBackendArgs, 'tokenPeriodSeconds'>;
  /** The default key (`MINIO_KMS_KES_KEY_NAME`); KES creates it at start-up. */
  readonly defaultKey: string;
  /** Further keys KES creates at start-up. */
  readonly keys?: readonly string[];
  /** Buckets with their default SSE-KMS key. */
  readonly buckets?: readonly BucketSpec[];
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
  /** Where Pulumi reaches MinIO to create buckets; default `minioEndpoint` over HTTP. */
  readonly minioProvider?: MinioProviderEndpoint;
  /** Certificates are renewed on the first `pulumi up` this many hours before they expire; default 720 (30 days). */
  readonly earlyRenewalHours?: number;
  /**
   * Keep the data on destroy: Docker volumes and the Vault K/V mount holding the keys are retained
   * (not deleted); default true. Kubernetes keeps PersistentVolumeClaims anyway.
   */
  readonly retainData?: boolean;
}

/**
 * Arguments of `MinioSseKes`: the common ones and those of the `target`. Explicit providers are
 * found as the SDK finds them, by package: in `opts.provider`, `opts.providers` (list or map) or
 * inherited from a parent. `docker` / `kubernetes` / `command` ones reach every child; a `vault`
 * provider replaces the one declared from `vault.address`/`token` (existing Vault only); a `minio`
 * provider replaces the one declared from MinIO's endpoint.
 */
export type MinioSseKesArgs =
  | (MinioSseKesCommonArgs & {
      readonly target: 'docker';
      /** An existing Vault, or an ephemeral OpenBao container (CI). */
      readonly vault: ExistingVault | EphemeralVault;
      /** KES image; default: built from `kes-server/`. */
      readonly kesImage?: pulumi.Input<string>;
      /**
       * Loopback host ports: the first MinIO node's S3 API (default 9000) and the first KES replica
       * (replica i at `kesHostPort + i`; default: not published).
       */
      readonly docker?: { readonly minioHostPort?: number; readonly kesHostPort?: number };
    })
  | (MinioSseKesCommonArgs & {
      readonly target: 'kubernetes';
      readonly vault: ExistingVault;
      /** KES image the cluster can pull. */
      readonly kesImage: pulumi.Input<string>;
      /** Namespace, cluster domain (default `cluster.local`), MinIO as a StatefulSet (default) or Operator `Tenant`, PVC size. */
      readonly kubernetes: {
        readonly namespace: string;
        readonly clusterDomain?: string;
        readonly minioMode?: 'statefulset' | 'tenant';
        readonly storageSize?: string;
      };
    })
  | (MinioSseKesCommonArgs & {
      readonly target: 'linux';
      readonly vault: ExistingVault;
      /**
       * The hosts of KES and of MinIO (with `ssh`, installed over SSH; without, files are rendered
       * only) and where MinIO hosts get the MinIO binary (see `MinioClusterArgs.linux`).
       */
      readonly linux: { readonly kesHosts: readonly LinuxHost[]; readonly minioHosts: readonly LinuxHost[]; readonly minioBinary?: MinioBinary };
    });

/**
 * Every check of `MinioSseKesArgs`, in one pass before any resource (including those of the parts
 * it declares); throws `RenderError` naming the argument.
 */
export function validateMinioSseKesArgs(a: MinioSseKesArgs): void {
  requireOneOf('target', a.target, TARGETS);
  requireOneOf('vault.mode', a.vault?.mode, ['existing', 'ephemeral']);
  if (a.vault.mode === 'ephemeral') {
    if (a.target !== 'docker') throw new RenderError('CONFLICTING_ARGUMENTS', 'vault.mode', 'an ephemeral OpenBao needs the docker target');
    if (a.vault.hostPort !== undefined) requirePort('vault.hostPort', a.vault.hostPort);
  } else {
    requireHttpUrl('vault.address', a.vault.address);
    if (a.vault.providerAddress !== undefined) requireHttpUrl('vault.providerAddress', a.vault.providerAddress);
  }
  requireKesName('defaultKey', a.defaultKey);
  (a.keys ?? []).forEach((k, i) => requireKesName(`keys[${i}]`, k));
  const known = new Set([a.defaultKey, ...(a.keys ?? [])]);
  const seen = new Set<string>();
  (a.buckets ?? []).forEach((b, i) => {
    requireBucketName(`buckets[${i}].name`, b.name);
    if (seen.has(b.name)) throw new RenderError('INVALID_ARGUMENT', `buckets[${i}].name`, 'the bucket is listed twice');
    seen.add(b.name);
    if (!known.has(b.key)) throw new RenderError('INVALID_ARGUMENT', `buckets[${i}].key`, 'key is neither defaultKey nor in keys');
  });
  within('vaultLayout', () => validateVaultKesBackendArgs(a.vaultLayout ?? {}));
  if (a.minioAuth !== undefined) requireOneOf('minioAuth', a.minioAuth, ['apiKey', 'certificate']);
  if (a.earlyRenewalHours !== undefined) requireInt('earlyRenewalHours', a.earlyRenewalHours, 0, 8760);
  if (a.minioProvider !== undefined) requirePresent('minioProvider.endpoint', a.minioProvider.endpoint, 'host:port of the S3 API');
  const kesReplicas = a.kesReplicas ?? KES_REPLICAS.default;
  requireInt('kesReplicas', kesReplicas, KES_REPLICAS.min, KES_REPLICAS.max);
  switch (a.target) {
    case 'docker':
      if (a.docker?.minioHostPort !== undefined) requirePort('docker.minioHostPort', a.docker.minioHostPort);
      if (a.docker?.kesHostPort !== undefined) requirePort('docker.kesHostPort', a.docker.kesHostPort + kesReplicas - 1);
      break;
    case 'kubernetes':
      requireDnsLabel('kubernetes.namespace', a.kubernetes?.namespace, 63);
      requirePresent('kesImage', a.kesImage, 'the kubernetes target needs a pushed image');
      if (a.kubernetes.minioMode !== undefined) requireOneOf('kubernetes.minioMode', a.kubernetes.minioMode, ['statefulset', 'tenant']);
      break;
    case 'linux':
      requireNonEmptyList('linux.kesHosts', a.linux?.kesHosts, 'at least one host');
      requireNonEmptyList('linux.minioHosts', a.linux?.minioHosts, 'at least one host');
      validateMinioBinary('linux.minioBinary', a.linux.minioBinary);
      break;
  }
  const minioNodes = a.target === 'linux' ? a.linux.minioHosts.length : (a.minioNodes ?? 1);
  const drives = a.minioDrivesPerNode ?? 1;
  requireInt('minioNodes', minioNodes, MINIO_LIMITS.nodes.min, MINIO_LIMITS.nodes.max);
  requireInt('minioDrivesPerNode', drives, MINIO_LIMITS.drivesPerNode.min, MINIO_LIMITS.drivesPerNode.max);
  requireDistributedDrives('minioDrivesPerNode', minioNodes, drives);
}

/** Expiry (RFC 3339) of every certificate the system issued. */
export interface CertificateExpiry {
  readonly ca: pulumi.Output<string>;
  readonly kesServer: pulumi.Output<string>;
  readonly admin: pulumi.Output<string>;
  /** MinIO's client certificate (`minioAuth: certificate`). */
  readonly minio?: pulumi.Output<string>;
}

/** The whole system: Vault backend, PKI, KES, MinIO and buckets with default SSE-KMS. */
export class MinioSseKes extends pulumi.ComponentResource {
  /** `https://host:7373` of every KES replica as MinIO reaches them (`MINIO_KMS_KES_ENDPOINT`). */
  public readonly kesEndpoints: string[];
  /** Docker with `docker.kesHostPort`: `https://127.0.0.1:<port>` of every replica, for the `kes` CLI on the Docker host. */
  public readonly kesHostEndpoints: string[];
  /** `host:port` of MinIO's S3 API (Docker: on 127.0.0.1; Kubernetes: the in-cluster Service). */
  public readonly minioEndpoint: string;
  /** MinIO's root user. */
  public readonly minioRootUser: string;
  /** MinIO's root password (secret). */
  public readonly minioRootPassword: pulumi.Output<string>;
  /** Hex identity of the KES admin (`admin.identity`). */
  public readonly adminIdentity: pulumi.Output<string>;
  /** The admin's client certificate, for the `kes` CLI (`--cert`, with `adminPrivateKeyPem` as `--key`). */
  public readonly adminCertPem: pulumi.Output<string>;
  /** The admin's private key (secret). */
  public readonly adminPrivateKeyPem: pulumi.Output<string>;
  /** Hex identity MinIO presents to KES. */
  public readonly minioIdentity: pulumi.Output<string>;
  /** The CA that issued KES's server certificate and the client certificates (`kes --ca`, MinIO's `MINIO_KMS_KES_CAPATH`). */
  public readonly caCertPem: pulumi.Output<string>;
  /** When each certificate expires (RFC 3339); `pulumi up` renews them `earlyRenewalHours` before. */
  public readonly certificateExpiry: CertificateExpiry;
  /** Names of the encrypted buckets. */
  public readonly buckets: string[];
  /** The ephemeral OpenBao's root token (secret); undefined for an existing Vault. */
  public readonly openbaoRootToken?: pulumi.Output<string>;
  /** The provider that creates the buckets, for further MinIO resources (users, policies, more buckets). */
  public readonly minioProvider: pulumi.ProviderResource;
  /** The parts: Vault backend, PKI, KES, MinIO and one `BucketEncryption` per bucket. */
  public readonly vaultBackend: VaultKesBackend;
  public readonly pki: KesPki;
  public readonly kes: KesDeployment;
  public readonly minio: MinioCluster;
  public readonly bucketEncryptions: BucketEncryption[];

  constructor(name: string, args: MinioSseKesArgs, opts?: pulumi.ComponentResourceOptions) {
    // Inputs stay out of the component's own state: they include the Vault token and SSH keys.
    super('minio-sse-kes:index:MinioSseKes', name, {}, opts);
    const givenVault = providerFor(this, 'vault');
    const givenMinio = providerFor(this, 'minio');
    try {
      validateMinioSseKesArgs(args);
      if (args.vault.mode === 'existing' && args.vault.token === undefined && givenVault === undefined) {
        throw new RenderError('MISSING_ARGUMENT', 'vault.token', 'required unless a vault provider is given (opts.provider, opts.providers or a parent)');
      }
    } catch (e) {
      rethrowAsResourceError('MinioSseKes', e, this);
    }
    const parent = { parent: this };
    const retainData = args.retainData ?? true;
    const network = args.target === 'docker' ? new docker.Network(`${name}-net`, { name: `${name}-net`, driver: 'bridge' }, parent) : undefined;

    // Vault provider: an explicit one wins for an existing Vault; otherwise one is declared here.
    let vaultEndpoint: string;
    let vaultProvider: pulumi.ProviderResource;
    if (args.vault.mode === 'ephemeral') {
      const token = new random.RandomPassword(`${name}-openbao-token`, { length: 32, special: false }, parent);
      const image = new docker.RemoteImage(`${name}-openbao-image`, { name: OPENBAO_IMAGE, keepLocally: true }, parent);
      const port = args.vault.hostPort ?? 8200;
      this.openbaoRootToken = pulumi.secret(token.result);
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
      vaultProvider = new vault.Provider(`${name}-vault`, { address: `http://127.0.0.1:${port}`, token: this.openbaoRootToken, skipChildToken: true, skipGetVaultVersion: true }, { parent: this, dependsOn: [bao] });
    } else {
      vaultEndpoint = args.vault.address;
      vaultProvider =
        givenVault ??
        new vault.Provider(
          `${name}-vault`,
          { address: args.vault.providerAddress ?? args.vault.address, token: pulumi.secret(args.vault.token as pulumi.Input<string>), caCertFile: args.vault.providerCaCertFile },
          parent,
        );
    }
    const layout = args.vaultLayout ?? {};
    // Role and policy are named after the system, so several systems can share one Vault; shared
    // mounts (K/V, AppRole) are created only for the ephemeral OpenBao unless asked for.
    const ownsVault = args.vault.mode === 'ephemeral';
    this.vaultBackend = new VaultKesBackend(
      `${name}-vault-backend`,
      { roleName: `${name}-kes`, policyName: `${name}-kes`, createMount: ownsVault, createAuthBackend: ownsVault, retainMount: retainData, ...layout },
      { parent: this, providers: { vault: vaultProvider } },
    );
    const backend = this.vaultBackend;

    const kesReplicas = args.kesReplicas ?? KES_REPLICAS.default;
    const kesTarget =
      args.target === 'docker'
        ? ({ target: 'docker', replicas: kesReplicas, image: args.kesImage, docker: { network: network!.name, hostPort: args.docker?.kesHostPort } } as const)
        : args.target === 'kubernetes'
          ? ({ target: 'kubernetes', replicas: kesReplicas, image: args.kesImage, kubernetes: { namespace: args.kubernetes.namespace, clusterDomain: args.kubernetes.clusterDomain } } as const)
          : ({ target: 'linux', replicas: kesReplicas, linux: { hosts: args.linux.kesHosts } } as const);
    this.pki = new KesPki(
      `${name}-pki`,
      { serverSans: kesServerSans(kesSanTarget(name, kesTarget)), minioAuth: args.minioAuth ?? 'apiKey', earlyRenewalHours: args.earlyRenewalHours },
      parent,
    );
    const pki = this.pki;
    const keys = [...new Set([args.defaultKey, ...(args.keys ?? [])])].sort();
    this.kes = new KesDeployment(
      name,
      {
        ...kesTarget,
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
      },
      parent,
    );
    const kes = this.kes;
    const minioCommon = {
      drivesPerNode: args.minioDrivesPerNode,
      retainData,
      kes: { endpoints: kes.endpoints, caCertPem: pki.caCertPem, defaultKeyName: args.defaultKey, apiKey: pki.minioApiKey, clientCertPem: pki.minioClient?.certPem, clientKeyPem: pki.minioClient?.privateKeyPem },
    };
    this.minio = new MinioCluster(
      name,
      args.target === 'docker'
        ? { ...minioCommon, target: 'docker', image: args.minioImage, nodes: args.minioNodes, docker: { network: network!.name, hostPort: args.docker?.minioHostPort } }
        : args.target === 'kubernetes'
          ? {
              ...minioCommon,
              target: 'kubernetes',
              image: args.minioImage,
              nodes: args.minioNodes,
              kubernetes: { namespace: args.kubernetes.namespace, clusterDomain: args.kubernetes.clusterDomain, mode: args.kubernetes.minioMode, storageSize: args.kubernetes.storageSize },
            }
          : { ...minioCommon, target: 'linux', linux: { hosts: args.linux.minioHosts, minioBinary: args.linux.minioBinary } },
      { parent: this, dependsOn: kes.ready },
    );
    const cluster = this.minio;
    const endpoint = args.minioProvider;
    this.minioProvider =
      givenMinio ??
      new minio.Provider(
        `${name}-minio`,
        {
          minioServer: endpoint?.endpoint ?? cluster.endpoint,
          minioUser: cluster.rootUser,
          minioPassword: cluster.rootPassword,
          minioSsl: endpoint?.ssl ?? false,
          minioCacertFile: endpoint?.caCertFile,
        },
        { parent: this, dependsOn: cluster.ready },
      );
    this.buckets = (args.buckets ?? []).map((b) => b.name);
    this.bucketEncryptions = (args.buckets ?? []).map(
      (b) =>
        new BucketEncryption(`${name}-${b.name}`, { bucket: b.name, keyId: b.key, forceDestroy: b.forceDestroy }, { parent: this, providers: { minio: this.minioProvider }, dependsOn: cluster.ready }),
    );
    this.kesEndpoints = kes.endpoints;
    this.kesHostEndpoints = kes.hostEndpoints;
    this.minioEndpoint = cluster.endpoint;
    this.minioRootUser = cluster.rootUser;
    this.minioRootPassword = cluster.rootPassword;
    this.adminIdentity = pki.adminIdentity;
    this.adminCertPem = pki.admin.certPem;
    this.adminPrivateKeyPem = pki.admin.privateKeyPem;
    this.minioIdentity = pki.minioIdentity;
    this.caCertPem = pki.caCertPem;
    this.certificateExpiry = pki.expiry;
    this.registerOutputs({
      kesEndpoints: this.kesEndpoints,
      kesHostEndpoints: this.kesHostEndpoints,
      minioEndpoint: this.minioEndpoint,
      minioRootUser: this.minioRootUser,
      minioRootPassword: this.minioRootPassword,
      adminIdentity: this.adminIdentity,
      adminCertPem: this.adminCertPem,
      adminPrivateKeyPem: this.adminPrivateKeyPem,
      minioIdentity: this.minioIdentity,
      caCertPem: this.caCertPem,
      certificateExpiry: this.certificateExpiry,
      buckets: this.buckets,
      openbaoRootToken: this.openbaoRootToken,
    });
  }
}
