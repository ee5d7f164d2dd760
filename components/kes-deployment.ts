/**
 * KesDeployment: renders the KES config and runs N replicas of the TypeScript KES server on Docker,
 * Kubernetes or Linux hosts. AppRole credentials reach the process as environment variables from
 * the target's secret store (container env, Kubernetes Secret, root-only EnvironmentFile).
 */
import * as pulumi from '@pulumi/pulumi';
import { KES_PORT, KES_VAULT_ROLE_ID_ENV, KES_VAULT_SECRET_ID_ENV, renderKesConfig } from './render/kes-config.ts';
import type { KesConfigArgs } from './render/kes-config.ts';
import { KES_K8S_PATHS } from './render/kubernetes.ts';
import type { KesSanTarget } from './render/pki.ts';
import { renderKesUnit } from './render/systemd.ts';
import { renderEnvFile } from './render/minio-env.ts';
import { rethrowAsResourceError } from './errors.ts';
import { RenderError, requireDnsLabel, requireInt, requireNonEmptyList, requireOneOf, requirePort, requirePresent } from './render/validate.ts';
import { declareDockerKes, kesContainerNames } from './targets/docker/kes.ts';
import { declareKubernetesKes } from './targets/kubernetes/kes.ts';
import { declareLinuxInstall } from './targets/linux/install.ts';
import type { LinuxHost } from './targets/linux/install.ts';
import { KES_ENTRY, KES_HEALTH_COMMAND, KES_NODE, kesRelease } from './targets/linux/kes.ts';

/** Where things run. */
export type Target = 'docker' | 'kubernetes' | 'linux';

/** Every target. */
export const TARGETS: readonly Target[] = ['docker', 'kubernetes', 'linux'];

/** Arguments of `KesDeployment` every target shares. */
interface KesDeploymentCommonArgs {
  /** Replicas (Docker, Kubernetes); Linux runs one per host. Default 2. */
  readonly replicas?: number;
  /**
   * Vault keystore layout as KES sees it (`endpoint` reachable from the replicas; K/V `engine`,
   * `version`, `prefix`, `namespace`; AppRole mount `approlePath`), plus optional PEMs: the CA that
   * verifies Vault, and a client certificate/key for mTLS to Vault. AppRole credentials come separately.
   */
  readonly vault: {
    readonly endpoint: string;
    readonly engine: string;
    readonly version: 'v1' | 'v2';
    readonly prefix: string;
    readonly namespace?: string;
    readonly approlePath: string;
    readonly caCertPem?: pulumi.Input<string>;
    readonly clientCertPem?: pulumi.Input<string>;
    readonly clientKeyPem?: pulumi.Input<string>;
  };
  /** AppRole role id; reaches KES by environment variable, never written into the config file. */
  readonly roleId: pulumi.Input<string>;
  /** AppRole secret id (made secret here); reaches KES from the target's secret store by environment variable. */
  readonly secretId: pulumi.Input<string>;
  /** KES server certificate (SANs must cover the names MinIO uses, see `kesSanTarget`). */
  readonly serverCertPem: pulumi.Input<string>;
  /** Its private key (made secret here). */
  readonly serverPrivateKeyPem: pulumi.Input<string>;
  /**
   * CA that client certificates must chain to (`tls.auth: on`); the stack passes its own CA, which
   * issues MinIO's and the admin's certificates. API-key clients whose identity the config names
   * keep working. Without it, client certificates are not verified (upstream's default).
   */
  readonly clientCaCertPem?: pulumi.Input<string>;
  /** Hex SHA-256 identity of the admin key (`KesPki.adminIdentity`). */
  readonly adminIdentity: pulumi.Input<string>;
  /** Hex SHA-256 identity MinIO presents (`KesPki.minioIdentity`); the only member of the `minio` policy. */
  readonly minioIdentity: pulumi.Input<string>;
  /** Keys created at start-up. */
  readonly keys: readonly string[];
  /** Key patterns MinIO may use; default all. */
  readonly keyPatterns?: readonly string[];
  /** Cache expiry; see `KesConfigArgs.cache`. */
  readonly cache?: KesConfigArgs['cache'];
  /** Log levels; see `KesConfigArgs.log`. */
  readonly log?: KesConfigArgs['log'];
}

