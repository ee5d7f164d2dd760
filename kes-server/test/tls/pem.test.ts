import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { identityOfPublicKey } from '../../src/auth/identity.ts';
import { TlsConfigError, loadCertPool, loadKeyPair, pemBlocks } from '../../src/tls/pem.ts';
import { createCertificate, createKeyPair } from '../../src/tls/x509.ts';
import type { KeyKind } from '../../src/tls/x509.ts';
import { openssl } from './openssl.ts';

const DAY = 86_400_000;
const PASSWORD = 'correct horse battery staple';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pem-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function makeCA(name = 'PEM test CA') {
  const key = createKeyPair('ecdsa-p256');
  const pem = createCertificate({ commonName: name, publicKey: key.publicKey, signingKey: key.privateKey, notAfter: new Date(Date.now() + DAY), isCA: true });
  return { key, pem, cert: new X509Certificate(pem) };
}

function serverCert(kind: KeyKind, sans: { dnsNames?: string[]; ipAddresses?: string[] }, ca = makeCA()) {
  const key = createKeyPair(kind);
  const cert = createCertificate({
    commonName: 'kes server',
    publicKey: key.publicKey,
    signingKey: ca.key.privateKey,
    issuer: ca.cert,
    notAfter: new Date(Date.now() + DAY),
    extKeyUsage: ['serverAuth'],
    ...sans,
  });
  return { key, cert, ca };
}

function assertTlsConfigError(fn: () => unknown, why: RegExp, secret?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TlsConfigError, String(err));
    assert.equal(err.code, 'INVALID_TLS_CONFIG');
    assert.match(err.message, /^kesconf: invalid tls config: /);
    assert.match(err.message, why);
    if (secret !== undefined) assert.ok(!err.message.includes(secret), 'message leaks a secret');
    return true;
  });
}

test('key file formats: PKCS#8, SEC1, PKCS#1, legacy encrypted, encrypted PKCS#8, with certificates mixed in', (t) => {
  const dir = tempDir(t);
  const cases: Array<{ name: string; kind: KeyKind; keyPem: (k: ReturnType<typeof createKeyPair>, cert: string) => string; password?: string; label: RegExp }> = [
    { name: 'PKCS#8 Ed25519', kind: 'ed25519', keyPem: (k) => k.privateKeyPem, label: /^-----BEGIN PRIVATE KEY-----/ },
    { name: 'SEC1 EC', kind: 'ecdsa-p256', keyPem: (k) => k.privateKey.export({ type: 'sec1', format: 'pem' }) as string, label: /^-----BEGIN EC PRIVATE KEY-----/ },
    { name: 'PKCS#1 RSA', kind: 'rsa-2048', keyPem: (k) => k.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string, label: /^-----BEGIN RSA PRIVATE KEY-----/ },
    {
      name: 'certificates and EC parameters around the key',
      kind: 'ecdsa-p384',
      keyPem: (k, cert) => cert + openssl(['ecparam', '-name', 'secp384r1']).toString() + (k.privateKey.export({ type: 'sec1', format: 'pem' }) as string) + cert,
      label: /^-----BEGIN CERTIFICATE-----/,
    },
    {
      name: 'legacy encrypted RSA (openssl -traditional)',
      kind: 'rsa-2048',
      keyPem: (k) => openssl(['rsa', '-traditional', '-aes256', '-passout', `pass:${PASSWORD}`], k.privateKeyPem).toString(),
      password: PASSWORD,
      label: /^-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,/,
    },
    {
      name: 'legacy encrypted EC (openssl ec -des3)',
      kind: 'ecdsa-p256',
      keyPem: (k) => openssl(['ec', '-des3', '-passout', `pass:${PASSWORD}`], k.privateKeyPem).toString(),
      password: PASSWORD,
      label: /^-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: DES-EDE3-CBC,/,
    },
    {
      name: 'encrypted PKCS#8',
      kind: 'ecdsa-p256',
      keyPem: (k) => k.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSWORD }) as string,
      password: PASSWORD,
      label: /^-----BEGIN ENCRYPTED PRIVATE KEY-----/,
    },
  ];
  for (const [i, c] of cases.entries()) {
    const { key, cert } = serverCert(c.kind, { dnsNames: ['localhost'] });
    const keyText = c.keyPem(key, cert);
    assert.match(keyText, c.label, c.name);
    writeFileSync(join(dir, `key${i}.pem`), keyText);
    writeFileSync(join(dir, `cert${i}.pem`), cert);
    const pair = loadKeyPair(join(dir, `key${i}.pem`), join(dir, `cert${i}.pem`), c.password);
    assert.match(pair.key, /^-----BEGIN PRIVATE KEY-----\n/, c.name);
    assert.equal(identityOfPublicKey(createPrivateKey(pair.key)), identityOfPublicKey(key.publicKey), c.name);
    assert.equal(new X509Certificate(pair.cert).fingerprint256, new X509Certificate(cert).fingerprint256, c.name);
    if (c.password !== undefined) {
      assertTlsConfigError(() => loadKeyPair(join(dir, `key${i}.pem`), join(dir, `cert${i}.pem`)), /encrypted but no password/);
      assertTlsConfigError(() => loadKeyPair(join(dir, `key${i}.pem`), join(dir, `cert${i}.pem`), 'wrong password'), /failed to decrypt/, 'wrong password');
    }
  }
});

