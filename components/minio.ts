/**
 * MinioCluster: MinIO configured for SSE through KES, single- or multi-node, on Docker,
 * Kubernetes (StatefulSet or Operator Tenant) or Linux hosts (systemd).
 */
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { renderMinioEnv, renderEnvFile } from './render/minio-env.ts';
import type { MinioEnvArgs } from './render/minio-env.ts';
import { renderMinioUnit } from './render/systemd.ts';
import { MINIO_K8S_KES_DIR } from './render/kubernetes.ts';
import { rethrowAsResourceError } from './errors.ts';
import { TARGETS } from './kes-deployment.ts';
import { requireAbsolutePath, requireDistributedDrives, requireDnsLabel, requireDownloadUrl, requireInt, requireNonEmptyList, requireOneOf, requirePort, requirePresent, requireSha256 } from './render/validate.ts';
import { declareDockerMinio } from './targets/docker/minio.ts';
import { declareStatefulSetMinio, declareTenantMinio } from './targets/kubernetes/minio.ts';
import { declareLinuxInstall } from './targets/linux/install.ts';
import type { LinuxHost } from './targets/linux/install.ts';
import { DEFAULT_MINIO_IMAGE } from './peers.ts';

export { DEFAULT_MINIO_IMAGE };

/** Arguments of `MinioCluster` every target shares. */
interface MinioClusterCommonArgs {
  /** Drives per node; default 1. */
  readonly drivesPerNode?: number;
  readonly kes: {
    /** KES URLs (all replicas). */
    readonly endpoints: readonly string[];
    readonly caCertPem: pulumi.Input<string>;
    /** `MINIO_KMS_KES_KEY_NAME`. */
    readonly defaultKeyName: string;
    /** Exactly one: an API key, or a client certificate and key. */
    readonly apiKey?: pulumi.Input<string>;
    readonly clientCertPem?: pulumi.Input<string>;
    readonly clientKeyPem?: pulumi.Input<string>;
  };
  /** Root user; default `minio-root`. */
  readonly rootUser?: string;
  /** Root password; default: generated (24 characters). */
  readonly rootPassword?: pulumi.Input<string>;
  /**
   * Keep the data when the stack is destroyed (Docker volumes are retained, not deleted); default
   * true. Kubernetes keeps a StatefulSet's or Tenant's PersistentVolumeClaims anyway.
   */
  readonly retainData?: boolean;
}

/** Arguments of `MinioCluster`: the common ones and those of the `target`. */
export type MinioClusterArgs =
  | (MinioClusterCommonArgs & {
      readonly target: 'docker';
      /** Image; default `DEFAULT_MINIO_IMAGE`. */
      readonly image?: string;
      /** Nodes; default 1. */
      readonly nodes?: number;
      /** The network (shared with KES) and the 127.0.0.1 port of the first node's S3 API (default 9000). */
      readonly docker: { readonly network: pulumi.Input<string>; readonly hostPort?: number };
    })
  | (MinioClusterCommonArgs & {
      readonly target: 'kubernetes';
      /** Image; default `DEFAULT_MINIO_IMAGE`. */
      readonly image?: string;
      /** Nodes (pods or Tenant servers); default 1. */
      readonly nodes?: number;
      /**
       * Namespace, cluster domain (default `cluster.local`), PVC size per drive (default `10Gi`) and
       * class, and `mode`: a StatefulSet with headless Service (default) or a MinIO Operator `Tenant`
       * (the operator must be installed).
       */
      readonly kubernetes: {
        readonly namespace: string;
        readonly clusterDomain?: string;
        readonly storageSize?: string;
        readonly storageClassName?: string;
        readonly mode?: 'statefulset' | 'tenant';
      };
    })
  | (MinioClusterCommonArgs & {
      readonly target: 'linux';
      /**
       * Hosts (one node each); the MinIO binary, either a `path` already on every host (default
       * `/usr/local/bin/minio`) or a `url` and its `sha256` that each host downloads into
       * `/opt/minio/releases/<sha256>/minio` (with curl or wget); drive path prefix (default `/srv/minio/data`).
       */
      readonly linux: { readonly hosts: readonly LinuxHost[]; readonly minioBinary?: MinioBinary; readonly dataRoot?: string };
    });

/** Node and drive limits of a MinIO deployment. */
export const MINIO_LIMITS = { nodes: { min: 1, max: 32 }, drivesPerNode: { min: 1, max: 16 } } as const;

/** Nodes of a MinIO deployment: one per host on Linux, `nodes` (default 1) elsewhere. */
export function minioNodeCount(a: MinioClusterArgs): number {
  return a.target === 'linux' ? (a.linux?.hosts?.length ?? 0) : (a.nodes ?? 1);
}

