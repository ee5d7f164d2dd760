/** MinIO on Kubernetes: a StatefulSet with headless and client Services, or an Operator Tenant. */
import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import { TENANT_CA_KEY, minioKubernetesObjects, minioTenant } from '../../render/kubernetes.ts';
import { renderTenantConfigEnv } from '../../render/minio-env.ts';

type Args = {
  readonly image: string;
  readonly namespace: string;
  readonly nodes: number;
  readonly drivesPerNode: number;
  readonly storageSize: string;
  readonly storageClassName?: string;
  readonly clusterDomain: string;
  readonly env: Record<string, pulumi.Input<string>>;
  readonly files: Record<string, pulumi.Input<string>>;
};

/** StatefulSet variant. `env` must not contain MINIO_VOLUMES. */
export function declareStatefulSetMinio(parent: pulumi.Resource, name: string, a: Args): { ready: pulumi.Resource[]; endpoint: string } {
  const o = minioKubernetesObjects<pulumi.Input<string>>({
    name,
    namespace: a.namespace,
    image: a.image,
    replicas: a.nodes,
    drivesPerNode: a.drivesPerNode,
    storageSize: a.storageSize,
    storageClassName: a.storageClassName,
    clusterDomain: a.clusterDomain,
    env: a.env,
    kesFiles: a.files,
  });
  const opts = { parent };
  const envSecret = new k8s.core.v1.Secret(`${name}-env`, { ...o.envSecret, stringData: pulumi.secret(o.envSecret.stringData) }, opts);
  const kesSecret = new k8s.core.v1.Secret(`${name}-kes`, { ...o.kesSecret, stringData: pulumi.secret(o.kesSecret.stringData) }, opts);
  const hl = new k8s.core.v1.Service(`${name}-hl`, o.headlessService, opts);
  const svc = new k8s.core.v1.Service(`${name}-service`, o.service, opts);
  const sts = new k8s.apps.v1.StatefulSet(`${name}-statefulset`, o.statefulSet, { parent, dependsOn: [envSecret, kesSecret, hl] });
  return { ready: [sts, svc], endpoint: `${name}.${a.namespace}.svc.${a.clusterDomain}:9000` };
}

/** Tenant variant: MinIO Operator must be installed; KES stays external (spec.env). */
export function declareTenantMinio(
  parent: pulumi.Resource,
  name: string,
  a: Args & { readonly kesEndpoints: string[]; readonly defaultKeyName: string },
): { ready: pulumi.Resource[]; endpoint: string } {
  const opts = { parent };
  const rootLines = pulumi.all([a.env.MINIO_ROOT_USER, a.env.MINIO_ROOT_PASSWORD]).apply(([u, p]) => renderTenantConfigEnv({ rootUser: u, rootPassword: p }));
  const config = new k8s.core.v1.Secret(`${name}-config`, { metadata: { name: `${name}-config`, namespace: a.namespace }, type: 'Opaque', stringData: pulumi.secret({ 'config.env': rootLines }) }, opts);
  const ca = new k8s.core.v1.Secret(`${name}-kes-ca`, { metadata: { name: `${name}-kes-ca`, namespace: a.namespace }, type: 'Opaque', stringData: { [TENANT_CA_KEY]: a.files['ca.crt'] } }, opts);
  const useApiKey = a.env.MINIO_KMS_KES_API_KEY !== undefined;
  const cred = useApiKey
    ? new k8s.core.v1.Secret(`${name}-kes-api-key`, { metadata: { name: `${name}-kes-api-key`, namespace: a.namespace }, type: 'Opaque', stringData: pulumi.secret({ apiKey: a.env.MINIO_KMS_KES_API_KEY }) }, opts)
    : new k8s.core.v1.Secret(`${name}-kes-client`, { metadata: { name: `${name}-kes-client`, namespace: a.namespace }, type: 'kubernetes.io/tls', stringData: pulumi.secret({ 'tls.crt': a.files['client.crt'], 'tls.key': a.files['client.key'] }) }, opts);
  const t = minioTenant({
    name,
    namespace: a.namespace,
    image: a.image,
    servers: a.nodes,
    volumesPerServer: a.drivesPerNode,
    storageSize: a.storageSize,
    storageClassName: a.storageClassName,
    configurationSecretName: `${name}-config`,
    kesEndpoints: a.kesEndpoints,
    defaultKeyName: a.defaultKeyName,
    kesCaSecretName: `${name}-kes-ca`,
    apiKeySecretName: useApiKey ? `${name}-kes-api-key` : undefined,
    clientCertSecretName: useApiKey ? undefined : `${name}-kes-client`,
  });
  const tenant = new k8s.apiextensions.CustomResource(`${name}-tenant`, { apiVersion: t.apiVersion, kind: t.kind, metadata: t.metadata, spec: t.spec }, { parent, dependsOn: [config, ca, cred] });
  return { ready: [tenant], endpoint: `minio.${a.namespace}.svc.${a.clusterDomain}:80` };
}