test('a loaded key pair serves TLS with its certificate chain', async (t) => {
  const dir = tempDir(t);
  const root = makeCA('Root for chain');
  const interKey = createKeyPair('ecdsa-p256');
  const interPem = createCertificate({ commonName: 'Intermediate', publicKey: interKey.publicKey, signingKey: root.key.privateKey, issuer: root.cert, notAfter: new Date(Date.now() + DAY), isCA: true });
  const { key, cert } = serverCert('rsa-2048', { ipAddresses: ['127.0.0.1'] }, { key: interKey, pem: interPem, cert: new X509Certificate(interPem) });
  writeFileSync(join(dir, 'key.pem'), key.privateKey.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: PASSWORD }) as string);
  writeFileSync(join(dir, 'chain.pem'), cert + interPem);
  const pair = loadKeyPair(join(dir, 'key.pem'), join(dir, 'chain.pem'), PASSWORD);
  assert.equal(pemBlocks(pair.cert).length, 2);

  const srv = createServer(pair, (s) => s.end('ok'));
  t.after(() => srv.close());
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const socket = connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, ca: [root.pem], rejectUnauthorized: true });
  t.after(() => socket.destroy());
  const [data] = (await once(socket, 'data')) as [Buffer];
  assert.equal(data.toString(), 'ok');
  assert.equal(socket.authorized, true, 'the client verified leaf → intermediate → root');
});

test('key pair errors', (t) => {
  const dir = tempDir(t);
  const good = serverCert('ecdsa-p256', { dnsNames: ['kes.local'] });
  const other = createKeyPair('ecdsa-p256');
  const noSan = serverCert('ecdsa-p256', {});
  const ipOnly = serverCert('ed25519', { ipAddresses: ['::1'] });
  const files: Record<string, string> = {
    'key.pem': good.key.privateKeyPem,
    'cert.pem': good.cert,
    'other-key.pem': other.privateKeyPem,
    'nosan.pem': noSan.cert,
    'nosan-key.pem': noSan.key.privateKeyPem,
    'iponly.pem': ipOnly.cert,
    'iponly-key.pem': ipOnly.key.privateKeyPem,
    'cert-with-key.pem': good.cert + good.key.privateKeyPem,
    'only-cert.pem': good.cert,
    'empty.pem': 'not a PEM file\n',
    'broken-cert.pem': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
    'broken-key.pem': '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const p = (name: string): string => join(dir, name);

  assert.ok(new X509Certificate(loadKeyPair(p('iponly-key.pem'), p('iponly.pem')).cert).checkIP('::1'), 'an IP SAN alone is enough');
  const cases: Array<{ name: string; run: () => unknown; why: RegExp }> = [
    { name: 'no SAN', run: () => loadKeyPair(p('nosan-key.pem'), p('nosan.pem')), why: /has no DNS or IP SAN/ },
    { name: 'key does not match', run: () => loadKeyPair(p('other-key.pem'), p('cert.pem')), why: /does not match/ },
    { name: 'private key in cert file', run: () => loadKeyPair(p('key.pem'), p('cert-with-key.pem')), why: /'PRIVATE KEY' block; only CERTIFICATE blocks/ },
    { name: 'no key in key file', run: () => loadKeyPair(p('only-cert.pem'), p('cert.pem')), why: /no private key found/ },
    { name: 'no cert in cert file', run: () => loadKeyPair(p('key.pem'), p('empty.pem')), why: /no certificate found/ },
    { name: 'unparsable cert', run: () => loadKeyPair(p('key.pem'), p('broken-cert.pem')), why: /failed to parse certificate 1/ },
    { name: 'unparsable key', run: () => loadKeyPair(p('broken-key.pem'), p('cert.pem')), why: /failed to parse private key/ },
    { name: 'missing key file', run: () => loadKeyPair(p('absent.pem'), p('cert.pem')), why: /failed to read private key .*ENOENT/ },
    { name: 'key path is a directory', run: () => loadKeyPair(dir, p('cert.pem')), why: /is not a file/ },
  ];
  for (const c of cases) assertTlsConfigError(c.run, c.why);
});

test('CA pool from a file or a directory', (t) => {
  const dir = tempDir(t);
  const a = makeCA('CA a');
  const b = makeCA('CA b');
  const c = makeCA('CA c');
  writeFileSync(join(dir, 'two.pem'), `comment line\n${a.pem}\n${b.pem}`);
  const fromFile = loadCertPool(join(dir, 'two.pem'));
  assert.deepEqual(fromFile.map((pem) => new X509Certificate(pem).subject), ['CN=CA a', 'CN=CA b']);

  const cas = join(dir, 'cas');
  mkdirSync(cas);
  mkdirSync(join(cas, 'nested'));
  writeFileSync(join(cas, 'nested', 'ignored.pem'), makeCA('nested').pem);
  writeFileSync(join(cas, '1.pem'), a.pem + b.pem);
  writeFileSync(join(cas, '2.crt'), c.pem);
  writeFileSync(join(cas, 'README'), 'certificates for clients\n');
  symlinkSync(join(cas, 'gone.pem'), join(cas, 'dangling.pem'));
  const fromDir = loadCertPool(cas);
  assert.deepEqual(fromDir.map((pem) => new X509Certificate(pem).subject), ['CN=CA a', 'CN=CA b', 'CN=CA c']);

  const empty = join(dir, 'empty');
  mkdirSync(empty);
  writeFileSync(join(dir, 'broken.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  assertTlsConfigError(() => loadCertPool(empty), /no CA certificates found/);
  assertTlsConfigError(() => loadCertPool(join(dir, 'absent')), /failed to read CA certificates .*ENOENT/);
  assertTlsConfigError(() => loadCertPool(join(dir, 'broken.pem')), /failed to parse certificate 1/);
});
