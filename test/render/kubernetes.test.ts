import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kesKubernetesObjects, minioKubernetesObjects, minioTenant, KES_K8S_PATHS } from '../../components/render/kubernetes.ts';
import type { K8sObject, MinioTenantArgs } from '../../components/render/kubernetes.ts';
import { isRenderError } from '../../components/render/validate.ts';
import { tenantErrors, validateK8s } from './k8s-schema.ts';

const validate = validateK8s;

const kes = kesKubernetesObjects({
  name: 'kes',
  namespace: 'storage',
  image: 'registry.example/kes-server:1',
  replicas: 2,
  configYaml: 'address: 0.0.0.0:7373\n',
  configChecksum: 'abc123',
  tlsFiles: { 'server.key': 'KEY', 'server.crt': 'CERT' },
  secretEnv: { KES_VAULT_ROLE_ID: 'r', KES_VAULT_SECRET_ID: 's' },
});

const minio = minioKubernetesObjects({
  name: 'minio',
  namespace: 'storage',
  image: 'quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z',
  replicas: 4,
  drivesPerNode: 2,
  storageSize: '10Gi',
  env: { MINIO_KMS_KES_ENDPOINT: 'https://kes.storage.svc:7373', MINIO_ROOT_USER: 'admin' },
  kesFiles: { 'ca.crt': 'CA' },
});

for (const [name, obj] of Object.entries({ ...kes, ...Object.fromEntries(Object.entries(minio).map(([k, v]) => [`minio.${k}`, v])) })) {
  test(`${name} (${obj.kind}) is valid against the Kubernetes OpenAPI schema`, () => validate(obj));
}

test('the validator rejects an invalid Deployment (string replicas, missing container image type)', () => {
  const bad = structuredClone(kes.deployment) as unknown as { spec: { replicas: unknown } };
  bad.spec.replicas = 'two';
  assert.throws(() => validate(bad), /replicas/);
  const badPort = structuredClone(kes.service) as unknown as { spec: { ports: Array<{ port: unknown }> } };
  badPort.spec.ports[0].port = 'https';
  assert.throws(() => validate(badPort), /port/);
});

type Pod = { metadata: { labels: Record<string, string> }; spec: { containers: Array<Record<string, any>>; volumes: Array<Record<string, any>> } };

test('the KES Deployment references exactly what the Secret, ConfigMap and Service provide', () => {
  const pod = (kes.deployment.spec as { template: Pod }).template;
  const secretKeys = Object.keys(kes.secret.stringData as object);
  const c = pod.spec.containers[0];
  assert.deepEqual(c.args, ['server', '--config', KES_K8S_PATHS.configFile]);
  for (const e of c.env) {
    assert.equal(e.valueFrom.secretKeyRef.name, kes.secret.metadata.name);
    assert.ok(secretKeys.includes(e.valueFrom.secretKeyRef.key), e.name);
  }
  assert.deepEqual(c.env.map((e: { name: string }) => e.name), ['KES_VAULT_ROLE_ID', 'KES_VAULT_SECRET_ID']);
  const tlsVolume = pod.spec.volumes.find((v) => v.name === 'tls');
  assert.deepEqual(tlsVolume?.secret.items.map((i: { path: string }) => i.path), ['server.crt', 'server.key']);
  for (const i of tlsVolume?.secret.items ?? []) assert.ok(secretKeys.includes(i.key));
  assert.equal(pod.spec.volumes.find((v) => v.name === 'config')?.configMap.name, kes.configMap.metadata.name);
  assert.ok((kes.configMap.data as Record<string, string>)['config.yaml']);
  assert.deepEqual((kes.service.spec as { selector: object }).selector, pod.metadata.labels);
  assert.deepEqual((kes.podDisruptionBudget.spec as { selector: { matchLabels: object } }).selector.matchLabels, pod.metadata.labels);
  assert.equal(c.readinessProbe.httpGet.path, '/v1/ready');
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
});

