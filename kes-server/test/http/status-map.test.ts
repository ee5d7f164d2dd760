/**
 * Rows of the status map (docs/protocol.md#errors) that need a particular store or client: key-store failures on
 * create, delete and readiness; HMAC on a legacy stored key; a client chain with two leaves.
 * Bodies are compared byte for byte (docs/protocol.md#errors).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { identityOfCertificate } from '../../src/auth/identity.ts';
import { ErrClientCertRequired, ErrManyClientCerts } from '../../src/http/errors.ts';
import { peerIdentity } from '../../src/http/peer.ts';
import { KeyStoreError } from '../../src/keystore/errors.ts';
import { MemKeyStore } from '../../src/keystore/mem.ts';
import { createCertificate, createKeyPair } from '../../src/tls/x509.ts';
import { call } from '../support/client.ts';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';

const errBody = (msg: string): string => `{"message":${JSON.stringify(msg)}\n}`;

/** A store whose every write and whose status fail with a non-"unreachable" error. */
class FailingStore extends MemKeyStore {
  override async create(): Promise<never> {
    throw new KeyStoreError('FAILED', 'mem: write refused');
  }
  override async delete(): Promise<never> {
    throw new KeyStoreError('FAILED', 'mem: delete refused');
  }
  override async status(): Promise<never> {
    throw new KeyStoreError('FAILED', 'mem: broken');
  }
}

test('key-store failures on create, import, delete and readiness: fixed messages, cause only in the log', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const s = await startKes(t, pki, { admin: admin.identity, store: new FailingStore() });
  const cases = [
    { method: 'POST', path: '/v1/key/create/k', status: 502, message: 'failed to create key' },
    { method: 'PUT', path: '/v1/key/import/k', body: JSON.stringify({ key: Buffer.alloc(32).toString('base64'), cipher: 'AES256' }), status: 502, message: 'failed to create key' },
    { method: 'DELETE', path: '/v1/key/delete/k', status: 502, message: 'failed to delete key' },
    { method: 'GET', path: '/v1/ready', status: 502, message: 'key store is unavailable' },
  ];
  for (const http2 of [false, true]) {
    for (const c of cases) {
      const r = await call({ port: s.port, ca: pki.caCert, client: admin, method: c.method, path: c.path, body: c.body, http2 });
      assert.equal(r.status, c.status, `${c.method} ${c.path}`);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.text, errBody(c.message));
    }
  }
  assert.ok(s.errorLines.some((l) => l.includes('write refused')), 'cause logged');
  assert.ok(s.errorLines.some((l) => l.includes('delete refused')), 'cause logged');
});

test('hmac on a key stored in the legacy JSON format: 409 key does not support HMAC', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const store = new MemKeyStore();
  // Legacy record (docs/protocol.md#stored-keys): valid JSON, no HMAC key.
  const legacy = JSON.stringify({ bytes: Buffer.alloc(32, 3).toString('base64'), algorithm: 'AES256', created_at: '2021-01-01T00:00:00Z', created_by: admin.identity });
  await store.create('old-key', new TextEncoder().encode(legacy));
  const s = await startKes(t, pki, { admin: admin.identity, store });
  const r = await call({ port: s.port, ca: pki.caCert, client: admin, method: 'PUT', path: '/v1/key/hmac/old-key', body: '{"message":"aGk="}' });
  assert.equal(r.status, 409);
  assert.equal(r.text, errBody('key does not support HMAC'));
  // The same key still encrypts: only HMAC is missing.
  const enc = await call({ port: s.port, ca: pki.caCert, client: admin, method: 'PUT', path: '/v1/key/encrypt/old-key', body: '{"plaintext":"aGk="}' });
  assert.equal(enc.status, 200);
});

/** Two non-CA certificates, the second signing the first. */
function twoLeaves(): { chain: string; key: string; lowerIdentity: string; lowerDer: Buffer; upperDer: Buffer } {
  const upperKeys = createKeyPair('ecdsa-p256');
  const upper = createCertificate({ commonName: 'upper', publicKey: upperKeys.publicKey, signingKey: upperKeys.privateKey, notAfter: new Date(Date.now() + 3_600_000), extKeyUsage: ['clientAuth'] });
  const lowerKeys = createKeyPair('ecdsa-p256');
  const lower = createCertificate({
    commonName: 'lower',
    publicKey: lowerKeys.publicKey,
    signingKey: upperKeys.privateKey,
    issuer: new X509Certificate(upper),
    notAfter: new Date(Date.now() + 3_600_000),
    extKeyUsage: ['clientAuth'],
  });
  const lowerX = new X509Certificate(lower);
  return { chain: lower + upper, key: lowerKeys.privateKeyPem, lowerIdentity: identityOfCertificate(lowerX), lowerDer: lowerX.raw, upperDer: new X509Certificate(upper).raw };
}

test('peerIdentity: a chain with two non-CA certificates is rejected with the upstream message', () => {
  const { lowerDer, upperDer } = twoLeaves();
  const pkiCa = new X509Certificate(makePki().caCert).raw;
  const link = (ders: Buffer[]): Record<string, unknown> => {
    // As Node's peer certificate objects: DER, fingerprint, and `ca` (X509_check_ca, as X509Certificate#ca).
    const nodes = ders.map((raw, i) => ({ raw, fingerprint256: String(i), ca: new X509Certificate(raw).ca }) as Record<string, unknown>);
    nodes.forEach((n, i) => (n.issuerCertificate = nodes[i + 1] ?? n));
    return nodes[0] ?? {};
  };
  const socket = (ders: Buffer[]) => ({ getPeerCertificate: () => link(ders) }) as unknown as TLSSocket;
  assert.throws(() => peerIdentity(socket([lowerDer, upperDer])), (e: unknown) => e === ErrManyClientCerts);
  assert.throws(() => peerIdentity(socket([])), (e: unknown) => e === ErrClientCertRequired);
  // A CA certificate sent along is skipped; a CA certificate sent first is no client certificate.
  assert.equal(peerIdentity(socket([lowerDer, pkiCa])), identityOfCertificate(new X509Certificate(lowerDer)));
  assert.throws(() => peerIdentity(socket([pkiCa, lowerDer])), (e: unknown) => e === ErrClientCertRequired);
});

test('over real TLS Node exposes only the certificates it can link, so a second leaf goes unseen', async (t) => {
  // Deviation from upstream (which answers 400 here): Node's peer chain links a certificate to
  // its issuer only when the issuer may sign certificates, so the upper leaf is invisible and
  // the identity is the first certificate's.
  const pki = makePki();
  const leaves = twoLeaves();
  const s = await startKes(t, pki, { admin: leaves.lowerIdentity });
  for (const http2 of [false, true]) {
    const r = await call({ port: s.port, ca: pki.caCert, client: { cert: leaves.chain, key: leaves.key }, path: '/v1/identity/self/describe', http2 });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.text).identity, leaves.lowerIdentity);
  }
});
