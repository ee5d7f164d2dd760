/**
 * Kubernetes objects for KES (Deployment, Service, ConfigMap, Secret, PodDisruptionBudget) as plain
 * data. Values that may only be known at deployment time (image reference, secret contents) are
 * typed `V`, so the same renderer serves plain strings (tests) and deferred values (components).
 * MinIO objects live in `kubernetes-minio.ts` and are re-exported here.
 */
import { KES_PORT } from './kes-config.ts';
import { appLabels, requireDnsLabel } from './kubernetes-meta.ts';
import type { K8sObject } from './kubernetes-meta.ts';
import { RenderError, requireInt, requireNonEmpty, sortedRecord } from './validate.ts';

export * from './kubernetes-meta.ts';
export * from './kubernetes-minio.ts';

/** Container hardening: non-root, read-only root filesystem, no capabilities. */
export function restrictedContainerSecurity() {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Inputs of the KES objects. */
export interface KesK8sArgs<V = string> {
  /** Base name of every object, e.g. `kes`; also the Service name clients use. */
  readonly name: string;
  readonly namespace: string;
  readonly image: V;
  readonly replicas: number;
  /** The rendered config (no secrets in it: AppRole credentials come from the Secret by env var). */
  readonly configYaml: V;
  /** Hash of config + certificates; a change rolls the pods. */
  readonly configChecksum: V;
  /** Secret file contents mounted under `/etc/kes/tls` (server.key, server.crt, ca.crt, …). */
  readonly tlsFiles: Readonly<Record<string, V>>;
  /** Environment variables taken from the Secret (e.g. KES_VAULT_ROLE_ID, KES_VAULT_SECRET_ID). */
  readonly secretEnv: Readonly<Record<string, V>>;
  /** Run the container as this UID; default 1000 (`node` in the kes-server image). */
  readonly runAsUser?: number;
}

/** Mount points inside the KES container. */
export const KES_K8S_PATHS = { configDir: '/etc/kes/config', configFile: '/etc/kes/config/config.yaml', tlsDir: '/etc/kes/tls' } as const;

/** The KES objects as `kesKubernetesObjects` renders them: plain data whose types match the Kubernetes API. */
export type KesK8sObjects<V = string> = ReturnType<typeof kesKubernetesObjects<V>>;

/** The KES objects, named `<name>` (Deployment, Service, PDB), `<name>-config`, `<name>-secret`. */
export function kesKubernetesObjects<V = string>(a: KesK8sArgs<V>) {
  requireDnsLabel('name', a.name);
  requireDnsLabel('namespace', a.namespace);
  requireInt('replicas', a.replicas, 1, 32);
  if (typeof a.configYaml === 'string') requireNonEmpty('configYaml', a.configYaml);
  for (const k of Object.keys(a.tlsFiles)) {
    if (!/^[-._a-zA-Z0-9]+$/.test(k)) throw new RenderError('INVALID_ARGUMENT', 'tlsFiles', `invalid file name ${JSON.stringify(k)}`);
  }
  const labels = appLabels(a.name, 'kes');
  const meta = (name: string) => ({ name, namespace: a.namespace, labels });
  const secretName = `${a.name}-secret`;
  const configName = `${a.name}-config`;
  const envKeys = Object.keys(a.secretEnv).sort();
  const fileKeys = Object.keys(a.tlsFiles).sort();
  const stringData: Record<string, V> = {};
  for (const k of envKeys) stringData[`env.${k}`] = a.secretEnv[k];
  for (const k of fileKeys) stringData[`file.${k}`] = a.tlsFiles[k];

  const probe = (path: string) => ({ httpGet: { path, port: 'https', scheme: 'HTTPS' }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 });
  const deployment = {
    apiVersion: 'apps/v1' as const,
    kind: 'Deployment' as const,
    metadata: meta(a.name),
    spec: {
      replicas: a.replicas,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels, annotations: { 'minio-sse-kes/config-checksum': a.configChecksum } },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: a.runAsUser ?? 1000, runAsGroup: a.runAsUser ?? 1000, fsGroup: a.runAsUser ?? 1000 },
          // Spread replicas so one node failure leaves KES reachable.
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } }],
          containers: [
            {
              name: 'kes',
              image: a.image,
              args: ['server', '--config', KES_K8S_PATHS.configFile],
              ports: [{ name: 'https', containerPort: KES_PORT, protocol: 'TCP' }],
              env: envKeys.map((k) => ({ name: k, valueFrom: { secretKeyRef: { name: secretName, key: `env.${k}` } } })),
              readinessProbe: probe('/v1/ready'),
              livenessProbe: { tcpSocket: { port: 'https' }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
              securityContext: restrictedContainerSecurity(),
              volumeMounts: [
                { name: 'config', mountPath: KES_K8S_PATHS.configDir, readOnly: true },
                { name: 'tls', mountPath: KES_K8S_PATHS.tlsDir, readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: configName } },
            { name: 'tls', secret: { secretName, defaultMode: 0o440, items: fileKeys.map((k) => ({ key: `file.${k}`, path: k })) } },
          ],
        },
      },
    },
  };
  return {
    configMap: { apiVersion: 'v1' as const, kind: 'ConfigMap' as const, metadata: meta(configName), data: { 'config.yaml': a.configYaml } },
    secret: { apiVersion: 'v1' as const, kind: 'Secret' as const, metadata: meta(secretName), type: 'Opaque', stringData },
    deployment,
    service: {
      apiVersion: 'v1' as const,
      kind: 'Service' as const,
      metadata: meta(a.name),
      spec: { type: 'ClusterIP', selector: labels, ports: [{ name: 'https', port: KES_PORT, targetPort: 'https', protocol: 'TCP' }] },
    },
    podDisruptionBudget: {
      apiVersion: 'policy/v1' as const,
      kind: 'PodDisruptionBudget' as const,
      metadata: meta(a.name),
      // One replica may always be drained; with a single replica this still allows node drains.
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    },
  };
}