test('the MinIO StatefulSet gets MINIO_VOLUMES over the headless service and one claim per drive', () => {
  const spec = minio.statefulSet.spec as { serviceName: string; template: Pod; volumeClaimTemplates: Array<{ metadata: { name: string } }> };
  assert.equal(spec.serviceName, minio.headlessService.metadata.name);
  assert.equal((minio.headlessService.spec as { clusterIP: string }).clusterIP, 'None');
  assert.equal((minio.headlessService.spec as { publishNotReadyAddresses: boolean }).publishNotReadyAddresses, true);
  const c = spec.template.spec.containers[0];
  assert.deepEqual(c.env, [{ name: 'MINIO_VOLUMES', value: 'http://minio-{0...3}.minio-hl.storage.svc.cluster.local:9000/data{1...2}' }]);
  assert.equal(c.envFrom[0].secretRef.name, minio.envSecret.metadata.name);
  assert.deepEqual(spec.volumeClaimTemplates.map((v) => v.metadata.name), ['data1', 'data2']);
  assert.deepEqual(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath), ['/data1', '/data2', '/etc/minio/kes']);
  assert.throws(
    () => minioKubernetesObjects({ ...minioArgsWith({ env: { MINIO_VOLUMES: '/x' } }) }),
    (e: unknown) => isRenderError(e) && e.field === 'env',
  );
});

function minioArgsWith(patch: object) {
  return { name: 'minio', namespace: 'storage', image: 'i', replicas: 1, drivesPerNode: 1, storageSize: '1Gi', env: {}, kesFiles: {}, ...patch };
}

const validateTenant = (t: unknown) => tenantErrors(t);

const tenantArgs: MinioTenantArgs = {
  name: 'minio',
  namespace: 'storage',
  image: 'quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z',
  servers: 4,
  volumesPerServer: 2,
  storageSize: '10Gi',
  configurationSecretName: 'minio-env',
  kesEndpoints: ['https://kes.storage.svc.cluster.local:7373'],
  defaultKeyName: 'minio-default',
  kesCaSecretName: 'kes-ca',
  apiKeySecretName: 'minio-kes-api-key',
};

test('the Tenant validates against the Tenant CRD schema subset and uses the external KES', () => {
  const t = minioTenant(tenantArgs);
  assert.deepEqual(validateTenant(t), []);
  const spec = t.spec as { env: Array<{ name: string; value?: string; valueFrom?: unknown }>; kes?: unknown };
  assert.equal(spec.kes, undefined);
  const env = Object.fromEntries(spec.env.map((e) => [e.name, e.value ?? e.valueFrom]));
  assert.equal(env.MINIO_KMS_KES_ENDPOINT, 'https://kes.storage.svc.cluster.local:7373');
  assert.equal(env.MINIO_KMS_KES_KEY_NAME, 'minio-default');
  assert.deepEqual(env.MINIO_KMS_KES_API_KEY, { secretKeyRef: { name: 'minio-kes-api-key', key: 'apiKey' } });
  assert.equal('MINIO_KMS_KES_CERT_FILE' in env, false);
  const withCert = minioTenant({ ...tenantArgs, apiKeySecretName: undefined, clientCertSecretName: 'minio-kes-client' });
  assert.deepEqual(validateTenant(withCert), []);
});

test('the Tenant schema rejects an invalid Tenant (misspelled field, servers as string)', () => {
  const t = structuredClone(minioTenant(tenantArgs)) as unknown as { spec: Record<string, any> };
  t.spec.pools[0].server = 4;
  delete t.spec.pools[0].servers;
  assert.notDeepEqual(validateTenant(t), []);
  const t2 = structuredClone(minioTenant(tenantArgs)) as unknown as { spec: Record<string, any> };
  t2.spec.pools[0].servers = 'four';
  assert.notDeepEqual(validateTenant(t2), []);
});

test('the Tenant needs exactly one MinIO credential kind', () => {
  assert.throws(() => minioTenant({ ...tenantArgs, clientCertSecretName: 'c' }), (e: unknown) => isRenderError(e) && e.field === 'apiKeySecretName');
  assert.throws(() => minioTenant({ ...tenantArgs, apiKeySecretName: undefined }), (e: unknown) => isRenderError(e) && e.field === 'apiKeySecretName');
});

test('KES objects reject bad names and replica counts, naming the field', () => {
  const args = { name: 'kes', namespace: 'ns', image: 'i', replicas: 1, configYaml: 'x', configChecksum: 'c', tlsFiles: {}, secretEnv: {} };
  assert.throws(() => kesKubernetesObjects({ ...args, name: 'KES' }), (e: unknown) => isRenderError(e) && e.field === 'name');
  assert.throws(() => kesKubernetesObjects({ ...args, replicas: 0 }), (e: unknown) => isRenderError(e) && e.field === 'replicas');
});
