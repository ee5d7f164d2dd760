import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPublicKey } from 'node:crypto';
import { parse } from 'yaml';
import { parseApiKey } from '../../kes-server/src/auth/api-key.ts';
import { parseConfig } from '../../kes-server/src/config/index.ts';
import { tenantErrors, validateK8s } from '../render/k8s-schema.ts';
import { containsSecret, installMocks, isSecretInput, parentTypeOfUrn, plain, secret, settle, value } from './mocks.ts';
import type { Recorded } from './mocks.ts';
import { kesContainerFiles } from '../../components/targets/docker/kes.ts';

let m: Awaited<ReturnType<typeof installMocks>>;
let C: typeof import('../../components/index.ts');

before(async () => {
  m = await installMocks();
  C = await import('../../components/index.ts');
});

/** Hex SHA-256 of the DER SubjectPublicKeyInfo of a key or certificate PEM, computed here. */
const spkiSha256 = (pem: string) => createHash('sha256').update(createPublicKey(pem).export({ type: 'spki', format: 'der' })).digest('hex');
const dependsOn = (r: Recorded, type: string, name: string) => r.dependencies.includes(m.urnOf(type, name));

const envOf = async (r: { inputs: Record<string, any> }) => Object.fromEntries((plain(r.inputs.envs) as string[]).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));

