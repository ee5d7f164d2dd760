import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { installMocks, parentTypeOfUrn, secret, settle, value } from './mocks.ts';
import { kesApiKeyOfSeed, kesIdentityOfPublicKeyPem } from '../../components/render/pki.ts';
import { renderKesVaultPolicy } from '../../components/render/vault.ts';

let m: Awaited<ReturnType<typeof installMocks>>;
let mod: { vault: typeof import('../../components/vault-backend.ts'); pki: typeof import('../../components/pki.ts') };

before(async () => {
  m = await installMocks();
  mod = { vault: await import('../../components/vault-backend.ts'), pki: await import('../../components/pki.ts') };
});

test('VaultKesBackend declares mount, approle, policy, role and secret id with exact inputs', async () => {
  const vault = await import('@pulumi/vault');
  const provider = new vault.Provider('explicit-vault', { address: 'http://127.0.0.1:8200' });
  const b = new mod.vault.VaultKesBackend('vb', { version: 'v2', prefix: 'minio', engine: 'kes-kv' }, { providers: { vault: provider } });
  assert.equal(await value(b.roleId), 'role-id-of-vb-role');
  assert.equal(await value(b.secretId), 'secret-id-of-vb-secret-id');
  assert.equal(await secret(b.secretId), true, 'secret id must be secret');
  await settle();
  const mount = m.find('vault:index/mount:Mount', 'vb-kv');
  assert.deepEqual([mount.inputs.path, mount.inputs.type, mount.inputs.options], ['kes-kv', 'kv', { version: '2' }]);
  assert.equal(m.find('vault:index/authBackend:AuthBackend', 'vb-approle').inputs.type, 'approle');
  const policy = m.find('vault:index/policy:Policy', 'vb-policy');
  assert.equal(policy.inputs.policy, renderKesVaultPolicy({ engine: 'kes-kv', version: 'v2', prefix: 'minio' }));
  const role = m.find('vault:appRole/authBackendRole:AuthBackendRole', 'vb-role').inputs;
  assert.deepEqual(
    { roleName: role.roleName, backend: role.backend, tokenPolicies: role.tokenPolicies, tokenPeriod: role.tokenPeriod, tokenNumUses: role.tokenNumUses, secretIdNumUses: role.secretIdNumUses, secretIdTtl: role.secretIdTtl, bindSecretId: role.bindSecretId },
    { roleName: 'kes', backend: 'approle', tokenPolicies: ['kes'], tokenPeriod: 300, tokenNumUses: 0, secretIdNumUses: 0, secretIdTtl: 0, bindSecretId: true },
  );
  assert.equal(m.find('vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId', 'vb-secret-id').inputs.roleName, 'kes');
  for (const [type, name] of [
    ['vault:index/mount:Mount', 'vb-kv'],
    ['vault:index/policy:Policy', 'vb-policy'],
    ['vault:appRole/authBackendRole:AuthBackendRole', 'vb-role'],
  ]) {
    const r = m.find(type, name);
    assert.match(r.provider ?? '', /pulumi:providers:vault::explicit-vault::/, `${name} uses the explicit provider`);
    assert.equal(parentTypeOfUrn(m.urnOf(type, name)), 'minio-sse-kes:index:VaultKesBackend');
  }
});

test('VaultKesBackend with an existing mount and backend declares neither', async () => {
  new mod.vault.VaultKesBackend('existing', { createMount: false, createAuthBackend: false, approlePath: 'kes-login' });
  await settle();
  assert.equal(m.resources.some((r) => r.name === 'existing-kv' || r.name === 'existing-approle'), false);
  assert.equal(m.find('vault:appRole/authBackendRole:AuthBackendRole', 'existing-role').inputs.backend, 'kes-login');
});

test('VaultKesBackend rejects a bad layout before declaring anything, naming the argument', () => {
  const before = m.resources.length;
  assert.throws(() => new mod.vault.VaultKesBackend('bad', { prefix: 'a/../b' }), /VaultKesBackend: .*\[prefix\]/);
  assert.throws(() => new mod.vault.VaultKesBackend('bad2', { createNamespace: true }), /\[namespace\]/);
  assert.throws(() => new mod.vault.VaultKesBackend('bad3', { tokenPeriodSeconds: -5 }), /\[tokenPeriodSeconds\]/);
  assert.equal(m.resources.slice(before).filter((r) => r.custom !== false).length, 0, 'no custom resource declared');
});