/** The checks of `MinioClusterArgs` that need no rendering; throws `RenderError` naming the argument. */
export function validateMinioClusterArgs(a: MinioClusterArgs): void {
  requireOneOf('target', a.target, TARGETS);
  switch (a.target) {
    case 'docker':
      requirePresent('docker', a.docker, 'required for the docker target');
      if (a.docker.hostPort !== undefined) requirePort('docker.hostPort', a.docker.hostPort);
      break;
    case 'kubernetes':
      requireDnsLabel('kubernetes.namespace', a.kubernetes?.namespace, 63);
      if (a.kubernetes.mode !== undefined) requireOneOf('kubernetes.mode', a.kubernetes.mode, ['statefulset', 'tenant']);
      break;
    case 'linux':
      requireNonEmptyList('linux.hosts', a.linux?.hosts, 'at least one host');
      validateMinioBinary('linux.minioBinary', a.linux.minioBinary);
      break;
  }
  const nodes = minioNodeCount(a);
  const drives = a.drivesPerNode ?? 1;
  requireInt('nodes', nodes, MINIO_LIMITS.nodes.min, MINIO_LIMITS.nodes.max);
  requireInt('drivesPerNode', drives, MINIO_LIMITS.drivesPerNode.min, MINIO_LIMITS.drivesPerNode.max);
  requireDistributedDrives('drivesPerNode', nodes, drives);
}

/** Where a Linux host gets MinIO from. */
export type MinioBinary = { readonly path: string } | { readonly url: string; readonly sha256: string };

/** Throws `RenderError` naming `<field>.url`, `.sha256` or `.path` when one is unusable. */
export function validateMinioBinary(field: string, bin: MinioBinary | undefined): void {
  if (bin === undefined) return;
  if ('url' in bin) {
    requireDownloadUrl(`${field}.url`, bin.url);
    requireSha256(`${field}.sha256`, bin.sha256);
  } else {
    requireAbsolutePath(`${field}.path`, bin.path);
  }
}

/** Install root of a downloaded MinIO binary. */
export const MINIO_ROOT = '/opt/minio';

/** `MINIO_VOLUMES` for explicit Linux hosts: every drive listed, so all form one server pool. */
export function linuxVolumes(hosts: readonly string[], drivesPerNode: number, dataRoot: string): string {
  if (hosts.length === 1) return drivesPerNode === 1 ? dataRoot : `${dataRoot}{1...${drivesPerNode}}`;
  const drives = drivesPerNode === 1 ? [dataRoot] : Array.from({ length: drivesPerNode }, (_, d) => `${dataRoot}${d + 1}`);
  return hosts.flatMap((h) => drives.map((d) => `http://${h}:9000${d}`)).join(' ');
}