test('docker target with an ephemeral OpenBao: graph, wiring and secrets', async () => {
  const s = new C.MinioSseKes('dk', {
    target: 'docker',
    vault: { mode: 'ephemeral' },
    defaultKey: 'minio-default',
    keys: ['bucket-key'],
    buckets: [{ name: 'secure-data', key: 'bucket-key' }],
    kesReplicas: 2,
    minioNodes: 1,
  });
  assert.equal(await secret(s.minioRootPassword), true);
  await settle();
  const types = (t: string) => m.byType(t).filter((r) => r.name.startsWith('dk-')).map((r) => r.name).sort();
  assert.deepEqual(types('docker:index/container:Container'), ['dk-kes-0', 'dk-kes-1', 'dk-minio-1', 'dk-openbao']);
  assert.deepEqual(types('docker:index/image:Image'), ['dk-image']);
  assert.deepEqual(types('minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption'), ['dk-secure-data-sse']);
  assert.equal(parentTypeOfUrn(m.urnOf('docker:index/container:Container', 'dk-kes-0')), 'minio-sse-kes:index:KesDeployment');
  assert.equal(parentTypeOfUrn(m.urnOf('docker:index/container:Container', 'dk-minio-1')), 'minio-sse-kes:index:MinioCluster');
  assert.equal(parentTypeOfUrn(m.urnOf('minio-sse-kes:index:KesDeployment', 'dk')), 'minio-sse-kes:index:MinioSseKes');

  const kes0 = m.find('docker:index/container:Container', 'dk-kes-0');
  assert.match(kes0.inputs.entrypoints[2], /server --config '\/etc\/kes\/config\.yaml'$/);
  assert.equal(isSecretInput(kes0.inputs.envs), true, 'container env carries the secret id and the server key: secret');
  const kesEnv = await envOf(kes0);
  assert.deepEqual(Object.keys(kesEnv).filter((k) => !k.startsWith('KES_FILE_')), ['KES_VAULT_ROLE_ID', 'KES_VAULT_SECRET_ID']);
  assert.equal(kesEnv.KES_VAULT_ROLE_ID, 'role-id-of-dk-vault-backend-role');
  assert.equal(kesEnv.KES_VAULT_SECRET_ID, 'secret-id-of-dk-vault-backend-secret-id');
  const uploads = kesContainerFiles(plain(kes0.inputs));
  assert.deepEqual(uploads.map((u) => u.file), ['/etc/kes/config.yaml', '/etc/kes/tls/client-ca.crt', '/etc/kes/tls/server.crt', '/etc/kes/tls/server.key']);
  const config = parse(uploads[0].content);
  // Client certificates are verified against the stack's own CA.
  assert.deepEqual(config.tls, { auth: 'on', ca: '/etc/kes/tls/client-ca.crt', cert: '/etc/kes/tls/server.crt', key: '/etc/kes/tls/server.key' });
  assert.equal(uploads[1].content, await value(s.caCertPem));
  assert.equal(config.keystore.vault.endpoint, 'http://dk-openbao:8200');
  // The ephemeral OpenBao is the version every Vault test runs (components/peers.json).
  assert.equal(m.find('docker:index/remoteImage:RemoteImage', 'dk-openbao-image').inputs.name, 'quay.io/openbao/openbao:2.7.2');
  assert.equal(config.keystore.vault.approle.secret, '${KES_VAULT_SECRET_ID}');
  assert.deepEqual(config.keys, [{ name: 'bucket-key' }, { name: 'minio-default' }]);
  assert.equal(config.policy.minio.identities[0], await value(s.minioIdentity));
  assert.equal(config.admin.identity, await value(s.adminIdentity));
  assert.match(uploads[3].content, /BEGIN EC PRIVATE KEY/);
  // The admin identity is the SHA-256 of the SPKI of the mocked admin key.
  assert.equal(config.admin.identity, spkiSha256(m.find('tls:index/privateKey:PrivateKey', 'dk-pki-admin-key').outputs.publicKeyPem));
  // The KES server certificate names every container and belongs to the uploaded key.
  const serverCert = new X509Certificate(uploads[2].content);
  assert.equal(serverCert.subjectAltName, 'DNS:dk-kes, DNS:dk-kes-0, DNS:dk-kes-1, DNS:localhost, IP Address:127.0.0.1');
  assert.equal(spkiSha256(uploads[2].content), spkiSha256(uploads[3].content));
  assert.equal(serverCert.verify(new X509Certificate(await value(s.caCertPem)).publicKey), true);

  assert.equal(isSecretInput(m.find('docker:index/container:Container', 'dk-minio-1').inputs.envs), true);
  const minioEnv = await envOf(m.find('docker:index/container:Container', 'dk-minio-1'));
  assert.equal(minioEnv.MINIO_KMS_KES_ENDPOINT, 'https://dk-kes-0:7373,https://dk-kes-1:7373');
  assert.equal(minioEnv.MINIO_KMS_KES_KEY_NAME, 'minio-default');
  assert.match(minioEnv.MINIO_KMS_KES_API_KEY, /^kes:v1:/);
  assert.equal(minioEnv.MINIO_KMS_KES_CAPATH, '/etc/minio/kes/ca.crt');
  assert.equal(minioEnv.MINIO_VOLUMES, '/data');
  assert.equal('MINIO_KMS_KES_CERT_FILE' in minioEnv, false);
  // The API key MinIO receives has exactly the identity the KES policy admits (as the KES server computes it).
  assert.deepEqual(config.policy.minio.identities, [parseApiKey(minioEnv.MINIO_KMS_KES_API_KEY).identity]);
  const minioUploads = plain(m.find('docker:index/container:Container', 'dk-minio-1').inputs.uploads) as Array<{ file: string; content: string }>;
  assert.deepEqual(minioUploads.map((u) => u.file), ['/etc/minio/kes/ca.crt']);
  assert.equal(serverCert.verify(new X509Certificate(minioUploads[0].content).publicKey), true, 'MinIO trusts the CA that signed KES');
  assert.equal(m.find('docker:index/remoteImage:RemoteImage', 'dk-minio-image').inputs.name, 'quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z');

  // Order: MinIO after the KES containers, the provider and the buckets after MinIO.
  const clusterComponent = m.find('minio-sse-kes:index:MinioCluster', 'dk');
  for (const k of ['dk-kes-0', 'dk-kes-1']) assert.ok(dependsOn(clusterComponent, 'docker:index/container:Container', k), k);
  assert.ok(dependsOn(m.find('pulumi:providers:minio', 'dk-minio'), 'docker:index/container:Container', 'dk-minio-1'));
  assert.ok(dependsOn(m.find('minio-sse-kes:index:BucketEncryption', 'dk-secure-data'), 'docker:index/container:Container', 'dk-minio-1'));
  assert.ok(dependsOn(m.find('pulumi:providers:vault', 'dk-vault'), 'docker:index/container:Container', 'dk-openbao'));

  const sse = m.find('minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption', 'dk-secure-data-sse').inputs;
  assert.deepEqual([sse.bucket, sse.encryptionType, sse.kmsKeyId], ['secure-data', 'aws:kms', 'bucket-key']);
  assert.match(m.find('minio:index/s3Bucket:S3Bucket', 'dk-secure-data-bucket').provider ?? '', /pulumi:providers:minio::dk-minio::/);
  assert.match(m.find('vault:index/policy:Policy', 'dk-vault-backend-policy').provider ?? '', /pulumi:providers:vault::dk-vault::/);
  const vp = m.find('pulumi:providers:vault', 'dk-vault').inputs;
  assert.equal(vp.address, 'http://127.0.0.1:8200');
  assert.equal(isSecretInput(vp.token), true, 'vault token is secret');
  const bao = m.find('docker:index/container:Container', 'dk-openbao');
  assert.equal(isSecretInput(bao.inputs.envs), true, 'the dev root token is secret');
  assert.equal((await envOf(bao)).BAO_DEV_ROOT_TOKEN_ID, plain(vp.token));
  assert.equal(plain(vp.token).length, 32);
  assert.deepEqual([bao.inputs.wait, bao.inputs.healthcheck.tests], [true, ['CMD', 'bao', 'status', '-address=http://127.0.0.1:8200']]);
  assert.deepEqual(bao.inputs.ports, [{ internal: 8200, external: 8200, ip: '127.0.0.1' }]);
});

