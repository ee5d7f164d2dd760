/**
 * What a platform team needs from `MinioSseKes` beyond a first deployment: an existing Vault whose
 * mounts are shared, validation before the first resource, no raw secret in a component's state,
 * the outputs operators use, what destroy keeps, Kubernetes driven from outside the cluster.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createCertificate } from '../../kes-server/src/tls/x509.ts';
import * as pulumi from '@pulumi/pulumi';
import { containsSecret, installMocks, plain, secret, settle, value } from './mocks.ts';
import { kesContainerFiles } from '../../components/targets/docker/kes.ts';

let m: Awaited<ReturnType<typeof installMocks>>;
let C: typeof import('../../components/index.ts');

before(async () => {
  m = await installMocks();
  C = await import('../../components/index.ts');
});

const existing = { mode: 'existing' as const, address: 'https://vault.example.net:8200', token: 'raw-vault-token' };
const mine = (prefix: string) => m.resources.filter((r) => r.name.startsWith(`${prefix}-`) || r.name === prefix);

test('an existing Vault: its K/V mount and AppRole backend are used, not created; role and policy named after the system', async () => {
  new C.MinioSseKes('ex', { target: 'docker', vault: existing, defaultKey: 'minio-default' });
  await settle();
  const types = mine('ex').map((r) => r.type);
  assert.equal(types.includes('vault:index/mount:Mount'), false);
  assert.equal(types.includes('vault:index/authBackend:AuthBackend'), false);
  assert.equal(plain(m.find('vault:index/policy:Policy', 'ex-vault-backend-policy').inputs).name, 'ex-kes');
  const role = plain(m.find('vault:appRole/authBackendRole:AuthBackendRole', 'ex-vault-backend-role').inputs);
  assert.deepEqual([role.roleName, role.backend, role.tokenPolicies], ['ex-kes', 'approle', ['ex-kes']]);
});

test('every Vault choice reaches Vault and KES; a created K/V mount is kept on destroy unless retainData is false', async () => {
  new C.MinioSseKes('vc', {
    target: 'docker',
    vault: { ...existing, providerAddress: 'https://vault.ops.example.net:8200', providerCaCertFile: '/etc/ssl/vault-ca.pem', caCertPem: 'VAULT-CA-PEM' },
    vaultLayout: { engine: 'team/kes', version: 'v2', prefix: 'minio', createMount: true, approlePath: 'auth-kes', createAuthBackend: true, roleName: 'r1', policyName: 'p1', namespace: 'team-a' },
    defaultKey: 'minio-default',
  });
  new C.MinioSseKes('vd', { target: 'docker', vault: existing, vaultLayout: { createMount: true }, retainData: false, defaultKey: 'minio-default' });
  await settle();
  const provider = plain(m.find('pulumi:providers:vault', 'vc-vault').inputs);
  assert.deepEqual([provider.address, provider.caCertFile], ['https://vault.ops.example.net:8200', '/etc/ssl/vault-ca.pem']);
  const mount = m.find('vault:index/mount:Mount', 'vc-vault-backend-kv');
  assert.deepEqual([plain(mount.inputs).path, plain(mount.inputs).namespace, mount.retainOnDelete], ['team/kes', 'team-a', true]);
  assert.equal(plain(m.find('vault:index/authBackend:AuthBackend', 'vc-vault-backend-approle').inputs).path, 'auth-kes');
  assert.equal(plain(m.find('vault:appRole/authBackendRole:AuthBackendRole', 'vc-vault-backend-role').inputs).roleName, 'r1');
  assert.equal(plain(m.find('vault:index/policy:Policy', 'vc-vault-backend-policy').inputs).name, 'p1');
  const uploads = kesContainerFiles(plain(m.find('docker:index/container:Container', 'vc-kes-0').inputs));
  const config = uploads.find((u) => u.file === '/etc/kes/config.yaml')!.content;
  for (const fragment of ['endpoint: https://vault.example.net:8200', 'engine: team/kes', 'version: v2', 'prefix: minio', 'namespace: team-a', 'engine: auth-kes', 'ca: /etc/kes/tls/vault-ca.crt']) {
    assert.ok(config.includes(fragment), `${fragment} in\n${config}`);
  }
  assert.equal(uploads.find((u) => u.file === '/etc/kes/tls/vault-ca.crt')?.content, 'VAULT-CA-PEM');
  assert.equal(m.find('vault:index/mount:Mount', 'vd-vault-backend-kv').retainOnDelete, false);
});

test('bucket names, kesReplicas 0 and too few drives are refused before any resource, naming the argument', () => {
  const base = { target: 'docker' as const, vault: existing, defaultKey: 'minio-default' };
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['bucket', { buckets: [{ name: 'Bad_Bucket', key: 'minio-default' }] }, /MinioSseKes: invalid \[buckets\[0\]\.name\]: not a valid S3 bucket name/],
    ['twice', { buckets: [{ name: 'data', key: 'minio-default' }, { name: 'data', key: 'minio-default' }] }, /invalid \[buckets\[1\]\.name\]/],
    ['replicas', { kesReplicas: 0 }, /MinioSseKes: invalid \[kesReplicas\]: must be an integer between 1 and 16/],
    ['drives', { minioNodes: 2, minioDrivesPerNode: 1 }, /MinioSseKes: invalid \[minioDrivesPerNode\]: a distributed deployment needs at least 4 drives in total/],
    ['engine', { vaultLayout: { engine: '/kv/' } }, /MinioSseKes: invalid \[vaultLayout\.engine\]/],
    ['port', { docker: { kesHostPort: 65535 }, kesReplicas: 2 }, /MinioSseKes: invalid \[docker\.kesHostPort\]/],
    ['renewal', { earlyRenewalHours: -1 }, /MinioSseKes: invalid \[earlyRenewalHours\]/],
  ];
  for (const [label, extra, re] of cases) {
    const n = m.resources.length;
    assert.throws(() => new C.MinioSseKes(`bad-${label}`, { ...base, ...extra } as never), re, label);
    assert.equal(m.resources.slice(n).filter((r) => r.custom !== false).length, 0, `${label}: no resource declared`);
  }
});

test('no component keeps a raw secret argument in its own inputs', async () => {
  const n = m.resources.length;
  new C.MinioSseKes('sec', {
    target: 'linux',
    vault: existing,
    defaultKey: 'minio-default',
    linux: { kesHosts: [{ address: 'k1', ssh: { privateKey: 'RAW-SSH-KEY' } }], minioHosts: [{ address: 'm1', ssh: { privateKey: 'RAW-SSH-KEY' } }] },
  });
  const caKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const caKeyPem = caKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const caPem = createCertificate({ commonName: 'given CA', publicKey: createPublicKey(caKey), signingKey: caKey, notAfter: new Date(Date.now() + 86_400_000), isCA: true, dnsNames: [], ipAddresses: [], extKeyUsage: [] });
  const given = new C.KesPki('sec-pki2', { serverSans: { dnsNames: ['kes'], ipAddresses: [] }, ca: { certPem: caPem, privateKeyPem: caKeyPem } });
  await settle();
  const components = m.resources.slice(n).filter((r) => r.custom === false);
  assert.ok(components.length >= 5);
  for (const r of components) {
    const text = JSON.stringify(plain(r.inputs));
    for (const raw of ['raw-vault-token', 'RAW-SSH-KEY', caKeyPem]) assert.equal(text.includes(raw), false, `${r.type} ${r.name} holds a raw secret`);
  }
  assert.equal(await value(given.expiry.ca), new X509Certificate(caPem).validToDate.toISOString());
  const commands = m.byType('command:remote:Command').filter((r) => r.name.startsWith('sec-'));
  assert.equal(commands.length, 2);
  for (const c of commands) {
    assert.equal(containsSecret(c.inputs.connection), true);
    assert.equal(plain(c.inputs.connection).privateKey, 'RAW-SSH-KEY');
  }
});

test('outputs: admin certificate and key, published KES endpoints, the MinIO provider, the parts, the OpenBao root token, certificate expiry', async () => {
  const s = new C.MinioSseKes('out', {
    target: 'docker',
    vault: { mode: 'ephemeral', hostPort: 18300 },
    defaultKey: 'minio-default',
    buckets: [{ name: 'data', key: 'minio-default' }],
    kesReplicas: 2,
    minioAuth: 'certificate',
    docker: { kesHostPort: 17373 },
  });
  await settle();
  const cert = new X509Certificate(await value(s.adminCertPem));
  assert.equal(cert.verify(new X509Certificate(await value(s.caCertPem)).publicKey), true);
  assert.equal(await secret(s.adminPrivateKeyPem), true);
  assert.equal(createPublicKey(await value(s.adminPrivateKeyPem)).export({ type: 'spki', format: 'pem' }), cert.publicKey.export({ type: 'spki', format: 'pem' }));
  assert.deepEqual(s.kesHostEndpoints, ['https://127.0.0.1:17373', 'https://127.0.0.1:17374']);
  assert.deepEqual(plain(m.find('docker:index/container:Container', 'out-kes-1').inputs.ports), [{ internal: 7373, external: 17374, ip: '127.0.0.1' }]);
  assert.equal(await secret(s.openbaoRootToken), true);
  const bao = plain(m.find('docker:index/container:Container', 'out-openbao').inputs.envs) as string[];
  assert.ok(bao.includes(`BAO_DEV_ROOT_TOKEN_ID=${await value(s.openbaoRootToken)}`));
  assert.ok((m.find('minio:index/s3Bucket:S3Bucket', 'out-data-bucket').provider ?? '').startsWith(`${await value(s.minioProvider.urn)}::`));
  assert.equal(s.kes instanceof C.KesDeployment && s.minio instanceof C.MinioCluster && s.pki instanceof C.KesPki && s.vaultBackend instanceof C.VaultKesBackend, true);
  assert.deepEqual(await value(s.bucketEncryptions[0].bucket), 'data');
  const expiry = (await value(pulumi.all({ ...s.certificateExpiry }))) as Record<string, string>;
  assert.deepEqual(Object.keys(expiry).sort(), ['admin', 'ca', 'kesServer', 'minio']);
  // The certificate keeps whole seconds of the expiry the provider reports.
  assert.ok(Math.abs(Date.parse(expiry.admin) - cert.validToDate.getTime()) < 1000, `${expiry.admin} vs ${cert.validToDate.toISOString()}`);
  for (const name of ['out-pki-ca', 'out-pki-admin-cert', 'out-pki-kes-server-cert']) {
    const r = m.resources.find((x) => x.name === name)!;
    assert.equal(plain(r.inputs).earlyRenewalHours, 720, name);
  }
});

test('destroy: per-bucket forceDestroy; Docker data volumes kept unless retainData is false', async () => {
  new C.MinioSseKes('dk1', { target: 'docker', vault: { mode: 'ephemeral' }, defaultKey: 'k', buckets: [{ name: 'ci-scratch', key: 'k', forceDestroy: true }, { name: 'keep-me', key: 'k' }] });
  new C.MinioSseKes('dk2', { target: 'docker', vault: { mode: 'ephemeral' }, defaultKey: 'k', retainData: false });
  await settle();
  assert.equal(plain(m.find('minio:index/s3Bucket:S3Bucket', 'dk1-ci-scratch-bucket').inputs).forceDestroy, true);
  assert.equal(plain(m.find('minio:index/s3Bucket:S3Bucket', 'dk1-keep-me-bucket').inputs).forceDestroy, false);
  assert.equal(m.find('docker:index/volume:Volume', 'dk1-minio-1-data1').retainOnDelete, true);
  assert.equal(m.find('docker:index/volume:Volume', 'dk2-minio-1-data1').retainOnDelete, false);
  assert.equal(m.find('vault:index/mount:Mount', 'dk1-vault-backend-kv').retainOnDelete, true);
});

test('Kubernetes from outside the cluster: provider endpoints and CAs, clusterDomain in MINIO_VOLUMES and endpoints', async () => {
  const s = new C.MinioSseKes('ko', {
    target: 'kubernetes',
    vault: { ...existing, address: 'https://vault.vault.svc.corp.local:8200', providerAddress: 'https://vault.example.net:8200' },
    kesImage: 'registry.example/kes:1',
    kubernetes: { namespace: 'storage', clusterDomain: 'corp.local' },
    minioNodes: 4,
    minioProvider: { endpoint: 's3.example.net:443', ssl: true, caCertFile: '/etc/ssl/s3-ca.pem' },
    buckets: [{ name: 'data', key: 'minio-default' }],
    defaultKey: 'minio-default',
  });
  await settle();
  assert.equal(s.minioEndpoint, 'ko-minio.storage.svc.corp.local:9000');
  assert.deepEqual(s.kesEndpoints, ['https://ko-kes.storage.svc.corp.local:7373']);
  const sts = plain(m.find('kubernetes:apps/v1:StatefulSet', 'ko-minio-statefulset').inputs);
  assert.equal(sts.spec.template.spec.containers[0].env[0].value, 'http://ko-minio-{0...3}.ko-minio-hl.storage.svc.corp.local:9000/data');
  const mp = plain(m.find('pulumi:providers:minio', 'ko-minio').inputs);
  assert.deepEqual([mp.minioServer, mp.minioSsl, mp.minioCacertFile], ['s3.example.net:443', 'true', '/etc/ssl/s3-ca.pem']);
  assert.equal(plain(m.find('pulumi:providers:vault', 'ko-vault').inputs).address, 'https://vault.example.net:8200');
});