/** Arguments of `KesDeployment`: the common ones and those of the `target`. */
export type KesDeploymentArgs =
  | (KesDeploymentCommonArgs & {
      readonly target: 'docker';
      /** Image reference; default: built from `kes-server/` (context: the package root). */
      readonly image?: pulumi.Input<string>;
      /**
       * The network the replicas join (with the alias `<name>-kes`), and the first loopback host
       * port replicas are published on (replica i at `hostPort + i`; default: not published).
       */
      readonly docker: { readonly network: pulumi.Input<string>; readonly hostPort?: number };
    })
  | (KesDeploymentCommonArgs & {
      readonly target: 'kubernetes';
      /** A pushed image reference the cluster can pull. */
      readonly image: pulumi.Input<string>;
      /** Namespace and cluster domain (default `cluster.local`). */
      readonly kubernetes: { readonly namespace: string; readonly clusterDomain?: string };
    })
  | (KesDeploymentCommonArgs & {
      readonly target: 'linux';
      /**
       * Hosts, one replica each. The server and a Node runtime for each host's `arch` are
       * installed under `/opt/kes-server` (nothing needs to be on the host but systemd and SSH).
       */
      readonly linux: { readonly hosts: readonly LinuxHost[] };
    });

/** Replica limits of a KES deployment. */
export const KES_REPLICAS = { min: 1, max: 16, default: 2 } as const;

/** The checks of `KesDeploymentArgs` that need no rendering; throws `RenderError` naming the argument. */
export function validateKesDeploymentArgs(a: KesDeploymentArgs): void {
  requireOneOf('target', a.target, TARGETS);
  const replicas = a.replicas ?? KES_REPLICAS.default;
  requireInt('replicas', replicas, KES_REPLICAS.min, KES_REPLICAS.max);
  switch (a.target) {
    case 'docker':
      requirePresent('docker', a.docker, 'required for the docker target');
      if (a.docker.hostPort !== undefined) requirePort('docker.hostPort', a.docker.hostPort + replicas - 1);
      break;
    case 'kubernetes':
      requireDnsLabel('kubernetes.namespace', a.kubernetes?.namespace, 63);
      requirePresent('image', a.image, 'the kubernetes target needs a pushed image');
      break;
    case 'linux':
      requireNonEmptyList('linux.hosts', a.linux?.hosts, 'at least one host');
      break;
  }
}

/** The names clients use to reach the replicas, for the server certificate's SANs. */
export function kesSanTarget(
  name: string,
  args:
    | { readonly target: 'docker'; readonly replicas?: number }
    | { readonly target: 'kubernetes'; readonly kubernetes: { readonly namespace: string; readonly clusterDomain?: string } }
    | { readonly target: 'linux'; readonly linux: { readonly hosts: readonly LinuxHost[] } },
): KesSanTarget {
  switch (args.target) {
    case 'docker':
      return { target: 'docker', serviceName: `${name}-kes`, containerNames: kesContainerNames(name, args.replicas ?? KES_REPLICAS.default) };
    case 'kubernetes':
      return { target: 'kubernetes', serviceName: `${name}-kes`, namespace: args.kubernetes.namespace, clusterDomain: args.kubernetes.clusterDomain };
    case 'linux':
      return { target: 'linux', hosts: args.linux.hosts.map((h) => h.address) };
    default: {
      const never: never = args;
      throw new RenderError('INVALID_ARGUMENT', 'target', `unknown target ${String((never as { target: unknown }).target)}`);
    }
  }
}

const PLACEHOLDER_A = '0'.repeat(64);
const PLACEHOLDER_M = '1'.repeat(64);