test('kubernetes target: KES Deployment/Service/Secret/PDB/ConfigMap and MinIO StatefulSet', async () => {
  const k8s = await import('@pulumi/kubernetes');
  const cluster = new k8s.Provider('k8-cluster', { namespace: 'storage' });
  new C.MinioSseKes('k8', {
    target: 'kubernetes',
    vault: { mode: 'existing', address: 'https://vault.example.net:8200', token: 'root-token' },
    defaultKey: 'minio-default',
    kesImage: 'registry.example/kes-server:1',
    kubernetes: { namespace: 'storage' },
    minioNodes: 4,
    minioDrivesPerNode: 2,
    minioAuth: 'certificate',
  }, { providers: [cluster] });
  await settle();
  const k8sObjects = m.resources.filter((r) => r.name.startsWith('k8-') && r.type.startsWith('kubernetes:'));
  for (const r of k8sObjects) {
    validateK8s(plain(r.inputs));
    assert.match(r.provider ?? '', /pulumi:providers:kubernetes::k8-cluster::/, `${r.name} uses the explicit provider`);
  }
  const names = k8sObjects.map((r) => `${r.type} ${r.name}`).sort();
  assert.deepEqual(names, [
    'kubernetes:apps/v1:Deployment k8-deployment',
    'kubernetes:apps/v1:StatefulSet k8-minio-statefulset',
    'kubernetes:core/v1:ConfigMap k8-config',
    'kubernetes:core/v1:Secret k8-minio-env',
    'kubernetes:core/v1:Secret k8-minio-kes',
    'kubernetes:core/v1:Secret k8-secret',
    'kubernetes:core/v1:Service k8-minio-hl',
    'kubernetes:core/v1:Service k8-minio-service',
    'kubernetes:core/v1:Service k8-service',
    'kubernetes:policy/v1:PodDisruptionBudget k8-pdb',
  ]);
  const vp = m.find('pulumi:providers:vault', 'k8-vault').inputs;
  assert.equal(isSecretInput(vp.token), true, 'vault token is secret');
  assert.equal(plain(vp.token), 'root-token');
  const envInput = m.find('kubernetes:core/v1:Secret', 'k8-minio-env').inputs.stringData;
  assert.equal(isSecretInput(envInput), true, 'MinIO env secret data is secret');
  const env = plain(envInput) as Record<string, string>;
  assert.equal(isSecretInput(m.find('kubernetes:core/v1:Secret', 'k8-secret').inputs.stringData), true);
  assert.equal(env.MINIO_KMS_KES_ENDPOINT, 'https://k8-kes.storage.svc.cluster.local:7373');
  assert.equal(env.MINIO_KMS_KES_CERT_FILE, '/etc/minio/kes/client.crt');
  assert.equal('MINIO_KMS_KES_API_KEY' in env, false);
  const sts = m.find('kubernetes:apps/v1:StatefulSet', 'k8-minio-statefulset').inputs;
  assert.equal(sts.spec.template.spec.containers[0].env[0].value, 'http://k8-minio-{0...3}.k8-minio-hl.storage.svc.cluster.local:9000/data{1...2}');
  assert.equal(env.MINIO_KMS_KES_KEY_NAME, 'minio-default');
  // The client certificate MinIO presents has exactly the identity the KES policy admits.
  const minioFiles = plain(m.find('kubernetes:core/v1:Secret', 'k8-minio-kes').inputs.stringData) as Record<string, string>;
  assert.deepEqual(Object.keys(minioFiles).sort(), ['ca.crt', 'client.crt', 'client.key']);
  const kesConfig = parseConfig(plain(m.find('kubernetes:core/v1:ConfigMap', 'k8-config').inputs).data['config.yaml'], { KES_VAULT_ROLE_ID: 'r', KES_VAULT_SECRET_ID: 's' });
  assert.deepEqual(kesConfig.policies.get('minio')?.identities, [spkiSha256(minioFiles['client.crt'])]);
  assert.equal(spkiSha256(minioFiles['client.crt']), spkiSha256(minioFiles['client.key']));
  assert.equal(kesConfig.admin, spkiSha256(m.find('tls:index/privateKey:PrivateKey', 'k8-pki-admin-key').outputs.publicKeyPem));
  const kesFiles = plain(m.find('kubernetes:core/v1:Secret', 'k8-secret').inputs.stringData) as Record<string, string>;
  const serverCert = new X509Certificate(kesFiles['file.server.crt']);
  assert.equal(serverCert.verify(new X509Certificate(minioFiles['ca.crt']).publicKey), true);
  assert.ok(serverCert.subjectAltName?.split(', ').includes('DNS:k8-kes.storage.svc.cluster.local'));
});

