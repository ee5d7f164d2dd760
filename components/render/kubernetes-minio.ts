/**
 * Kubernetes objects for MinIO: a StatefulSet with a headless Service (peers resolve each other
 * before they are ready) and a client Service, or a MinIO Operator `Tenant` (minio.min.io/v2,
 * docs/protocol.md#deploying-minio) that talks to the external KES service through `spec.env`.
 */
import { minioVolumes } from './minio-env.ts';
import { RenderError, requireInt, requireNonEmpty, sortedRecord } from './validate.ts';
import { appLabels, requireDnsLabel } from './kubernetes-meta.ts';
import type { K8sObject } from './kubernetes-meta.ts';


/** Key of the KES CA in the Tenant's `externalCaCertSecret`: the file name the Operator mounts. */
export const TENANT_CA_KEY = 'public.crt';

/**
 * Readiness of a Tenant for Pulumi (`pulumi.com/waitFor`): the Operator reports `Initialized` once
 * MinIO serves, so buckets are created only then.
 */
export const TENANT_READY = 'jsonpath={.status.currentState}=Initialized';

/** Mount point of the KES CA / client credential files inside the MinIO container. */
export const MINIO_K8S_KES_DIR = '/etc/minio/kes';

/** Inputs of the MinIO StatefulSet objects. */
export interface MinioK8sArgs<V = string> {
  readonly name: string;
  readonly namespace: string;
  readonly image: string;
  /** Pods; 1 = single node. */
  readonly replicas: number;
  readonly drivesPerNode: number;
  /** PVC size per drive, e.g. `10Gi`. */
  readonly storageSize: string;
  readonly storageClassName?: string;
  readonly clusterDomain?: string;
  /** Environment other than `MINIO_VOLUMES` (from `renderMinioEnv`); stored in a Secret. */
  readonly env: Readonly<Record<string, V>>;
  /** Files under `MINIO_K8S_KES_DIR` (ca.crt, and client.crt/client.key for certificate auth). */
  readonly kesFiles: Readonly<Record<string, V>>;
}

/** `MINIO_VOLUMES` of the StatefulSet: pods `<name>-{0...N-1}.<name>-hl.<ns>.svc.<domain>`. */
export function statefulSetVolumes(a: { name: string; namespace: string; replicas: number; drivesPerNode: number; clusterDomain?: string }): string {
  return minioVolumes({
    nodes: a.replicas,
    drivesPerNode: a.drivesPerNode,
    dataRoot: '/data',
    hostPrefix: `${a.name}-`,
    hostSuffix: `.${a.name}-hl.${a.namespace}.svc.${a.clusterDomain ?? 'cluster.local'}`,
    firstHostIndex: 0,
  });
}

/** StatefulSet `<name>`, headless Service `<name>-hl`, client Service `<name>`, Secrets `<name>-env` and `<name>-kes`. */
export function minioKubernetesObjects<V = string>(a: MinioK8sArgs<V>) {
  requireDnsLabel('name', a.name);
  requireDnsLabel('namespace', a.namespace);
  requireInt('replicas', a.replicas, 1, 32);
  requireInt('drivesPerNode', a.drivesPerNode, 1, 16);
  requireNonEmpty('image', a.image);
  if (!/^[0-9]+(Mi|Gi|Ti)$/.test(a.storageSize)) throw new RenderError('INVALID_ARGUMENT', 'storageSize', 'must be a quantity like 10Gi');
  if ('MINIO_VOLUMES' in a.env) throw new RenderError('CONFLICTING_ARGUMENTS', 'env', 'MINIO_VOLUMES is derived from the StatefulSet');
  const labels = appLabels(a.name, 'minio');
  const meta = (name: string) => ({ name, namespace: a.namespace, labels });
  const drives = a.drivesPerNode === 1 ? ['/data'] : Array.from({ length: a.drivesPerNode }, (_, i) => `/data${i + 1}`);
  const claim = (i: number) => `data${a.drivesPerNode === 1 ? '' : i + 1}`;
  const fileKeys = Object.keys(a.kesFiles).sort();
  const ports = [
    { name: 's3', port: 9000, targetPort: 's3', protocol: 'TCP' },
    { name: 'console', port: 9001, targetPort: 'console', protocol: 'TCP' },
  ];
  const probe = (path: string) => ({ httpGet: { path, port: 's3', scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 });
  const statefulSet = {
    apiVersion: 'apps/v1' as const,
    kind: 'StatefulSet' as const,
    metadata: meta(a.name),
    spec: {
      serviceName: `${a.name}-hl`,
      replicas: a.replicas,
      // All pods must start together for distributed MinIO to form its erasure sets.
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch' },
          containers: [
            {
              name: 'minio',
              image: a.image,
              args: ['server', '--console-address', ':9001'],
              env: [{ name: 'MINIO_VOLUMES', value: statefulSetVolumes(a) }],
              envFrom: [{ secretRef: { name: `${a.name}-env` } }],
              ports: [
                { name: 's3', containerPort: 9000, protocol: 'TCP' },
                { name: 'console', containerPort: 9001, protocol: 'TCP' },
              ],
              readinessProbe: probe('/minio/health/ready'),
              livenessProbe: probe('/minio/health/live'),
              resources: { requests: { cpu: '250m', memory: '512Mi' } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
              volumeMounts: [
                ...drives.map((p, i) => ({ name: claim(i), mountPath: p })),
                { name: 'kes', mountPath: MINIO_K8S_KES_DIR, readOnly: true },
              ],
            },
          ],
          volumes: [{ name: 'kes', secret: { secretName: `${a.name}-kes`, defaultMode: 0o440 } }],
        },
      },
      volumeClaimTemplates: drives.map((_, i) => ({
        metadata: { name: claim(i), labels },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: a.storageSize } },
          ...(a.storageClassName ? { storageClassName: a.storageClassName } : {}),
        },
      })),
    },
  };
  const stringFiles: Record<string, V> = {};
  for (const k of fileKeys) stringFiles[k] = a.kesFiles[k];
  return {
    envSecret: { apiVersion: 'v1' as const, kind: 'Secret' as const, metadata: meta(`${a.name}-env`), type: 'Opaque', stringData: sortedRecord(a.env) },
    kesSecret: { apiVersion: 'v1' as const, kind: 'Secret' as const, metadata: meta(`${a.name}-kes`), type: 'Opaque', stringData: stringFiles },
    headlessService: {
      apiVersion: 'v1' as const,
      kind: 'Service' as const,
      metadata: meta(`${a.name}-hl`),
      spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: labels, ports },
    },
    service: { apiVersion: 'v1' as const, kind: 'Service' as const, metadata: meta(a.name), spec: { type: 'ClusterIP', selector: labels, ports } },
    statefulSet,
  };
}

