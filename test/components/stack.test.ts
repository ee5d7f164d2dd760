import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { containsSecret, installMocks, isSecretInput, parentTypeOfUrn, plain, secret, settle, value } from './mocks.ts';

let m: Awaited<ReturnType<typeof installMocks>>;
let C: typeof import('../../components/index.ts');

before(async () => {
  m = await installMocks();
  C = await import('../../components/index.ts');
});

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
  assert.equal(parentTypeOfUrn(m.urnOf('docker:index/container:Container', 'dk-kes-0')), 'minio-sse-kes:index:KesServer');
  assert.equal(parentTypeOfUrn(m.urnOf('docker:index/container:Container', 'dk-minio-1')), 'minio-sse-kes:index:MinioCluster');
  assert.equal(parentTypeOfUrn(m.urnOf('minio-sse-kes:index:KesServer', 'dk')), 'minio-sse-kes:index:MinioSseKes');

  const kes0 = m.find('docker:index/container:Container', 'dk-kes-0');
  assert.deepEqual(kes0.inputs.command, ['server', '--config', '/etc/kes/config.yaml']);
  assert.equal(isSecretInput(kes0.inputs.envs), true, 'container env carries the secret id: secret');
  const kesEnv = await envOf(kes0);
  assert.deepEqual(Object.keys(kesEnv), ['KES_VAULT_ROLE_ID', 'KES_VAULT_SECRET_ID']);
  assert.equal(kesEnv.KES_VAULT_ROLE_ID, 'role-id-of-dk-vault-backend-role');
  assert.equal(kesEnv.KES_VAULT_SECRET_ID, 'secret-id-of-dk-vault-backend-secret-id');
  assert.equal(containsSecret(kes0.inputs.uploads), true, 'server key upload is secret');
  const uploads = plain(kes0.inputs.uploads) as Array<{ file: string; content: string }>;
  assert.deepEqual(uploads.map((u) => u.file), ['/etc/kes/config.yaml', '/etc/kes/tls/server.crt', '/etc/kes/tls/server.key']);
  const config = parse(uploads[0].content);
  assert.equal(config.keystore.vault.endpoint, 'http://dk-openbao:8200');
  assert.equal(config.keystore.vault.approle.secret, '${KES_VAULT_SECRET_ID}');
  assert.deepEqual(config.keys, [{ name: 'bucket-key' }, { name: 'minio-default' }]);
  assert.equal(config.policy.minio.identities[0], await value(s.minioIdentity));
  assert.equal(config.admin.identity, await value(s.adminIdentity));
  assert.match(uploads[2].content, /BEGIN EC PRIVATE KEY/);

  assert.equal(isSecretInput(m.find('docker:index/container:Container', 'dk-minio-1').inputs.envs), true);
  const minioEnv = await envOf(m.find('docker:index/container:Container', 'dk-minio-1'));
  assert.equal(minioEnv.MINIO_KMS_KES_ENDPOINT, 'https://dk-kes-0:7373,https://dk-kes-1:7373');
  assert.equal(minioEnv.MINIO_KMS_KES_KEY_NAME, 'minio-default');
  assert.match(minioEnv.MINIO_KMS_KES_API_KEY, /^kes:v1:/);
  assert.equal(minioEnv.MINIO_KMS_KES_CAPATH, '/etc/minio/kes/ca.crt');
  assert.equal(minioEnv.MINIO_VOLUMES, '/data');
  assert.equal('MINIO_KMS_KES_CERT_FILE' in minioEnv, false);

  const sse = m.find('minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption', 'dk-secure-data-sse').inputs;
  assert.deepEqual([sse.bucket, sse.encryptionType, sse.kmsKeyId], ['secure-data', 'aws:kms', 'bucket-key']);
  assert.match(m.find('minio:index/s3Bucket:S3Bucket', 'dk-secure-data-bucket').provider ?? '', /pulumi:providers:minio::dk-minio::/);
  assert.match(m.find('vault:index/policy:Policy', 'dk-vault-backend-policy').provider ?? '', /pulumi:providers:vault::dk-vault::/);
  const vp = m.find('pulumi:providers:vault', 'dk-vault').inputs;
  assert.equal(vp.address, 'http://127.0.0.1:8200');
  assert.equal(isSecretInput(vp.token), true, 'vault token is secret');
  const bao = m.find('docker:index/container:Container', 'dk-openbao');
  assert.equal((await envOf(bao)).BAO_DEV_ROOT_TOKEN_ID.length, 32);
});

test('kubernetes target: KES Deployment/Service/Secret/PDB/ConfigMap and MinIO StatefulSet', async () => {
  new C.MinioSseKes('k8', {
    target: 'kubernetes',
    vault: { mode: 'existing', address: 'https://vault.example.net:8200', token: 'root-token' },
    defaultKey: 'minio-default',
    kesImage: 'registry.example/kes-server:1',
    kubernetes: { namespace: 'storage' },
    minioNodes: 4,
    minioDrivesPerNode: 2,
    minioAuth: 'certificate',
  });
  await settle();
  const names = m.resources.filter((r) => r.name.startsWith('k8-') && r.type.startsWith('kubernetes:')).map((r) => `${r.type} ${r.name}`).sort();
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
  const csr = m.find('tls:index/certRequest:CertRequest', 'k8-pki-kes-server-csr').inputs;
  assert.ok(csr.dnsNames.includes('k8-kes.storage.svc.cluster.local'));
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
  assert.throws(() => new C.MinioSseKes('bad1', { ...base, target: 'kubernetes' }), /MinioSseKes: invalid \[vault\.mode\]/);
  assert.throws(() => new C.MinioSseKes('bad2', { ...base, defaultKey: 'bad.key' }), /invalid \[defaultKey\]/);
  assert.throws(() => new C.MinioSseKes('bad3', { ...base, buckets: [{ name: 'b1b', key: 'other' }] }), /invalid \[buckets\[0\]\.key\]/);
  assert.equal(m.resources.slice(before).filter((r) => r.custom !== false).length, 0);
});