test('kubernetes target with the MinIO Operator: a Tenant pointing at the KES service, API key from a Secret', async () => {
  const s = new C.MinioSseKes('op', {
    target: 'kubernetes',
    vault: { mode: 'existing', address: 'https://vault.example.net:8200', token: 'root-token' },
    defaultKey: 'minio-default',
    kesImage: 'registry.example/kes-server:1',
    kubernetes: { namespace: 'storage', minioMode: 'tenant' },
    minioNodes: 4,
    buckets: [{ name: 'data', key: 'minio-default' }],
  });
  await settle();
  assert.equal(s.minioEndpoint, 'minio.storage.svc.cluster.local:80');
  const objects = m.resources.filter((r) => r.name.startsWith('op-') && r.type.startsWith('kubernetes:'));
  assert.deepEqual(objects.map((r) => `${r.type} ${r.name}`).sort(), [
    'kubernetes:apps/v1:Deployment op-deployment',
    'kubernetes:core/v1:ConfigMap op-config',
    'kubernetes:core/v1:Secret op-minio-config',
    'kubernetes:core/v1:Secret op-minio-kes-api-key',
    'kubernetes:core/v1:Secret op-minio-kes-ca',
    'kubernetes:core/v1:Secret op-secret',
    'kubernetes:core/v1:Service op-service',
    'kubernetes:minio.min.io/v2:Tenant op-minio-tenant',
    'kubernetes:policy/v1:PodDisruptionBudget op-pdb',
  ]);
  for (const r of objects) {
    if (r.type.endsWith(':Tenant')) assert.deepEqual(tenantErrors(plain(r.inputs)), []);
    else validateK8s(plain(r.inputs));
  }
  const tenant = plain(m.find('kubernetes:minio.min.io/v2:Tenant', 'op-minio-tenant').inputs);
  const env = Object.fromEntries((tenant.spec.env as Array<{ name: string; value?: string; valueFrom?: unknown }>).map((e) => [e.name, e.value ?? e.valueFrom]));
  assert.equal(env.MINIO_KMS_KES_ENDPOINT, 'https://op-kes.storage.svc.cluster.local:7373');
  assert.equal(env.MINIO_KMS_KES_KEY_NAME, 'minio-default');
  assert.deepEqual(env.MINIO_KMS_KES_API_KEY, { secretKeyRef: { name: 'op-minio-kes-api-key', key: 'apiKey' } });
  assert.equal(tenant.spec.image, 'quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z');
  const apiKeySecret = m.find('kubernetes:core/v1:Secret', 'op-minio-kes-api-key');
  assert.equal(containsSecret(apiKeySecret.inputs.stringData), true);
  const kesConfig = parseConfig(plain(m.find('kubernetes:core/v1:ConfigMap', 'op-config').inputs).data['config.yaml'], { KES_VAULT_ROLE_ID: 'r', KES_VAULT_SECRET_ID: 's' });
  assert.deepEqual(kesConfig.policies.get('minio')?.identities, [parseApiKey(plain(apiKeySecret.inputs.stringData).apiKey).identity]);
  // The Operator mounts the KES CA from the key public.crt of externalCaCertSecret.
  assert.deepEqual(plain(m.find('kubernetes:core/v1:Secret', 'op-minio-kes-ca').inputs.stringData), { 'public.crt': await value(s.caCertPem) });
  // Buckets wait for the Tenant, and the Tenant is created only once the Operator reports it initialized.
  assert.equal(tenant.metadata.annotations['pulumi.com/waitFor'], 'jsonpath={.status.currentState}=Initialized');
  assert.ok(dependsOn(m.find('minio-sse-kes:index:BucketEncryption', 'op-data'), 'kubernetes:minio.min.io/v2:Tenant', 'op-minio-tenant'));
});