/** The MinIO StatefulSet objects as `minioKubernetesObjects` renders them: plain data whose types match the Kubernetes API. */
export type MinioK8sObjects<V = string> = ReturnType<typeof minioKubernetesObjects<V>>;

/** Inputs of a MinIO Operator Tenant using the external (TypeScript) KES. */
export interface MinioTenantArgs {
  readonly name: string;
  readonly namespace: string;
  readonly image: string;
  readonly servers: number;
  readonly volumesPerServer: number;
  readonly storageSize: string;
  readonly storageClassName?: string;
  /** Secret with key `config.env` (`export MINIO_ROOT_USER=…` lines). */
  readonly configurationSecretName: string;
  readonly kesEndpoints: readonly string[];
  readonly defaultKeyName: string;
  /** Secret holding the KES CA under `public.crt` (`TENANT_CA_KEY`); mounted by the operator as `/tmp/certs/CAs/ca-0.crt`. */
  readonly kesCaSecretName: string;
  /** Exactly one: a Secret (key `apiKey`) with MinIO's KES API key, or a TLS Secret with its client certificate. */
  readonly apiKeySecretName?: string;
  readonly clientCertSecretName?: string;
}

/** The Tenant object (docs/protocol.md#deploying-minio: external KES goes in `spec.env`, `spec.kes` stays unset). */
export function minioTenant(a: MinioTenantArgs): K8sObject {
  requireDnsLabel('name', a.name);
  requireDnsLabel('namespace', a.namespace);
  requireInt('servers', a.servers, 1, 32);
  requireInt('volumesPerServer', a.volumesPerServer, 1, 16);
  if ((a.apiKeySecretName === undefined) === (a.clientCertSecretName === undefined)) {
    throw new RenderError('CONFLICTING_ARGUMENTS', 'apiKeySecretName', 'give exactly one of apiKeySecretName and clientCertSecretName');
  }
  if (a.kesEndpoints.length === 0) throw new RenderError('MISSING_ARGUMENT', 'kesEndpoints', 'at least one KES endpoint is needed');
  const env: Array<Record<string, unknown>> = [
    { name: 'MINIO_KMS_KES_CAPATH', value: '/tmp/certs/CAs/ca-0.crt' },
    { name: 'MINIO_KMS_KES_ENDPOINT', value: a.kesEndpoints.join(',') },
    { name: 'MINIO_KMS_KES_KEY_NAME', value: a.defaultKeyName },
  ];
  if (a.apiKeySecretName) {
    env.push({ name: 'MINIO_KMS_KES_API_KEY', valueFrom: { secretKeyRef: { name: a.apiKeySecretName, key: 'apiKey' } } });
  } else {
    // The operator mounts externalClientCertSecrets[i] at /tmp/certs/client-<i>/client.{crt,key}.
    env.push({ name: 'MINIO_KMS_KES_CERT_FILE', value: '/tmp/certs/client-0/client.crt' }, { name: 'MINIO_KMS_KES_KEY_FILE', value: '/tmp/certs/client-0/client.key' });
  }
  env.sort((x, y) => String(x.name).localeCompare(String(y.name)));
  const spec: Record<string, unknown> = {
    image: a.image,
    configuration: { name: a.configurationSecretName },
    requestAutoCert: false,
    env,
    externalCaCertSecret: [{ name: a.kesCaSecretName, type: 'Opaque' }],
    pools: [
      {
        name: 'pool-0',
        servers: a.servers,
        volumesPerServer: a.volumesPerServer,
        volumeClaimTemplate: {
          metadata: { name: 'data' },
          spec: {
            accessModes: ['ReadWriteOnce'],
            resources: { requests: { storage: a.storageSize } },
            ...(a.storageClassName ? { storageClassName: a.storageClassName } : {}),
          },
        },
      },
    ],
  };
  if (a.clientCertSecretName) spec.externalClientCertSecrets = [{ name: a.clientCertSecretName, type: 'kubernetes.io/tls' }];
  return {
    apiVersion: 'minio.min.io/v2' as const,
    kind: 'Tenant' as const,
    metadata: { name: a.name, namespace: a.namespace, labels: appLabels(a.name, 'minio'), annotations: { 'pulumi.com/waitFor': TENANT_READY } },
    spec,
  };
}
