/**
 * KesDeployment, MinioCluster and BucketEncryption on their own, under mocks: resource graph (types,
 * names, parents, dependencies, providers), exact inputs, secretness, Kubernetes objects against
 * their schemas, the rendered KES config through kes-server's own parser, and argument errors.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { parseConfig } from '../../kes-server/src/config/index.ts';
import { tenantErrors, validateK8s } from '../render/k8s-schema.ts';
import { containsSecret, installMocks, isSecretInput, plain, secret, settle, urnParts, value } from './mocks.ts';
import type { Recorded } from './mocks.ts';
import { kesContainerFiles, npmBuildCaCerts } from '../../components/targets/docker/kes.ts';

let m: Awaited<ReturnType<typeof installMocks>>;
let C: typeof import('../../components/index.ts');
let docker: typeof import('@pulumi/docker');
let k8s: typeof import('@pulumi/kubernetes');
let minio: typeof import('@pulumi/minio');

before(async () => {
  m = await installMocks();
  C = await import('../../components/index.ts');
  docker = await import('@pulumi/docker');
  k8s = await import('@pulumi/kubernetes');
  minio = await import('@pulumi/minio');
});

const ADMIN = 'a'.repeat(64);
const MINIO_ID = 'b'.repeat(64);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

const kesBase = {
  vault: { endpoint: 'https://vault.example.net:8200', engine: 'kv', version: 'v1' as const, prefix: 'minio', approlePath: 'approle' },
  roleId: 'the-role-id',
  secretId: 'the-secret-id',
  serverCertPem: 'SERVER-CERT',
  serverPrivateKeyPem: 'SERVER-KEY',
  adminIdentity: ADMIN,
  minioIdentity: MINIO_ID,
  keys: ['minio-default'],
};

const parentOf = (r: Recorded) => urnParts(r.parent);
const dependsOn = (r: Recorded, type: string, name: string) => r.dependencies.includes(m.urnOf(type, name));
const envOf = (list: unknown) => Object.fromEntries((plain(list) as string[]).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
const noCustomSince = (n: number) => m.resources.slice(n).filter((r) => r.custom !== false).length;

test('KesDeployment on Docker: image built from the package\'s kes-server folder, one container per replica, explicit provider', async () => {
  const provider = new docker.Provider('dk-explicit', { host: 'unix:///var/run/docker.sock' });
  const kes = new C.KesDeployment(
    'kd',
    { ...kesBase, target: 'docker', replicas: 3, docker: { network: 'net-1' }, vault: { ...kesBase.vault, caCertPem: 'VAULT-CA', clientCertPem: 'VC', clientKeyPem: 'VK' } },
    { providers: [provider] },
  );
  await settle();
  assert.deepEqual(kes.endpoints, ['https://kd-kes-0:7373', 'https://kd-kes-1:7373', 'https://kd-kes-2:7373']);
  const image = m.find('docker:index/image:Image', 'kd-image');
  // The npm CA build argument appears only on a machine whose NODE_EXTRA_CA_CERTS adds CAs Node lacks.
  const { args, ...build } = image.inputs.build;
  assert.deepEqual(build, { context: `${repoRoot}kes-server/`, dockerfile: `${repoRoot}kes-server/Dockerfile` });
  assert.deepEqual(args, npmBuildCaCerts() ? { NPM_CA_CERTS: npmBuildCaCerts() } : undefined);
  assert.equal(image.inputs.skipPush, true);
  assert.ok(existsSync(`${repoRoot}kes-server/image-lock.json`), 'the lockfile the Dockerfile copies is in the context');

  const containers = m.byType('docker:index/container:Container').filter((r) => r.name.startsWith('kd-'));
  assert.deepEqual(containers.map((c) => c.name).sort(), ['kd-kes-0', 'kd-kes-1', 'kd-kes-2']);
  for (const c of containers) {
    assert.deepEqual(parentOf(c), { type: 'minio-sse-kes:index:KesDeployment', name: 'kd' });
    assert.match(c.provider ?? '', /pulumi:providers:docker::dk-explicit::/);
    assert.equal(c.inputs.image, 'minio-sse-kes/kes-server:local');
    assert.deepEqual(c.inputs.networksAdvanced, [{ name: 'net-1', aliases: ['kd-kes'] }]);
    // Read-only root file system, no capabilities; the files reach a tmpfs through the environment.
    assert.equal(c.inputs.readOnly, true);
    assert.deepEqual(c.inputs.capabilities, { drops: ['ALL'] });
    assert.deepEqual(c.inputs.tmpfs, { '/etc/kes': 'rw,noexec,nosuid,size=1m,uid=1000,gid=1000,mode=0700' });
    assert.equal(c.inputs.uploads, undefined);
    assert.equal(isSecretInput(c.inputs.envs), true);
    const env = envOf(c.inputs.envs);
    assert.deepEqual([env.KES_VAULT_ROLE_ID, env.KES_VAULT_SECRET_ID], ['the-role-id', 'the-secret-id']);
    assert.deepEqual(Object.keys(env).filter((k) => !k.startsWith('KES_FILE_')), ['KES_VAULT_ROLE_ID', 'KES_VAULT_SECRET_ID']);
  }
  const uploads = kesContainerFiles(plain(containers[0].inputs));
  assert.deepEqual(uploads.map((u) => u.file), ['/etc/kes/config.yaml', '/etc/kes/tls/server.crt', '/etc/kes/tls/server.key', '/etc/kes/tls/vault-ca.crt', '/etc/kes/tls/vault.crt', '/etc/kes/tls/vault.key']);
  assert.equal(uploads[3].content, 'VAULT-CA');
  assert.match(containers[0].inputs.entrypoints[2], /^exec env -u KES_FILE_0 .* node src\/cli\/main\.ts server --config '\/etc\/kes\/config\.yaml'$/m);

  // kes-server's own parser reads the rendered config; AppRole credentials come from the environment.
  const yaml = await value(kes.configYaml);
  assert.equal(await secret(kes.configYaml), false);
  assert.ok(!yaml.includes('the-secret-id') && !yaml.includes('the-role-id'));
  const cfg = parseConfig(yaml, { KES_VAULT_ROLE_ID: 'the-role-id', KES_VAULT_SECRET_ID: 'the-secret-id' });
  assert.equal(cfg.admin, ADMIN);
  assert.deepEqual(cfg.policies.get('minio')?.identities, [MINIO_ID]);
  assert.deepEqual(cfg.keys, ['minio-default']);
  assert.equal(cfg.keystore.kind, 'vault');
  if (cfg.keystore.kind === 'vault') {
    const o = cfg.keystore.options;
    assert.deepEqual([o.endpoint, o.engine, o.version, o.prefix], ['https://vault.example.net:8200', 'kv', 'v1', 'minio']);
    assert.deepEqual(o.approle, { engine: 'approle', namespace: '', id: 'the-role-id', secret: 'the-secret-id' });
    assert.deepEqual(o.tls, { key: '/etc/kes/tls/vault.key', cert: '/etc/kes/tls/vault.crt', ca: '/etc/kes/tls/vault-ca.crt' });
  }
  assert.throws(() => parseConfig(yaml, {}), /KES_VAULT_ROLE_ID|KES_VAULT_SECRET_ID/, 'without the environment the config does not load');
});

test('KesDeployment on Kubernetes: schema-valid objects, Secret holds the credentials, Deployment waits for config', async () => {
  const provider = new k8s.Provider('k8s-explicit', {});
  const kes = new C.KesDeployment('kk', { ...kesBase, target: 'kubernetes', image: 'registry.example/kes:1', kubernetes: { namespace: 'storage' } }, { providers: [provider] });
  await settle();
  assert.deepEqual(kes.endpoints, ['https://kk-kes.storage.svc.cluster.local:7373']);
  const objs = m.resources.filter((r) => r.name.startsWith('kk-') && r.type.startsWith('kubernetes:'));
  assert.deepEqual(objs.map((r) => `${r.type} ${r.name}`).sort(), [
    'kubernetes:apps/v1:Deployment kk-deployment',
    'kubernetes:core/v1:ConfigMap kk-config',
    'kubernetes:core/v1:Secret kk-secret',
    'kubernetes:core/v1:Service kk-service',
    'kubernetes:policy/v1:PodDisruptionBudget kk-pdb',
  ]);
  for (const r of objs) {
    validateK8s(plain(r.inputs));
    assert.match(r.provider ?? '', /pulumi:providers:kubernetes::k8s-explicit::/);
    assert.deepEqual(parentOf(r), { type: 'minio-sse-kes:index:KesDeployment', name: 'kk' });
  }
  const secretRes = m.find('kubernetes:core/v1:Secret', 'kk-secret');
  assert.equal(isSecretInput(secretRes.inputs.stringData), true);
  assert.deepEqual(Object.keys(plain(secretRes.inputs.stringData)).sort(), ['env.KES_VAULT_ROLE_ID', 'env.KES_VAULT_SECRET_ID', 'file.server.crt', 'file.server.key']);
  assert.equal(plain(secretRes.inputs.stringData)['env.KES_VAULT_SECRET_ID'], 'the-secret-id');
  const deployment = m.find('kubernetes:apps/v1:Deployment', 'kk-deployment');
  assert.ok(dependsOn(deployment, 'kubernetes:core/v1:ConfigMap', 'kk-config') && dependsOn(deployment, 'kubernetes:core/v1:Secret', 'kk-secret'));
  const configMap = plain(m.find('kubernetes:core/v1:ConfigMap', 'kk-config').inputs);
  assert.ok(!JSON.stringify(configMap).includes('the-secret-id'), 'the ConfigMap carries no credential');
  const cfg = parseConfig(configMap.data['config.yaml'], { KES_VAULT_ROLE_ID: 'r', KES_VAULT_SECRET_ID: 's' });
  assert.deepEqual([cfg.tls.cert, cfg.tls.key], ['/etc/kes/tls/server.crt', '/etc/kes/tls/server.key']);
  const tlsItems = plain(deployment.inputs).spec.template.spec.volumes.find((v: { name: string }) => v.name === 'tls').secret.items;
  assert.deepEqual(tlsItems.map((i: { path: string }) => i.path), ['server.crt', 'server.key'], 'the files the config names are mounted');
  const checksum = plain(deployment.inputs).spec.template.metadata.annotations['minio-sse-kes/config-checksum'];
  assert.match(checksum, /^[0-9a-f]{64}$/);
  assert.equal(isSecretInput(deployment.inputs.spec?.template?.metadata?.annotations?.['minio-sse-kes/config-checksum']), false);
});

test('KesDeployment on Linux: with SSH one install command per host; the rendered files are secret', async () => {
  const kes = new C.KesDeployment('kl', {
    ...kesBase,
    target: 'linux',
    linux: { hosts: [{ address: '10.0.0.5', ssh: { privateKey: 'KEY' } }, { address: '10.0.0.6', ssh: { user: 'ops', port: 2222, privateKey: 'KEY' } }] },
  });
  await settle();
  assert.deepEqual(kes.endpoints, ['https://10.0.0.5:7373', 'https://10.0.0.6:7373']);
  const cmds = m.byType('command:remote:Command').filter((r) => r.name.startsWith('kl-'));
  assert.deepEqual(cmds.map((c) => c.name).sort(), ['kl-kes-install-0', 'kl-kes-install-1']);
  const conn = plain(m.find('command:remote:Command', 'kl-kes-install-1').inputs.connection);
  assert.deepEqual([conn.host, conn.user, conn.port, conn.privateKey], ['10.0.0.6', 'ops', 2222, 'KEY']);
  assert.equal(containsSecret(m.find('command:remote:Command', 'kl-kes-install-1').inputs.connection), true);
  assert.equal(await secret(kes.renderedFiles), true);
  const files = (await value(kes.renderedFiles)) as Record<string, string>;
  assert.deepEqual(Object.keys(files).sort(), ['/etc/default/kes', '/etc/kes/config.yaml', '/etc/kes/tls/server.crt', '/etc/kes/tls/server.key', '/etc/systemd/system/kes.service']);
  assert.equal(files['/etc/default/kes'], 'KES_VAULT_ROLE_ID="the-role-id"\nKES_VAULT_SECRET_ID="the-secret-id"\n');
  assert.match(files['/etc/systemd/system/kes.service'], /^EnvironmentFile=\/etc\/default\/kes$/m);
  assert.ok(!files['/etc/kes/config.yaml'].includes('the-secret-id'));
});

test('KesDeployment rejects wrong arguments before declaring anything, naming the argument', () => {
  const n = m.resources.length;
  const cases: Array<[string, object, RegExp]> = [
    ['replicas', { ...kesBase, target: 'docker', docker: { network: 'n' }, replicas: 0 }, /KesDeployment: invalid \[replicas\]/],
    ['docker', { ...kesBase, target: 'docker' }, /KesDeployment: invalid \[docker\]/],
    ['image', { ...kesBase, target: 'kubernetes', kubernetes: { namespace: 'ns' } }, /KesDeployment: invalid \[image\]/],
    ['linux.hosts', { ...kesBase, target: 'linux', linux: { hosts: [] } }, /KesDeployment: invalid \[linux\.hosts\]/],
    ['keys', { ...kesBase, target: 'docker', docker: { network: 'n' }, keys: ['bad.key'] }, /KesDeployment: invalid \[keys\[0\]\]/],
    ['vault.endpoint', { ...kesBase, target: 'docker', docker: { network: 'n' }, vault: { ...kesBase.vault, endpoint: 'vault:8200' } }, /KesDeployment: invalid \[keystore\.endpoint\]/],
  ];
  for (const [field, args, re] of cases) {
    assert.throws(() => new C.KesDeployment(`bad-${field}`, args as never), (e: unknown) => e instanceof pulumi.ResourceError && re.test(e.message), field);
  }
  assert.equal(noCustomSince(n), 0);
});

const kesOfMinio = { endpoints: ['https://kes-0:7373', 'https://kes-1:7373'], caCertPem: 'KES-CA', defaultKeyName: 'minio-default', apiKey: 'kes:v1:AAAA' };

test('MinioCluster on Docker: the pinned default image, 4 nodes, KES environment with the API key, secret env', async () => {
  const c = new C.MinioCluster('md', { target: 'docker', nodes: 4, kes: kesOfMinio, docker: { network: 'net-1', hostPort: 19000 } });
  await settle();
  // The last official community image; Docker Hub's minio/minio is gone (docs/protocol.md#deploying-minio).
  assert.equal(C.DEFAULT_MINIO_IMAGE, 'quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z');
  assert.equal(m.find('docker:index/remoteImage:RemoteImage', 'md-minio-image').inputs.name, 'quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z');
  const nodes = m.byType('docker:index/container:Container').filter((r) => r.name.startsWith('md-minio-'));
  assert.deepEqual(nodes.map((r) => r.name).sort(), ['md-minio-1', 'md-minio-2', 'md-minio-3', 'md-minio-4']);
  assert.equal(c.endpoint, '127.0.0.1:19000');
  assert.equal(await secret(c.rootPassword), true);
  const password = await value(c.rootPassword);
  for (const n of nodes) {
    assert.equal(isSecretInput(n.inputs.envs), true);
    const env = envOf(n.inputs.envs);
    assert.deepEqual(env, {
      MINIO_KMS_KES_API_KEY: 'kes:v1:AAAA',
      MINIO_KMS_KES_CAPATH: '/etc/minio/kes/ca.crt',
      MINIO_KMS_KES_ENDPOINT: 'https://kes-0:7373,https://kes-1:7373',
      MINIO_KMS_KES_KEY_NAME: 'minio-default',
      MINIO_ROOT_PASSWORD: password,
      MINIO_ROOT_USER: 'minio-root',
      MINIO_VOLUMES: 'http://md-minio-{1...4}:9000/data',
    });
    assert.deepEqual(plain(n.inputs.uploads), [{ file: '/etc/minio/kes/ca.crt', content: 'KES-CA' }]);
    assert.deepEqual(n.inputs.ports, n.name === 'md-minio-1' ? [{ internal: 9000, external: 19000, ip: '127.0.0.1' }] : []);
    assert.deepEqual(n.inputs.healthcheck.tests, ['CMD', 'mc', 'ready', 'local']);
    assert.equal(n.inputs.wait, true);
  }
});

test('MinioCluster with a client certificate: key upload is secret, no API key; both credentials or none fail', async () => {
  const kes = { ...kesOfMinio, apiKey: undefined, clientCertPem: 'CLIENT-CERT', clientKeyPem: 'CLIENT-KEY' };
  new C.MinioCluster('mc', { target: 'docker', kes, docker: { network: 'n' } });
  await settle();
  const node = m.find('docker:index/container:Container', 'mc-minio-1');
  const env = envOf(node.inputs.envs);
  assert.equal(env.MINIO_KMS_KES_CERT_FILE, '/etc/minio/kes/client.crt');
  assert.equal(env.MINIO_KMS_KES_KEY_FILE, '/etc/minio/kes/client.key');
  assert.equal('MINIO_KMS_KES_API_KEY' in env, false);
  assert.equal(env.MINIO_KMS_KES_KEY_NAME, 'minio-default');
  assert.deepEqual((plain(node.inputs.uploads) as Array<{ file: string }>).map((u) => u.file), ['/etc/minio/kes/ca.crt', '/etc/minio/kes/client.crt', '/etc/minio/kes/client.key']);
  assert.equal(isSecretInput(node.inputs.uploads), true, 'the upload list carries the client key: secret');

  const n = m.resources.length;
  assert.throws(() => new C.MinioCluster('both', { target: 'docker', kes: { ...kes, apiKey: 'kes:v1:AAAA' }, docker: { network: 'n' } }), /MinioCluster: invalid \[apiKey\]: .*not both/);
  assert.throws(() => new C.MinioCluster('none', { target: 'docker', kes: { ...kesOfMinio, apiKey: undefined }, docker: { network: 'n' } }), /MinioCluster: invalid \[apiKey\]/);
  assert.throws(() => new C.MinioCluster('drives', { target: 'docker', nodes: 2, kes: kesOfMinio, docker: { network: 'n' } }), /MinioCluster: invalid \[drivesPerNode\]/);
  assert.throws(() => new C.MinioCluster('key', { target: 'docker', kes: { ...kesOfMinio, defaultKeyName: 'a/b' }, docker: { network: 'n' } }), /MinioCluster: invalid \[defaultKeyName\]/);
  assert.throws(() => new C.MinioCluster('tgt', { target: 'mainframe', kes: kesOfMinio } as never), /MinioCluster: invalid \[target\]/);
  assert.equal(m.resources.slice(n).length, 0, 'no resource at all, not even the root password');
});

test('MinioCluster on Kubernetes as a StatefulSet: schema-valid objects, secret env with the key name', async () => {
  new C.MinioCluster('ms', { target: 'kubernetes', nodes: 4, drivesPerNode: 2, kes: kesOfMinio, kubernetes: { namespace: 'storage' } });
  await settle();
  const objs = m.resources.filter((r) => r.name.startsWith('ms-') && r.type.startsWith('kubernetes:'));
  assert.equal(objs.length, 5);
  for (const r of objs) validateK8s(plain(r.inputs));
  const env = m.find('kubernetes:core/v1:Secret', 'ms-minio-env').inputs.stringData;
  assert.equal(containsSecret(env), true);
  assert.equal(plain(env).MINIO_KMS_KES_KEY_NAME, 'minio-default');
  assert.equal(plain(env).MINIO_KMS_KES_ENDPOINT, 'https://kes-0:7373,https://kes-1:7373');
  const sts = m.find('kubernetes:apps/v1:StatefulSet', 'ms-minio-statefulset');
  for (const dep of ['ms-minio-env', 'ms-minio-kes']) assert.ok(dependsOn(sts, 'kubernetes:core/v1:Secret', dep), dep);
  assert.ok(dependsOn(sts, 'kubernetes:core/v1:Service', 'ms-minio-hl'));
  assert.equal(plain(sts.inputs).spec.template.spec.containers[0].image, C.DEFAULT_MINIO_IMAGE);
});

for (const auth of ['apiKey', 'certificate'] as const) {
  test(`MinioCluster on Kubernetes as an Operator Tenant (${auth}): valid against the Tenant schema subset, secrets secret`, async () => {
    const name = `mt${auth === 'apiKey' ? 'a' : 'c'}`;
    const kes = auth === 'apiKey' ? kesOfMinio : { ...kesOfMinio, apiKey: undefined, clientCertPem: 'CC', clientKeyPem: 'CK' };
    const c = new C.MinioCluster(name, { target: 'kubernetes', nodes: 4, kes, rootPassword: 'root-password-1', kubernetes: { namespace: 'storage', mode: 'tenant' } });
    await settle();
    assert.equal(c.endpoint, 'minio.storage.svc.cluster.local:80');
    const tenant = m.find('kubernetes:minio.min.io/v2:Tenant', `${name}-minio-tenant`);
    const t = plain(tenant.inputs);
    assert.deepEqual(tenantErrors(t), []);
    assert.equal(t.spec.kes, undefined, 'the external KES is used, not an operator-managed one');
    const env = Object.fromEntries((t.spec.env as Array<{ name: string; value?: string; valueFrom?: unknown }>).map((e) => [e.name, e.value ?? e.valueFrom]));
    assert.equal(env.MINIO_KMS_KES_KEY_NAME, 'minio-default');
    assert.equal(env.MINIO_KMS_KES_ENDPOINT, 'https://kes-0:7373,https://kes-1:7373');
    assert.equal('MINIO_KMS_KES_API_KEY' in env && 'MINIO_KMS_KES_CERT_FILE' in env, false, 'never both credentials');
    const config = m.find('kubernetes:core/v1:Secret', `${name}-minio-config`);
    assert.equal(containsSecret(config.inputs.stringData), true);
    assert.equal(plain(config.inputs.stringData)['config.env'], 'export MINIO_ROOT_USER="minio-root"\nexport MINIO_ROOT_PASSWORD="root-password-1"\n');
    const cred = auth === 'apiKey' ? `${name}-minio-kes-api-key` : `${name}-minio-kes-client`;
    const credRes = m.find('kubernetes:core/v1:Secret', cred);
    assert.equal(containsSecret(credRes.inputs.stringData), true);
    for (const dep of [`${name}-minio-config`, `${name}-minio-kes-ca`, cred]) assert.ok(dependsOn(tenant, 'kubernetes:core/v1:Secret', dep), dep);
    for (const s of [config, credRes, m.find('kubernetes:core/v1:Secret', `${name}-minio-kes-ca`)]) validateK8s(plain(s.inputs));
  });
}

test('MinioCluster on Linux: MINIO_VOLUMES over all hosts and drives, secret env file, no commands without SSH', async () => {
  const c = new C.MinioCluster('ml', { target: 'linux', drivesPerNode: 2, kes: kesOfMinio, linux: { hosts: [{ address: 'm1.example.net' }, { address: 'm2.example.net' }] } });
  await settle();
  assert.equal(m.byType('command:remote:Command').filter((r) => r.name.startsWith('ml-')).length, 0);
  assert.equal(await secret(c.renderedFiles), true);
  const files = (await value(c.renderedFiles)) as Record<string, string>;
  assert.deepEqual(Object.keys(files).sort(), ['/etc/default/minio', '/etc/minio/kes/ca.crt', '/etc/systemd/system/minio.service']);
  const envFile = files['/etc/default/minio'];
  assert.match(envFile, /^MINIO_VOLUMES="http:\/\/m1\.example\.net:9000\/srv\/minio\/data1 http:\/\/m1\.example\.net:9000\/srv\/minio\/data2 http:\/\/m2\.example\.net:9000\/srv\/minio\/data1 http:\/\/m2\.example\.net:9000\/srv\/minio\/data2"$/m);
  assert.match(envFile, /^MINIO_KMS_KES_KEY_NAME="minio-default"$/m);
  assert.match(envFile, /^MINIO_KMS_KES_API_KEY="kes:v1:AAAA"$/m);
  assert.match(files['/etc/systemd/system/minio.service'], /^ReadWritePaths=\/srv\/minio\/data1 \/srv\/minio\/data2$/m);
});

test('BucketEncryption: bucket then SSE-KMS rule with the key, through the explicit minio provider', async () => {
  const provider = new minio.Provider('minio-explicit', { minioServer: '127.0.0.1:9000' });
  const b = new C.BucketEncryption('be', { bucket: 'secure-data', keyId: 'bucket-key' }, { providers: [provider] });
  await settle();
  assert.equal(await value(b.bucket), 'secure-data');
  const bucket = m.find('minio:index/s3Bucket:S3Bucket', 'be-bucket');
  const sse = m.find('minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption', 'be-sse');
  assert.deepEqual([bucket.inputs.bucket, bucket.inputs.forceDestroy], ['secure-data', false]);
  assert.deepEqual([sse.inputs.bucket, sse.inputs.encryptionType, sse.inputs.kmsKeyId], ['secure-data', 'aws:kms', 'bucket-key']);
  assert.ok(dependsOn(sse, 'minio:index/s3Bucket:S3Bucket', 'be-bucket'));
  for (const r of [bucket, sse]) {
    assert.match(r.provider ?? '', /pulumi:providers:minio::minio-explicit::/);
    assert.deepEqual(parentOf(r), { type: 'minio-sse-kes:index:BucketEncryption', name: 'be' });
  }
  const n = m.resources.length;
  assert.throws(() => new C.BucketEncryption('bad1', { bucket: 'Bad_Bucket', keyId: 'k' }), /BucketEncryption: invalid \[bucket\]/);
  assert.throws(() => new C.BucketEncryption('bad2', { bucket: 'good-bucket', keyId: 'k/1' }), /BucketEncryption: invalid \[keyId\]/);
  assert.equal(noCustomSince(n), 0);
});

test('npmBuildCaCerts: the certificates of NODE_EXTRA_CA_CERTS that Node does not trust already, nothing without the file', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { rootCertificates } = await import('node:tls');
  const { generateKeyPairSync, createPublicKey } = await import('node:crypto');
  const { createCertificate } = await import('../../kes-server/src/tls/x509.ts');
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const own = createCertificate({ commonName: 'inspecting proxy', publicKey: createPublicKey(key), signingKey: key, notAfter: new Date(Date.now() + 3_600_000), isCA: true });
  const dir = mkdtempSync(join(tmpdir(), 'npm-ca-'));
  try {
    const bundle = join(dir, 'bundle.pem');
    writeFileSync(bundle, `${rootCertificates[0]}\n${own}${rootCertificates[1]}\n`);
    assert.equal(npmBuildCaCerts({ NODE_EXTRA_CA_CERTS: bundle }).replace(/\s+/g, ''), own.replace(/\s+/g, ''));
    assert.equal(npmBuildCaCerts({ NODE_EXTRA_CA_CERTS: join(dir, 'absent.pem') }), '');
    assert.equal(npmBuildCaCerts({}), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