/** A running KES deployment. */
export class KesDeployment extends pulumi.ComponentResource {
  /** `https://host:7373` of every replica (what MinIO's `MINIO_KMS_KES_ENDPOINT` lists). */
  public readonly endpoints: string[];
  /** Docker with `docker.hostPort`: `https://127.0.0.1:<port>` of every replica, for the `kes` CLI on the Docker host; otherwise empty. */
  public readonly hostEndpoints: string[] = [];
  /** The rendered config (contains no credential). */
  public readonly configYaml: pulumi.Output<string>;
  /** Linux target: every installed file by path (secret). */
  public readonly renderedFiles?: pulumi.Output<Record<string, string>>;
  /** Resources that must exist before MinIO starts. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: KesDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    // Inputs stay out of the component's own state: they include private keys and credentials.
    super('minio-sse-kes:index:KesDeployment', name, {}, opts);
    const replicas = args.replicas ?? KES_REPLICAS.default;

    const dir = args.target === 'kubernetes' ? KES_K8S_PATHS.tlsDir : '/etc/kes/tls';
    const configFile = args.target === 'kubernetes' ? KES_K8S_PATHS.configFile : '/etc/kes/config.yaml';
    const files: Record<string, pulumi.Input<string>> = { 'server.crt': args.serverCertPem, 'server.key': pulumi.secret(args.serverPrivateKeyPem) };
    if (args.clientCaCertPem) files['client-ca.crt'] = args.clientCaCertPem;
    if (args.vault.caCertPem) files['vault-ca.crt'] = args.vault.caCertPem;
    if (args.vault.clientCertPem && args.vault.clientKeyPem) {
      files['vault.crt'] = args.vault.clientCertPem;
      files['vault.key'] = pulumi.secret(args.vault.clientKeyPem);
    }
    const configArgs = (admin: string, minio: string): KesConfigArgs => ({
      address: `0.0.0.0:${KES_PORT}`,
      adminIdentity: admin,
      minioIdentity: minio,
      tls: { keyFile: `${dir}/server.key`, certFile: `${dir}/server.crt`, clientCaFile: files['client-ca.crt'] ? `${dir}/client-ca.crt` : undefined },
      keyPatterns: args.keyPatterns,
      keys: args.keys,
      cache: args.cache,
      log: args.log,
      keystore: {
        kind: 'vault',
        endpoint: args.vault.endpoint,
        engine: args.vault.engine,
        version: args.vault.version,
        prefix: args.vault.prefix,
        namespace: args.vault.namespace,
        approleEngine: args.vault.approlePath,
        tls: {
          caFile: files['vault-ca.crt'] ? `${dir}/vault-ca.crt` : undefined,
          certFile: files['vault.crt'] ? `${dir}/vault.crt` : undefined,
          keyFile: files['vault.key'] ? `${dir}/vault.key` : undefined,
        },
      },
    });
    // One validation pass, before the first resource.
    try {
      validateKesDeploymentArgs(args);
      renderKesConfig(configArgs(PLACEHOLDER_A, PLACEHOLDER_M));
    } catch (e) {
      rethrowAsResourceError('KesDeployment', e, this);
    }
    this.configYaml = pulumi.all([args.adminIdentity, args.minioIdentity]).apply(([a, m]) => renderKesConfig(configArgs(a, m)));
    const env = { [KES_VAULT_ROLE_ID_ENV]: args.roleId, [KES_VAULT_SECRET_ID_ENV]: pulumi.secret(args.secretId) };
    const serviceName = `${name}-kes`;

    switch (args.target) {
      case 'docker': {
        const dockerFiles: Record<string, pulumi.Input<string>> = { [configFile]: this.configYaml };
        for (const [k, v] of Object.entries(files)) dockerFiles[`${dir}/${k}`] = v;
        const { containers } = declareDockerKes(this, name, { replicas, image: args.image, network: args.docker.network, hostPort: args.docker.hostPort, serviceName, files: dockerFiles, env, configFile });
        this.endpoints = kesContainerNames(name, replicas).map((c) => `https://${c}:${KES_PORT}`);
        const hostPort = args.docker.hostPort;
        if (hostPort !== undefined) this.hostEndpoints = this.endpoints.map((_, i) => `https://127.0.0.1:${hostPort + i}`);
        this.ready = containers;
        break;
      }
      case 'kubernetes': {
        const ns = args.kubernetes.namespace;
        const { deployment, service } = declareKubernetesKes(this, name, { serviceName, namespace: ns, replicas, image: args.image, configYaml: this.configYaml, files, env });
        this.endpoints = [`https://${serviceName}.${ns}.svc.${args.kubernetes.clusterDomain ?? 'cluster.local'}:${KES_PORT}`];
        this.ready = [deployment, service];
        break;
      }
      case 'linux': {
        const l = args.linux;
        const unit = renderKesUnit({ user: 'kes', group: 'kes', environmentFile: '/etc/default/kes', readWritePaths: [], nodeBinary: KES_NODE, serverEntry: KES_ENTRY, configFile });
        const envFile = pulumi.secret(pulumi.all(env).apply((e) => renderEnvFile(e)));
        const installed = declareLinuxInstall(this, `${name}-kes-install`, l.hosts, {
          user: 'kes',
          service: 'kes.service',
          directories: [],
          files: [
            { path: configFile, content: this.configYaml, mode: '0640', owner: 'root:kes' },
            // systemd reads the environment file as root; the service never needs it.
            { path: '/etc/default/kes', content: envFile, mode: '0600', owner: 'root:root' },
            { path: '/etc/systemd/system/kes.service', content: unit, mode: '0644' },
            // Private keys: readable by the service user only.
            ...Object.entries(files).map(([k, v]) => (k.endsWith('.key') ? { path: `${dir}/${k}`, content: v, mode: '0400', owner: 'kes:kes' } : { path: `${dir}/${k}`, content: v, mode: '0644', owner: 'root:root' })),
          ],
          release: kesRelease,
          health: { command: KES_HEALTH_COMMAND, timeoutSeconds: 60 },
        });
        this.renderedFiles = installed.renderedFiles;
        this.endpoints = l.hosts.map((h) => `https://${h.address}:${KES_PORT}`);
        this.ready = installed.commands;
        break;
      }
    }
    this.registerOutputs({ endpoints: this.endpoints, hostEndpoints: this.hostEndpoints, configYaml: this.configYaml, renderedFiles: this.renderedFiles });
  }
}
