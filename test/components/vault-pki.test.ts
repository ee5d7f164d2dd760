import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { installMocks, isSecretInput, parentTypeOfUrn, secret, settle, value } from './mocks.ts';
import { parseApiKey } from '../../kes-server/src/auth/api-key.ts';
import { createCertificate } from '../../kes-server/src/tls/x509.ts';
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

/** Hex SHA-256 of the DER SubjectPublicKeyInfo, computed here independently of the renderer. */
const spkiSha256 = (pem: string) => createHash('sha256').update(createPublicKey(pem).export({ type: 'spki', format: 'der' })).digest('hex');

test('KesPki with an API key: certificates with SANs, secret keys, identities from the public keys', async () => {
  const pki = new mod.pki.KesPki('pki', { serverSans: { dnsNames: ['kes', 'localhost'], ipAddresses: ['127.0.0.1'] } });
  await settle();
  const csr = m.find('tls:index/certRequest:CertRequest', 'pki-kes-server-csr').inputs;
  assert.deepEqual([csr.dnsNames, csr.ipAddresses, csr.subject.commonName], [['kes', 'localhost'], ['127.0.0.1'], 'kes']);
  const certInputs = m.find('tls:index/locallySignedCert:LocallySignedCert', 'pki-kes-server-cert').inputs;
  assert.deepEqual(certInputs.allowedUses, ['digitalSignature', 'keyEncipherment', 'serverAuth']);
  assert.equal(isSecretInput(certInputs.caPrivateKeyPem), true, 'the CA key reaches the signer as a secret');
  assert.equal(m.find('tls:index/selfSignedCert:SelfSignedCert', 'pki-ca').inputs.isCaCertificate, true);
  assert.equal(m.find('tls:index/privateKey:PrivateKey', 'pki-admin-key').inputs.ecdsaCurve, 'P256');
  assert.equal(m.resources.some((r) => r.name === 'pki-minio-key'), false, 'no MinIO key pair with API key auth');
  for (const o of [pki.server.privateKeyPem, pki.admin.privateKeyPem, pki.minioApiKey]) assert.equal(await secret(o), true);
  assert.equal(await secret(pki.adminIdentity), false);
  assert.equal(await secret(pki.minioIdentity), false);
  assert.equal(await secret(pki.caCertPem), false);

  // The server certificate is signed by the CA, carries the SANs and belongs to the server key.
  const ca = new X509Certificate(await value(pki.caCertPem));
  const server = new X509Certificate(await value(pki.server.certPem));
  assert.equal(server.verify(ca.publicKey), true);
  assert.equal(server.checkPrivateKey(createPrivateKey(await value(pki.server.privateKeyPem))), true);
  assert.equal(server.subjectAltName, 'DNS:kes, DNS:localhost, IP Address:127.0.0.1');
  assert.equal(ca.ca, true);

  // Identities: SHA-256 of the SPKI of the mocked admin key, and of the API key's Ed25519 key.
  const adminKey = m.find('tls:index/privateKey:PrivateKey', 'pki-admin-key').outputs;
  assert.equal(await value(pki.adminIdentity), spkiSha256(adminKey.publicKeyPem));
  assert.equal(await value(pki.adminIdentity), spkiSha256(await value(pki.admin.certPem)));
  const apiKey = await value(pki.minioApiKey);
  assert.match(apiKey, /^kes:v1:/);
  assert.equal(await value(pki.minioIdentity), parseApiKey(apiKey).identity, 'identity as the KES server computes it');
  assert.equal(parentTypeOfUrn(m.urnOf('random:index/randomBytes:RandomBytes', 'pki-minio-api-key-seed')), 'minio-sse-kes:index:KesPki');
});

test('KesPki with certificates: a MinIO client cert and a Vault client cert, supplied CA used', async () => {
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caPem = createCertificate({ commonName: 'supplied CA', publicKey: caKeys.publicKey, signingKey: caKeys.privateKey, isCA: true, notAfter: new Date(Date.now() + 86_400_000) });
  const caKeyPem = caKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pki = new mod.pki.KesPki('pki2', {
    serverSans: { dnsNames: ['kes'], ipAddresses: [] },
    minioAuth: 'certificate',
    vaultClientCertificate: true,
    ca: { certPem: caPem, privateKeyPem: caKeyPem },
  });
  await settle();
  assert.equal(m.resources.some((r) => r.name === 'pki2-ca' || r.name === 'pki2-ca-key'), false);
  const minioCertInputs = m.find('tls:index/locallySignedCert:LocallySignedCert', 'pki2-minio-cert').inputs;
  assert.deepEqual(minioCertInputs.allowedUses, ['digitalSignature', 'clientAuth']);
  assert.equal(minioCertInputs.caCertPem, caPem);
  assert.equal(isSecretInput(minioCertInputs.caPrivateKeyPem), true, 'a supplied CA key is made secret');
  assert.equal(pki.minioApiKey, undefined);
  assert.equal(await secret(pki.minioClient?.privateKeyPem), true);
  assert.equal(await secret(pki.vaultClient?.privateKeyPem), true);
  const minioCert = new X509Certificate(await value(pki.minioClient?.certPem));
  assert.equal(minioCert.verify(caKeys.publicKey), true, 'signed by the supplied CA');
  assert.equal(minioCert.checkPrivateKey(createPrivateKey((await value(pki.minioClient?.privateKeyPem)) as string)), true);
  assert.equal(await value(pki.minioIdentity), spkiSha256(m.find('tls:index/privateKey:PrivateKey', 'pki2-minio-key').outputs.publicKeyPem));
  assert.equal(await value(pki.minioIdentity), spkiSha256(minioCert.toString()));
  const vaultCert = new X509Certificate(await value(pki.vaultClient?.certPem));
  assert.equal(vaultCert.verify(caKeys.publicKey), true);
  assert.equal(vaultCert.subject, 'CN=kes-vault-client');
});

test('KesPki rejects a server without SANs before declaring anything', () => {
  const before = m.resources.length;
  assert.throws(() => new mod.pki.KesPki('nosan', { serverSans: { dnsNames: [], ipAddresses: [] } }), /KesPki: .*\[sans\]/);
  assert.equal(m.resources.slice(before).filter((r) => r.custom !== false).length, 0);
});