test('an explicit vault provider replaces the declared one; no token needed then', async () => {
  const vault = await import('@pulumi/vault');
  const given = new vault.Provider('ops-vault', { address: 'https://vault.example.net:8200' });
  new C.MinioSseKes('ev', { target: 'docker', vault: { mode: 'existing', address: 'https://vault.example.net:8200' }, vaultLayout: { createMount: true }, defaultKey: 'minio-default' }, { providers: [given] });
  await settle();
  assert.equal(m.resources.some((r) => r.type === 'pulumi:providers:vault' && r.name === 'ev-vault'), false);
  for (const name of ['ev-vault-backend-policy', 'ev-vault-backend-kv']) {
    const r = m.resources.find((x) => x.name === name);
    assert.match(r?.provider ?? '', /pulumi:providers:vault::ops-vault::/, name);
  }
  assert.throws(
    () => new C.MinioSseKes('ev2', { target: 'docker', vault: { mode: 'existing', address: 'https://vault.example.net:8200' }, defaultKey: 'minio-default' }),
    /MinioSseKes: invalid \[vault\.token\]/,
  );
});

test('linux target without SSH renders the files instead of running commands', async () => {
  const s = new C.MinioSseKes('lx', {
    target: 'linux',
    vault: { mode: 'existing', address: 'https://10.0.0.9:8200', token: 't' },
    defaultKey: 'minio-default',
    linux: { kesHosts: [{ address: 'kes1.example.net' }], minioHosts: [{ address: 'minio1.example.net' }] },
  });
  await settle();
  assert.equal(m.byType('command:remote:Command').filter((r) => r.name.startsWith('lx-')).length, 0);
  assert.deepEqual(s.kesEndpoints, ['https://kes1.example.net:7373']);
  const csr = m.find('tls:index/certRequest:CertRequest', 'lx-pki-kes-server-csr').inputs;
  assert.deepEqual(csr.dnsNames, ['kes1.example.net', 'localhost']);
});

test('linux target with SSH runs one secret install command per host', async () => {
  new C.MinioSseKes('ls', {
    target: 'linux',
    vault: { mode: 'existing', address: 'https://10.0.0.9:8200', token: 't' },
    defaultKey: 'minio-default',
    linux: { kesHosts: [{ address: '10.0.0.5', ssh: { privateKey: 'SSH-KEY' } }], minioHosts: [{ address: '10.0.0.6', ssh: { privateKey: 'SSH-KEY' } }] },
  });
  await settle();
  const cmds = m.byType('command:remote:Command').filter((r) => r.name.startsWith('ls-'));
  assert.deepEqual(cmds.map((c) => c.name).sort(), ['ls-kes-install-0', 'ls-minio-install-0']);
  for (const c of cmds) {
    assert.equal(c.inputs.create, 'sh -s');
    assert.equal(c.inputs.logging, 'none');
    assert.equal(isSecretInput(c.inputs.stdin), true, 'the install script carries secrets');
    assert.equal(containsSecret(c.inputs.connection), true, 'SSH key is secret');
    assert.ok(!String(plain(c.inputs.stdin)).includes('secret-id-of'), 'secrets travel base64-encoded inside the script');
  }
});

