import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { caCertSpec, clientCertSpec, kesApiKeyOfSeed, kesIdentityOfPublicKeyPem, kesServerSans, serverCertSpec, tlsCertArgs, x509Fields } from '../../components/render/pki.ts';
import type { KesSanTarget } from '../../components/render/pki.ts';
import { isRenderError } from '../../components/render/validate.ts';
import { createCertificate } from '../../kes-server/src/tls/x509.ts';
import { parseApiKey } from '../../kes-server/src/auth/api-key.ts';

const sanCases: Array<{ name: string; in: KesSanTarget; dns: string[]; ips: string[] }> = [
  {
    name: 'docker: service alias and every container name',
    in: { target: 'docker', serviceName: 'kes', containerNames: ['kes-0', 'kes-1'] },
    dns: ['kes', 'kes-0', 'kes-1', 'localhost'],
    ips: ['127.0.0.1'],
  },
  {
    name: 'kubernetes: all service name forms',
    in: { target: 'kubernetes', serviceName: 'kes', namespace: 'storage' },
    dns: ['kes', 'kes.storage', 'kes.storage.svc', 'kes.storage.svc.cluster.local', 'localhost'],
    ips: ['127.0.0.1'],
  },
  {
    name: 'kubernetes: custom cluster domain',
    in: { target: 'kubernetes', serviceName: 'kes', namespace: 'ns', clusterDomain: 'example.internal' },
    dns: ['kes', 'kes.ns', 'kes.ns.svc', 'kes.ns.svc.example.internal', 'localhost'],
    ips: ['127.0.0.1'],
  },
  {
    name: 'linux: names and addresses split, duplicates removed',
    in: { target: 'linux', hosts: ['kes1.example.net', '10.0.0.5', 'KES1.example.net', '::1', '127.0.0.1'] },
    dns: ['kes1.example.net', 'localhost'],
    ips: ['10.0.0.5', '127.0.0.1', '::1'].sort(),
  },
];

for (const c of sanCases) {
  test(`kesServerSans ${c.name}`, () => {
    assert.deepEqual(kesServerSans(c.in), { dnsNames: c.dns, ipAddresses: c.ips });
  });
}

test('kesServerSans rejects a linux target without hosts, naming the field', () => {
  assert.throws(() => kesServerSans({ target: 'linux', hosts: [] }), (e: unknown) => isRenderError(e) && e.field === 'hosts');
});

test('cert specs carry the uses each role needs', () => {
  assert.deepEqual(caCertSpec('ca').allowedUses, ['certSigning', 'crlSigning', 'digitalSignature']);
  assert.equal(caCertSpec('ca').isCA, true);
  const server = serverCertSpec('kes', { dnsNames: ['b', 'a', 'a'], ipAddresses: ['127.0.0.1'] }, 24);
  assert.deepEqual(server.dnsNames, ['a', 'b']);
  assert.ok(server.allowedUses.includes('serverAuth'));
  assert.ok(clientCertSpec('minio').allowedUses.includes('clientAuth'));
  assert.throws(() => serverCertSpec('kes', { dnsNames: [], ipAddresses: [] }), (e: unknown) => isRenderError(e) && e.field === 'sans');
  assert.throws(() => clientCertSpec('x', 0), (e: unknown) => isRenderError(e) && e.field === 'validityHours');
});

test('tlsCertArgs maps a spec 1:1 onto @pulumi/tls field names', () => {
  const spec = serverCertSpec('kes', { dnsNames: ['kes'], ipAddresses: ['127.0.0.1'] }, 48);
  assert.deepEqual(tlsCertArgs(spec), {
    subject: { commonName: 'kes' },
    dnsNames: ['kes'],
    ipAddresses: ['127.0.0.1'],
    isCaCertificate: false,
    validityPeriodHours: 48,
    allowedUses: ['digitalSignature', 'keyEncipherment', 'serverAuth'],
  });
});

test('x509Fields issue a real CA-signed server certificate with the specified SANs', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caPem = createCertificate({ ...x509Fields(caCertSpec('test-ca', 100), now), publicKey: caKeys.publicKey, signingKey: caKeys.privateKey });
  const ca = new X509Certificate(caPem);
  assert.equal(ca.ca, true);
  const leafKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spec = serverCertSpec('kes', kesServerSans({ target: 'kubernetes', serviceName: 'kes', namespace: 'ns' }), 24);
  const leaf = new X509Certificate(
    createCertificate({ ...x509Fields(spec, now), publicKey: leafKeys.publicKey, signingKey: caKeys.privateKey, issuer: ca }),
  );
  assert.equal(leaf.verify(caKeys.publicKey), true);
  assert.equal(leaf.ca, false);
  assert.equal(new Date(leaf.validTo).getTime(), now.getTime() + 24 * 3_600_000);
  for (const n of ['kes.ns.svc.cluster.local', 'kes.ns', 'localhost']) assert.ok(leaf.subjectAltName?.includes(`DNS:${n}`), n);
  assert.ok(leaf.subjectAltName?.includes('IP Address:127.0.0.1'));
  assert.equal(leaf.checkHost('kes.ns.svc'), 'kes.ns.svc');
  // Extended key usage: serverAuth only (a server certificate is not a client certificate).
  assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.deepEqual(x509Fields(clientCertSpec('m'), now).extKeyUsage, ['clientAuth']);
});

test('kesIdentityOfPublicKeyPem equals OpenSSL\'s SHA-256 of the DER SubjectPublicKeyInfo', () => {
  for (const type of ['ed25519', 'ec', 'rsa'] as const) {
    const pair = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
    const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pem });
    assert.equal(kesIdentityOfPublicKeyPem(pem), createHash('sha256').update(der).digest('hex'), type);
  }
});

test('kesApiKeyOfSeed reproduces the kms-go API key vector (docs/protocol.md#api-keys) and the server parser agrees', () => {
  const apiKey = 'kes:v1:AGaV6VXHasF0FnaB60WdCOeTZ8eTIDikL4zlN16c8NAs';
  const seed = Buffer.from(apiKey.slice('kes:v1:'.length), 'base64').subarray(1);
  const out = kesApiKeyOfSeed(seed);
  assert.equal(out.apiKey, apiKey);
  assert.equal(out.identity, 'ea9826089311fe44d7590408ede9150f7c637b6cab0a91ee6fe1aa5d9fb366f6');
  assert.equal(parseApiKey(out.apiKey).identity, out.identity);
  assert.throws(() => kesApiKeyOfSeed(new Uint8Array(31)), (e: unknown) => isRenderError(e) && e.field === 'seed');
});
