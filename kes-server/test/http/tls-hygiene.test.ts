/**
 * TLS hygiene: TLS 1.2 and 1.3 only, TLS 1.2 suites limited to ECDHE with an AEAD (probed suite
 * by suite on this server and on minio/kes, which also takes two CBC suites), and a warning in
 * the error log when the private key file is open to group or others.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect, getCiphers } from 'node:tls';
import { loadTlsMaterial, TLS12_CIPHER_SUITES, TLS13_CIPHER_SUITES } from '../../src/http/tls-material.ts';
import { createCertificate, createKeyPair } from '../../src/tls/x509.ts';
import type { Credential } from '../support/pki.ts';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';
import { startSideBySide } from '../support/side-by-side.ts';

/** Every TLS 1.2 suite this OpenSSL offers with a certificate (no PSK, no anonymous). */
const TLS12_CANDIDATES = getCiphers()
  .filter((c) => !c.startsWith('tls_') && !c.includes('psk') && !c.includes('srp') && !c.startsWith('adh') && !c.startsWith('aecdh'))
  .map((c) => c.toUpperCase());

/** The negotiated suite, or undefined when the handshake failed. */
function handshake(port: number, ca: string, client: Credential, o: { ciphers?: string; min?: 'TLSv1' | 'TLSv1.2' | 'TLSv1.3'; max?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' }): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca,
      servername: 'localhost',
      cert: client.cert,
      key: client.key,
      ...(o.ciphers ? { ciphers: o.ciphers } : {}),
      ...(o.min ? { minVersion: o.min } : {}),
      ...(o.max ? { maxVersion: o.max } : {}),
    });
    const done = (v: string | undefined): void => {
      socket.destroy();
      resolve(v);
    };
    socket.once('secureConnect', () => done(socket.getCipher().standardName === undefined ? undefined : socket.getCipher().name));
    socket.once('error', () => done(undefined));
    setTimeout(() => done(undefined), 3000).unref();
  });
}

test('TLS 1.2 suites: exactly the ECDHE-AEAD set (minio/kes: plus two CBC suites); TLS 1.0/1.1 refused, TLS 1.3 served', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const servers = await startSideBySide(t, pki, { admin: admin.identity, policies: {}, probe: admin });
  const accepted = new Map<string, string[]>();
  for (const s of servers.values()) {
    const list: string[] = [];
    for (const suite of TLS12_CANDIDATES) {
      // The client offers one suite at the lowest security level, so only the server decides.
      const got = await handshake(s.port, pki.caCert, admin, { ciphers: `${suite}:@SECLEVEL=0`, min: 'TLSv1', max: 'TLSv1.2' });
      if (got !== undefined) list.push(got);
    }
    accepted.set(s.name, list.sort());
    for (const max of ['TLSv1.1'] as const) assert.equal(await handshake(s.port, pki.caCert, admin, { ciphers: 'DEFAULT:@SECLEVEL=0', min: 'TLSv1', max }), undefined, `${s.name} spoke ${max}`);
    const tls13 = await handshake(s.port, pki.caCert, admin, { min: 'TLSv1.3' });
    assert.ok((TLS13_CIPHER_SUITES as readonly (string | undefined)[]).includes(tls13), `${s.name} TLS 1.3: ${tls13}`);
  }
  const ecdsa = TLS12_CIPHER_SUITES.filter((c) => c.includes('ECDSA')).sort();
  assert.deepEqual(accepted.get('ts'), ecdsa, 'this server with an ECDSA certificate');
  // Upstream runs with Go's default list, which still has two CBC suites with SHA-1 MACs.
  assert.deepEqual(accepted.get('upstream'), [...ecdsa, 'ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA'].sort(), 'minio/kes: ours plus two CBC suites');
});

test('TLS suites with an RSA certificate: the RSA half of the set; all three TLS 1.3 suites', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const keys = createKeyPair('rsa-2048');
  const cert = createCertificate({ commonName: 'localhost', publicKey: keys.publicKey, signingKey: keys.privateKey, notAfter: new Date(Date.now() + 86_400_000), ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'], extKeyUsage: ['serverAuth'] });
  new X509Certificate(cert);
  const s = await startKes(t, pki, { admin: admin.identity, extra: { tls: { key: keys.privateKeyPem, cert, password: '', ca: [pki.caCert], auth: false } } });
  const accepted: string[] = [];
  for (const suite of TLS12_CANDIDATES) {
    const got = await handshake(s.port, cert, admin, { ciphers: `${suite}:@SECLEVEL=0`, min: 'TLSv1', max: 'TLSv1.2' });
    if (got !== undefined) accepted.push(got);
  }
  assert.deepEqual(accepted.sort(), TLS12_CIPHER_SUITES.filter((c) => c.includes('RSA')).sort());
  for (const suite of TLS13_CIPHER_SUITES) {
    const socketSuite = await new Promise<string | undefined>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: s.port, ca: cert, servername: 'localhost', cert: admin.cert, key: admin.key, minVersion: 'TLSv1.3', ciphers: suite });
      socket.once('secureConnect', () => {
        resolve(socket.getCipher().standardName);
        socket.destroy();
      });
      socket.once('error', () => resolve(undefined));
    });
    assert.equal(socketSuite, suite);
  }
});

test('a private key file open to group or others is named in an error-log warning; an owner-only one is not', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const dir = await mkdtemp(join(tmpdir(), 'kes-keymode-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const key = join(dir, 'server.key');
  const cert = join(dir, 'server.crt');
  await writeFile(key, pki.server.key);
  await writeFile(cert, pki.server.cert);
  const files = { key, cert, password: '', ca: '', auth: false };
  await chmod(key, 0o600);
  assert.deepEqual((await loadTlsMaterial(files)).warnings, []);
  await chmod(key, 0o640);
  const open = await loadTlsMaterial(files);
  assert.deepEqual(open.warnings, [`tls: private key file '${key}' is accessible by group or others (mode 0640); restrict it to the owner (chmod 600)`]);
  const s = await startKes(t, pki, { admin: admin.identity, extra: { tls: open } });
  assert.equal(s.errorLines.filter((l) => l.includes('is accessible by group or others')).length, 1, s.errorLines.join('\n'));
  // The warning names the file, never its contents.
  assert.ok(!s.errorLines.some((l) => l.includes(pki.server.key.split('\n')[1])));
});