/** A MinIO deployment. */
export class MinioCluster extends pulumi.ComponentResource {
  /** `host:port` of the S3 API for the `@pulumi/minio` provider. */
  public readonly endpoint: string;
  public readonly rootUser: string;
  public readonly rootPassword: pulumi.Output<string>;
  /** Resources that signal MinIO is up (depend on them before talking S3). */
  public readonly ready: pulumi.Resource[];
  /** Linux target: installed files by path (secret). */
  public readonly renderedFiles?: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: MinioClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    // Inputs stay out of the component's own state: they include the root password and KES credentials.
    super('minio-sse-kes:index:MinioCluster', name, {}, opts);
    const nodes = minioNodeCount(args);
    const drives = args.drivesPerNode ?? 1;
    const rootUser = args.rootUser ?? 'minio-root';
    const useApiKey = args.kes.apiKey !== undefined;
    const dir = args.target === 'kubernetes' ? MINIO_K8S_KES_DIR : '/etc/minio/kes';
    const base = (apiKey: string | undefined, rootPassword: string, endpoints: readonly string[]): MinioEnvArgs => ({
      kesEndpoints: endpoints,
      defaultKeyName: args.kes.defaultKeyName,
      apiKey,
      clientCertFile: args.kes.clientCertPem !== undefined ? `${dir}/client.crt` : undefined,
      clientKeyFile: args.kes.clientKeyPem !== undefined ? `${dir}/client.key` : undefined,
      kesCaPath: `${dir}/ca.crt`,
      rootUser,
      rootPassword,
      volumes: '/data',
    });
    let envKeys: string[] = [];
    try {
      validateMinioClusterArgs(args);
      envKeys = Object.keys(renderMinioEnv(base(useApiKey ? 'kes:v1:placeholder' : undefined, 'placeholder-password', args.kes.endpoints))).filter((k) => k !== 'MINIO_VOLUMES');
    } catch (e) {
      rethrowAsResourceError('MinioCluster', e, this);
    }
    this.rootUser = rootUser;
    this.rootPassword = pulumi.secret(
      args.rootPassword ?? new random.RandomPassword(`${name}-root-password`, { length: 24, special: false }, { parent: this }).result,
    );
    const env = pulumi.secret(
      pulumi.all([args.kes.apiKey, this.rootPassword]).apply(([k, p]) => renderMinioEnv(base(k, p, args.kes.endpoints))),
    );
    const files: Record<string, pulumi.Input<string>> = { 'ca.crt': args.kes.caCertPem };
    if (!useApiKey && args.kes.clientCertPem && args.kes.clientKeyPem) {
      files['client.crt'] = args.kes.clientCertPem;
      files['client.key'] = pulumi.secret(args.kes.clientKeyPem);
    }
    switch (args.target) {
      case 'docker': {
        const d = args.docker;
        const pathFiles = Object.fromEntries(Object.entries(files).map(([k, v]) => [`${dir}/${k}`, v]));
        const out = declareDockerMinio(this, `${name}-minio`, {
          image: args.image ?? DEFAULT_MINIO_IMAGE,
          nodes,
          drivesPerNode: drives,
          network: d.network,
          hostPort: d.hostPort ?? 9000,
          env,
          files: pathFiles,
          retainVolumes: args.retainData ?? true,
          dependsOn: opts?.dependsOn,
        });
        this.endpoint = out.endpoint;
        this.ready = out.containers;
        break;
      }
      case 'kubernetes': {
        const k = args.kubernetes;
        const envRecord = Object.fromEntries(envKeys.map((key) => [key, pulumi.secret(env.apply((e) => e[key]))]));
        const common = { image: args.image ?? DEFAULT_MINIO_IMAGE, namespace: k.namespace, clusterDomain: k.clusterDomain ?? 'cluster.local', nodes, drivesPerNode: drives, storageSize: k.storageSize ?? '10Gi', storageClassName: k.storageClassName, env: envRecord, files };
        const out =
          (k.mode ?? 'statefulset') === 'tenant'
            ? declareTenantMinio(this, `${name}-minio`, { ...common, kesEndpoints: [...args.kes.endpoints], defaultKeyName: args.kes.defaultKeyName })
            : declareStatefulSetMinio(this, `${name}-minio`, common);
        this.endpoint = out.endpoint;
        this.ready = out.ready;
        break;
      }
      case 'linux': {
        const l = args.linux;
        const dataRoot = l.dataRoot ?? '/srv/minio/data';
        const volumes = linuxVolumes(l.hosts.map((h) => h.address), drives, dataRoot);
        const envFile = env.apply((e) => renderEnvFile({ ...e, MINIO_VOLUMES: volumes, MINIO_OPTS: '--console-address :9001' }));
        const driveDirs = drives === 1 ? [dataRoot] : Array.from({ length: drives }, (_, i) => `${dataRoot}${i + 1}`);
        const bin = l.minioBinary ?? { path: '/usr/local/bin/minio' };
        const download = 'url' in bin ? { url: bin.url, sha256: bin.sha256, root: MINIO_ROOT, name: 'minio' } : undefined;
        const unit = renderMinioUnit({ user: 'minio-user', group: 'minio-user', environmentFile: '/etc/default/minio', readWritePaths: driveDirs, minioBinary: 'url' in bin ? `${MINIO_ROOT}/current/minio` : bin.path });
        const installed = declareLinuxInstall(this, `${name}-minio-install`, l.hosts, {
          user: 'minio-user',
          service: 'minio.service',
          directories: driveDirs,
          files: [
            // systemd reads the environment file as root; MinIO gets the values as its environment.
            { path: '/etc/default/minio', content: envFile, mode: '0600', owner: 'root:root' },
            { path: '/etc/systemd/system/minio.service', content: unit, mode: '0644' },
            ...Object.entries(files).map(([f, v]) => (f.endsWith('.key') ? { path: `${dir}/${f}`, content: v, mode: '0400', owner: 'minio-user:minio-user' } : { path: `${dir}/${f}`, content: v, mode: '0644', owner: 'root:root' })),
          ],
          download,
          // Type=notify: active means MinIO reported itself ready.
          health: { command: 'systemctl is-active --quiet minio.service', timeoutSeconds: 120 },
        });
        this.renderedFiles = installed.renderedFiles;
        this.endpoint = `${l.hosts[0].address}:9000`;
        this.ready = installed.commands;
        break;
      }
    }
    this.registerOutputs({ endpoint: this.endpoint, rootUser: this.rootUser, rootPassword: this.rootPassword, renderedFiles: this.renderedFiles });
  }
}