test('a wrong configuration fails with a message naming the argument, before any resource', () => {
  const before = m.resources.length;
  const base = { target: 'docker' as const, vault: { mode: 'ephemeral' as const }, defaultKey: 'minio-default' };
  assert.throws(() => new C.MinioSseKes('bad1', { ...base, target: 'kubernetes' } as never), /MinioSseKes: invalid \[vault\.mode\]/);
  assert.throws(() => new C.MinioSseKes('bad2', { ...base, defaultKey: 'bad.key' }), /invalid \[defaultKey\]/);
  assert.throws(() => new C.MinioSseKes('bad3', { ...base, buckets: [{ name: 'b1b', key: 'other' }] }), /invalid \[buckets\[0\]\.key\]/);
  assert.equal(m.resources.slice(before).filter((r) => r.custom !== false).length, 0);
});

/** `@pulumi/vault` loaded from a second directory, as a consumer's own copy would be: a different Provider class. */
async function secondVaultCopy(): Promise<typeof import('@pulumi/vault')> {
  const { cpSync, mkdirSync, rmSync } = await import('node:fs');
  const { createRequire } = await import('node:module');
  const dir = new URL(`../../.tmp/vault-copy-${process.pid}/node_modules/@pulumi/vault/`, import.meta.url);
  mkdirSync(dir, { recursive: true });
  cpSync(new URL('../../node_modules/@pulumi/vault/', import.meta.url), dir, { recursive: true });
  process.on('exit', () => rmSync(new URL('../../../', dir), { recursive: true, force: true }));
  return createRequire(new URL('package.json', dir))('./index.js');
}

test('a vault provider is found in every documented way, also from a consumer\'s own copy of @pulumi/vault', async () => {
  const own = await import('@pulumi/vault');
  const copy = await secondVaultCopy();
  const pulumi = await import('@pulumi/pulumi');
  const base = { target: 'docker' as const, vault: { mode: 'existing' as const, address: 'https://vault.example.net:8200' }, defaultKey: 'minio-default' };
  class Platform extends pulumi.ComponentResource {
    constructor(name: string, opts: import('@pulumi/pulumi').ComponentResourceOptions) {
      super('platform:index:Platform', name, {}, opts);
    }
  }
  let platforms = 0;
  const ways: Array<[string, (p: import('@pulumi/pulumi').ProviderResource) => import('@pulumi/pulumi').ComponentResourceOptions]> = [
    ['provider', (p) => ({ provider: p })],
    ['providers-list', (p) => ({ providers: [p] })],
    ['providers-map', (p) => ({ providers: { vault: p } })],
    ['parent', (p) => ({ parent: new Platform(`platform-${(platforms += 1)}`, { providers: [p] }) })],
  ];
  for (const [label, lib] of [['own', own], ['copy', copy]] as const) {
    for (const [way, opts] of ways) {
      const given = new lib.Provider(`pv-${label}-${way}`, { address: 'https://vault.example.net:8200' });
      if (label === 'copy') assert.equal(given instanceof own.Provider, false, 'the copy is a different class');
      new C.MinioSseKes(`pv-${label}-${way}`, base, opts(given));
      await settle();
      assert.equal(m.resources.some((r) => r.type === 'pulumi:providers:vault' && r.name === `pv-${label}-${way}-vault`), false, `${label} ${way}: no provider declared`);
      const policy = m.find('vault:index/policy:Policy', `pv-${label}-${way}-vault-backend-policy`);
      assert.match(policy.provider ?? '', new RegExp(`pulumi:providers:vault::pv-${label}-${way}::`), `${label} ${way}`);
    }
  }
});

test('a minio provider given by a parent replaces the declared one', async () => {
  const minio = await import('@pulumi/minio');
  const pulumi = await import('@pulumi/pulumi');
  const given = new minio.Provider('ops-minio', { minioServer: 'minio.example.net:443', minioUser: 'u', minioPassword: 'p', minioSsl: true });
  const parent = new (class extends pulumi.ComponentResource {
    constructor() {
      super('platform:index:Platform', 'mp-parent', {}, { providers: { minio: given } });
    }
  })();
  new C.MinioSseKes('mp', { target: 'docker', vault: { mode: 'ephemeral' }, defaultKey: 'minio-default', buckets: [{ name: 'data', key: 'minio-default' }] }, { parent });
  await settle();
  assert.equal(m.resources.some((r) => r.type === 'pulumi:providers:minio' && r.name === 'mp-minio'), false);
  assert.match(m.find('minio:index/s3Bucket:S3Bucket', 'mp-data-bucket').provider ?? '', /pulumi:providers:minio::ops-minio::/);
});
