import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from '../../src/auth/api-key.ts';
import { identityOfCertificate } from '../../src/auth/identity.ts';
import { CertificateError, clientCertificateOfApiKey, createCertificate, createKeyPair } from '../../src/tls/x509.ts';
import type { KeyKind } from '../../src/tls/x509.ts';
import { openssl, opensslVerify } from './openssl.ts';

const DAY = 86_400_000;
const kinds: KeyKind[] = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'ed25519'];
const sigAlgName: Record<KeyKind, string> = {
  'ecdsa-p256': 'ecdsa-with-SHA256',
  'ecdsa-p384': 'ecdsa-with-SHA384',
  'rsa-2048': 'sha256WithRSAEncryption',
  ed25519: 'ED25519',
};

function makeCA(kind: KeyKind, commonName = `Test CA ${kind}`) {
  const key = createKeyPair(kind);
  const pem = createCertificate({
    commonName,
    publicKey: key.publicKey,
    signingKey: key.privateKey,
    notAfter: new Date(Date.now() + DAY),
    isCA: true,
  });
  return { key, pem, cert: new X509Certificate(pem) };
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'x509-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

for (const caKind of kinds) {
  for (const leafKind of kinds) {
    test(`${leafKind} leaf issued by a ${caKind} CA verifies with node and openssl`, (t) => {
      const ca = makeCA(caKind);
      assert.equal(ca.cert.ca, true);
      assert.equal(ca.cert.verify(ca.key.publicKey), true, 'self-signed CA signature');
      assert.equal(ca.cert.checkIssued(ca.cert), true);

      const leafKey = createKeyPair(leafKind);
      const pem = createCertificate({
        commonName: 'kes.example.test',
        publicKey: leafKey.publicKey,
        signingKey: ca.key.privateKey,
        issuer: ca.cert,
        notAfter: new Date(Date.now() + DAY),
        dnsNames: ['kes.example.test', 'localhost'],
        ipAddresses: ['127.0.0.1', '::1', '2001:db8::8a2e:370:7334'],
        extKeyUsage: ['serverAuth', 'clientAuth'],
      });
      const leaf = new X509Certificate(pem);
      assert.equal(leaf.ca, false);
      assert.equal(leaf.verify(ca.key.publicKey), true);
      assert.equal(leaf.verify(leafKey.publicKey), false, 'must not verify with an unrelated key');
      assert.equal(leaf.checkIssued(ca.cert), true);
      assert.equal(leaf.issuer, ca.cert.subject);
      assert.equal(leaf.subject, 'CN=kes.example.test');
      assert.equal(leaf.checkHost('localhost'), 'localhost');
      assert.equal(leaf.checkHost('kes.example.test'), 'kes.example.test');
      assert.equal(leaf.checkHost('other.example.test'), undefined);
      assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
      assert.equal(leaf.checkIP('::1'), '::1');
      assert.equal(leaf.checkIP('2001:db8::8a2e:370:7334'), '2001:db8::8a2e:370:7334');
      assert.equal(leaf.checkIP('127.0.0.2'), undefined);
      assert.ok(leaf.publicKey.equals(leafKey.publicKey));

      const dir = tempDir(t);
      writeFileSync(join(dir, 'ca.pem'), ca.pem);
      writeFileSync(join(dir, 'leaf.pem'), pem);
      const v = opensslVerify(['-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')]);
      assert.ok(v.ok, v.output);
      const purpose = opensslVerify(['-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')]);
      assert.ok(purpose.ok, purpose.output);

      const text = openssl(['x509', '-noout', '-text'], pem).toString();
      assert.match(text, /Version: 3 \(0x2\)/);
      assert.match(text, new RegExp(`Signature Algorithm: ${sigAlgName[caKind]}`));
      assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
      assert.match(text, /X509v3 Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
      assert.match(text, /DNS:kes\.example\.test, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:0:8A2E:370:7334/);
      const usage = leafKind === 'rsa-2048' ? 'Digital Signature, Key Encipherment' : 'Digital Signature';
      assert.match(text, new RegExp(`X509v3 Key Usage: critical\\s+${usage}\\n`));
      const caText = openssl(['x509', '-noout', '-text'], ca.pem).toString();
      assert.match(caText, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
      assert.match(caText, /X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign\n/);
      // AuthorityKeyIdentifier of the leaf equals SubjectKeyIdentifier of the CA.
      const ski = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(caText)?.[1];
      const aki = /Authority Key Identifier:\s+(?:keyid:)?([0-9A-F:]+)/.exec(text)?.[1];
      assert.ok(ski !== undefined && ski.length > 0);
      assert.equal(aki, ski);
    });
  }
}

test('a chain root → intermediate → leaf verifies with openssl', (t) => {
  const root = makeCA('ecdsa-p384', 'Root');
  const interKey = createKeyPair('ecdsa-p256');
  const interPem = createCertificate({
    commonName: 'Intermediate',
    publicKey: interKey.publicKey,
    signingKey: root.key.privateKey,
    issuer: root.cert,
    notAfter: new Date(Date.now() + DAY),
    isCA: true,
  });
  const inter = new X509Certificate(interPem);
  const leafKey = createKeyPair('ed25519');
  const leafPem = createCertificate({
    commonName: 'leaf',
    publicKey: leafKey.publicKey,
    signingKey: interKey.privateKey,
    issuer: inter,
    notAfter: new Date(Date.now() + DAY),
    extKeyUsage: ['clientAuth'],
  });
  assert.equal(new X509Certificate(leafPem).checkIssued(inter), true);
  assert.equal(new X509Certificate(leafPem).checkIssued(root.cert), false);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'root.pem'), root.pem);
  writeFileSync(join(dir, 'inter.pem'), interPem);
  writeFileSync(join(dir, 'leaf.pem'), leafPem);
  const ok = opensslVerify(['-purpose', 'sslclient', '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'inter.pem'), join(dir, 'leaf.pem')]);
  assert.ok(ok.ok, ok.output);
  const noInter = opensslVerify(['-CAfile', join(dir, 'root.pem'), join(dir, 'leaf.pem')]);
  assert.equal(noInter.ok, false, 'the leaf must not verify without its intermediate');
  const wrongPurpose = opensslVerify(['-purpose', 'sslserver', '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'inter.pem'), join(dir, 'leaf.pem')]);
  assert.equal(wrongPurpose.ok, false, 'a clientAuth-only leaf is not a TLS server certificate');
});

test('serial numbers and validity', () => {
  const key = createKeyPair('ed25519');
  const base = { commonName: 'serial', publicKey: key.publicKey, signingKey: key.privateKey };
  const serials = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const cert = new X509Certificate(createCertificate({ ...base, notAfter: new Date(Date.now() + DAY) }));
    assert.match(cert.serialNumber, /^[0-9A-F]+$/);
    assert.ok(cert.serialNumber.length <= 32, 'at most 128 bits');
    assert.ok(parseInt(cert.serialNumber.slice(0, 2), 16) < 0x80 || cert.serialNumber.length < 32, 'positive');
    serials.add(cert.serialNumber);
  }
  assert.equal(serials.size, 20);

  const fixed = new X509Certificate(
    createCertificate({ ...base, serial: Uint8Array.of(0x00, 0xff, 0x01), notBefore: new Date('2049-12-31T23:59:59Z'), notAfter: new Date('2050-01-01T00:00:01Z') }),
  );
  assert.equal(fixed.serialNumber, 'FF01');
  assert.equal(fixed.validFromDate.toISOString(), '2049-12-31T23:59:59.000Z');
  assert.equal(fixed.validToDate.toISOString(), '2050-01-01T00:00:01.000Z');
});

test('API key client certificate (2.4)', (t) => {
  const apiKey = generateApiKey();
  const before = Date.now();
  const { cert, key } = clientCertificateOfApiKey(apiKey);
  const x = new X509Certificate(cert);
  assert.equal(x.subject, `CN=${apiKey.identity}`);
  assert.equal(x.issuer, x.subject);
  assert.equal(x.ca, false);
  assert.equal(x.verify(apiKey.publicKey), true);
  assert.equal(identityOfCertificate(x), apiKey.identity);
  assert.ok(x.publicKey.equals(apiKey.publicKey));
  const from = x.validFromDate.getTime();
  assert.ok(from <= Date.now() && from >= before - 1000);
  assert.equal(x.validToDate.getTime() - from, 90 * DAY);
  assert.match(key, /^-----BEGIN PRIVATE KEY-----\n/);
  const text = openssl(['x509', '-noout', '-text'], cert).toString();
  assert.match(text, /Public Key Algorithm: ED25519/);
  assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\n/);
  assert.match(text, /X509v3 Extended Key Usage:\s+TLS Web Client Authentication\n/);
  assert.match(text, /CA:FALSE/);
  assert.doesNotMatch(text, /Subject Alternative Name/);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'c.pem'), cert);
  const v = opensslVerify(['-purpose', 'sslclient', '-CAfile', join(dir, 'c.pem'), join(dir, 'c.pem')]);
  assert.ok(v.ok, v.output);
});

