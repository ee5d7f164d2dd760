/** TLS material loading, certificate rotation and reload of the whole state. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KeyCache } from '../../src/cache/key-cache.ts';
import { loadTlsMaterial, type TlsMaterial } from '../../src/http/tls-material.ts';
import { MemKeyStore } from '../../src/keystore/mem.ts';
import { createCertificate, createKeyPair } from '../../src/tls/x509.ts';
import { call } from '../support/client.ts';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';

/** Serial number of the certificate the server presents. */
function servedSerial(port: number, ca: string): Promise<string> {
  const client = makePki().selfSignedClient('probe');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', cert: client.cert, key: client.key }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.destroy();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}

test('loadTlsMaterial reads PEM files and rejects a certificate without SANs', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kes-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pki = makePki();
  await writeFile(join(dir, 'k.pem'), pki.server.key);
  await writeFile(join(dir, 'c.pem'), pki.server.cert);
  await writeFile(join(dir, 'ca.pem'), pki.caCert);
  const m = await loadTlsMaterial({ key: join(dir, 'k.pem'), cert: join(dir, 'c.pem'), password: '', ca: join(dir, 'ca.pem'), auth: true });
  assert.equal(m.cert, pki.server.cert);
  assert.deepEqual(m.ca, [pki.caCert.trim()]);
  const keys = createKeyPair('ecdsa-p256');
  const bare = createCertificate({ commonName: 'x', publicKey: keys.publicKey, signingKey: keys.privateKey, notAfter: new Date(Date.now() + 3_600_000) });
  await writeFile(join(dir, 'bare.pem'), bare);
  await assert.rejects(loadTlsMaterial({ key: join(dir, 'k.pem'), cert: join(dir, 'bare.pem'), password: '', ca: '', auth: false }), /no DNS or IP subject alternative name/);
  await assert.rejects(loadTlsMaterial({ key: join(dir, 'missing'), cert: join(dir, 'c.pem'), password: '', ca: '', auth: false }), /failed to read private key/);
});

test('the server certificate is re-read periodically; update() swaps policies and key store whole', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const member = pki.issueClient('member');
  let material: TlsMaterial = { key: pki.server.key, cert: pki.server.cert, password: '', ca: [], auth: false };
  const s = await startKes(t, pki, { admin: admin.identity, extra: { reloadTls: async () => material, tlsReloadMs: 50 } });
  const before = await servedSerial(s.port, pki.caCert);
  const next = makePki();
  // Same CA is not needed for rotation; trust the new server's CA for the check.
  material = { ...material, key: next.server.key, cert: next.server.cert };
  let after = before;
  for (let i = 0; i < 100 && after === before; i++) {
    await new Promise((r) => setTimeout(r, 20));
    after = await servedSerial(s.port, next.caCert).catch(() => before);
  }
  assert.notEqual(after, before);

  const store = new MemKeyStore();
  await s.server.update({
    admin: admin.identity,
    policies: new Map([['p', { allow: ['/v1/key/describe/*'], deny: [], identities: [member.identity] }]]),
    api: new Map(),
    cache: new KeyCache(store, { anyMs: 0, unusedMs: 0, offlineMs: 0 }),
    keys: ['after-reload'],
    tls: material,
  });
  const r = await call({ port: s.port, ca: next.caCert, client: member, path: '/v1/key/describe/after-reload' });
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.text).created_by, admin.identity);
  assert.deepEqual((await store.list('', 0)).names, ['after-reload']);
});

test('after a reload, certificate rotation reads the reloaded source, never the one of the start', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const first: TlsMaterial = { key: pki.server.key, cert: pki.server.cert, password: '', ca: [], auth: false };
  let startReads = 0;
  const s = await startKes(t, pki, { admin: admin.identity, extra: { reloadTls: async () => (startReads++, first), tlsReloadMs: 30 } });
  const before = await servedSerial(s.port, pki.caCert);
  const next = makePki();
  const second: TlsMaterial = { ...first, key: next.server.key, cert: next.server.cert };
  let nextReads = 0;
  await s.server.update({
    admin: admin.identity,
    policies: new Map(),
    api: new Map(),
    cache: new KeyCache(new MemKeyStore(), { anyMs: 0, unusedMs: 0, offlineMs: 0 }),
    tls: second,
    reloadTls: async () => (nextReads++, second),
  });
  const readsAtUpdate = startReads;
  // Several rotation periods: the served certificate stays the reloaded one.
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(nextReads >= 2, `the new source was read ${nextReads} times`);
  assert.equal(startReads, readsAtUpdate, 'the start-up source is no longer read');
  const after = await servedSerial(s.port, next.caCert);
  assert.notEqual(after, before);
  assert.equal(after, new X509Certificate(next.server.cert).serialNumber);
});