test('KesPki with an API key: certificates with SANs, secret keys, identities from the public keys', async () => {
  const pki = new mod.pki.KesPki('pki', { serverSans: { dnsNames: ['kes', 'localhost'], ipAddresses: ['127.0.0.1'] } });
  await settle();
  const csr = m.find('tls:index/certRequest:CertRequest', 'pki-kes-server-csr').inputs;
  assert.deepEqual([csr.dnsNames, csr.ipAddresses, csr.subject.commonName], [['kes', 'localhost'], ['127.0.0.1'], 'kes']);
  const cert = m.find('tls:index/locallySignedCert:LocallySignedCert', 'pki-kes-server-cert').inputs;
  assert.deepEqual(cert.allowedUses, ['digitalSignature', 'keyEncipherment', 'serverAuth']);
  assert.equal(m.find('tls:index/selfSignedCert:SelfSignedCert', 'pki-ca').inputs.isCaCertificate, true);
  assert.equal(m.find('tls:index/privateKey:PrivateKey', 'pki-admin-key').inputs.ecdsaCurve, 'P256');
  assert.equal(m.resources.some((r) => r.name === 'pki-minio-key'), false, 'no MinIO key pair with API key auth');
  for (const o of [pki.server.privateKeyPem, pki.admin.privateKeyPem, pki.minioApiKey]) assert.equal(await secret(o), true);
  assert.equal(await secret(pki.adminIdentity), false);
  assert.equal(await secret(pki.minioIdentity), false);
  // Identities are the SHA-256 of the mocked public keys / the API key seed.
  const adminKey = m.find('tls:index/privateKey:PrivateKey', 'pki-admin-key');
  assert.ok(adminKey);
  const apiKey = await value(pki.minioApiKey);
  assert.match(apiKey, /^kes:v1:/);
  const seed = Buffer.from(apiKey.slice(7), 'base64').subarray(1);
  assert.equal(await value(pki.minioIdentity), kesApiKeyOfSeed(seed).identity);
  const adminCertPem = await value(pki.admin.certPem);
  assert.ok(new X509Certificate(adminCertPem));
  assert.match(await value(pki.adminIdentity), /^[0-9a-f]{64}$/);
  assert.equal(parentTypeOfUrn(m.urnOf('random:index/randomBytes:RandomBytes', 'pki-minio-api-key-seed')), 'minio-sse-kes:index:KesPki');
});

test('KesPki with certificates: a MinIO client cert and a Vault client cert, supplied CA used', async () => {
  const pki = new mod.pki.KesPki('pki2', {
    serverSans: { dnsNames: ['kes'], ipAddresses: [] },
    minioAuth: 'certificate',
    vaultClientCertificate: true,
    ca: { certPem: 'CA-CERT', privateKeyPem: 'CA-KEY' },
  });
  await settle();
  assert.equal(m.resources.some((r) => r.name === 'pki2-ca' || r.name === 'pki2-ca-key'), false);
  const minioCert = m.find('tls:index/locallySignedCert:LocallySignedCert', 'pki2-minio-cert').inputs;
  assert.deepEqual(minioCert.allowedUses, ['digitalSignature', 'clientAuth']);
  assert.equal(minioCert.caCertPem, 'CA-CERT');
  assert.equal(pki.minioApiKey, undefined);
  assert.equal(await secret(pki.minioClient?.privateKeyPem), true);
  assert.equal(await secret(pki.vaultClient?.privateKeyPem), true);
  const minioPub = (await value(pki.minioClient?.privateKeyPem)) as string;
  assert.equal(await value(pki.minioIdentity), kesIdentityOfPublicKeyPem(minioPub));
});

test('KesPki rejects a server without SANs before declaring anything', () => {
  const before = m.resources.length;
  assert.throws(() => new mod.pki.KesPki('nosan', { serverSans: { dnsNames: [], ipAddresses: [] } }), /KesPki: .*\[sans\]/);
  assert.equal(m.resources.slice(before).filter((r) => r.custom !== false).length, 0);
});