test('invalid options are rejected with CertificateError', () => {
  const ca = makeCA('ecdsa-p256');
  const other = createKeyPair('ecdsa-p256');
  const leaf = createKeyPair('ed25519');
  const soon = new Date(Date.now() + DAY);
  const cases: Array<{ name: string; opts: Parameters<typeof createCertificate>[0]; why: RegExp }> = [
    { name: 'public key as signer', opts: { commonName: 'x', publicKey: leaf.publicKey, signingKey: leaf.publicKey, notAfter: soon }, why: /private key/ },
    { name: 'self-signed by a foreign key', opts: { commonName: 'x', publicKey: leaf.publicKey, signingKey: other.privateKey, notAfter: soon }, why: /own key/ },
    { name: 'issuer key mismatch', opts: { commonName: 'x', publicKey: leaf.publicKey, signingKey: other.privateKey, issuer: ca.cert, notAfter: soon }, why: /issuer/ },
    { name: 'empty common name', opts: { commonName: '', publicKey: leaf.publicKey, signingKey: leaf.privateKey, notAfter: soon }, why: /common name/ },
    { name: 'notAfter before notBefore', opts: { commonName: 'x', publicKey: leaf.publicKey, signingKey: leaf.privateKey, notBefore: soon, notAfter: new Date() }, why: /notAfter/ },
    { name: 'bad IP', opts: { commonName: 'x', publicKey: leaf.publicKey, signingKey: leaf.privateKey, notAfter: soon, ipAddresses: ['256.1.1.1'] }, why: /IP address/ },
    { name: 'IPv6 zone', opts: { commonName: 'x', publicKey: leaf.publicKey, signingKey: leaf.privateKey, notAfter: soon, ipAddresses: ['fe80::1%eth0'] }, why: /IP address/ },
    { name: 'DNS with space', opts: { commonName: 'x', publicKey: leaf.publicKey, signingKey: leaf.privateKey, notAfter: soon, dnsNames: ['a b'] }, why: /DNS name/ },
    { name: 'zero serial', opts: { commonName: 'x', publicKey: leaf.publicKey, signingKey: leaf.privateKey, notAfter: soon, serial: Uint8Array.of(0) }, why: /serial/ },
    { name: 'serial over 20 bytes', opts: { commonName: 'x', publicKey: leaf.publicKey, signingKey: leaf.privateKey, notAfter: soon, serial: new Uint8Array(21).fill(1) }, why: /serial/ },
  ];
  for (const c of cases) {
    assert.throws(() => createCertificate(c.opts), (err: unknown) => err instanceof CertificateError && c.why.test(err.message), c.name);
  }
});
