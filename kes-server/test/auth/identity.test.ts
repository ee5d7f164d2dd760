import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { identityOfCertificate, identityOfPublicKey } from '../../src/auth/identity.ts';
import { DerError, bitString, context, integer, oid, sequence, setOf, time, utf8String } from '../../src/tls/der.ts';
import { createCertificate, createKeyPair } from '../../src/tls/x509.ts';
import type { KeyKind } from '../../src/tls/x509.ts';
import { opensslIdentity } from '../tls/openssl.ts';

const vectors = JSON.parse(readFileSync(new URL('../fixtures/kes-vectors.json', import.meta.url), 'utf8'));
const HOUR = 3600_000;

function caSigned(publicKey: ReturnType<typeof createPublicKey>): string {
  const ca = createKeyPair('ecdsa-p256');
  return createCertificate({
    commonName: 'identity test',
    publicKey,
    signingKey: ca.privateKey,
    issuer: new X509Certificate(
      createCertificate({ commonName: 'CA', publicKey: ca.publicKey, signingKey: ca.privateKey, notAfter: new Date(Date.now() + HOUR), isCA: true }),
    ),
    notAfter: new Date(Date.now() + HOUR),
  });
}

test('certificate identity vector: a certificate carrying the play root public key', () => {
  const v = vectors.certificate_identity_vector;
  const pub = createPublicKey({ key: Buffer.from(v.spki_der_hex, 'hex'), format: 'der', type: 'spki' });
  const pem = caSigned(pub);
  assert.equal(identityOfCertificate(new X509Certificate(pem)), v.identity);
  assert.equal(identityOfCertificate(new X509Certificate(pem).raw), v.identity);
  assert.equal(identityOfPublicKey(pub), v.identity);
  assert.equal(identityOfPublicKey(pub.export({ type: 'spki', format: 'pem' }) as string), v.identity);
});

test('api key vectors: identity of the SPKI public keys', () => {
  assert.ok(vectors.api_key_vectors.length >= 3);
  for (const v of vectors.api_key_vectors) {
    const pub = createPublicKey({ key: Buffer.from(v.spki_der_hex, 'hex'), format: 'der', type: 'spki' });
    assert.equal(identityOfPublicKey(pub), v.identity);
    assert.equal(identityOfCertificate(new X509Certificate(caSigned(pub))), v.identity);
  }
});

const kinds: KeyKind[] = ['rsa-2048', 'ecdsa-p256', 'ecdsa-p384', 'ed25519'];
for (const kind of kinds) {
  test(`identity of a ${kind} certificate equals the identity of its key and openssl's hash`, () => {
    const key = createKeyPair(kind);
    const pem = createCertificate({
      commonName: kind,
      publicKey: key.publicKey,
      signingKey: key.privateKey,
      notAfter: new Date(Date.now() + HOUR),
    });
    const id = identityOfCertificate(new X509Certificate(pem));
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(id, opensslIdentity(pem));
    assert.equal(identityOfPublicKey(key.publicKey), id);
    assert.equal(identityOfPublicKey(key.privateKey), id, 'a private KeyObject identifies by its public half');
    assert.equal(identityOfPublicKey(key.privateKeyPem), id);
    assert.equal(identityOfPublicKey(pem), id, 'a certificate PEM identifies by its public key');
  });
}

test('the SPKI is sliced as encoded, including v1 certificates without a version field', () => {
  // Arbitrary SPKI bytes a re-encoder would never produce: the slice must be hashed verbatim.
  const spki = sequence(sequence(oid('1.2.3.4'), integer(7)), bitString(Uint8Array.of(1, 2, 3)));
  const name = sequence(setOf(sequence(oid('2.5.4.3'), utf8String('x'))));
  const alg = sequence(oid('1.3.101.112'));
  const validity = sequence(time(new Date(0)), time(new Date(HOUR)));
  const expected = createHash('sha256').update(spki).digest('hex');
  const v1 = sequence(sequence(integer(1), alg, name, validity, name, spki), alg, bitString(Uint8Array.of(0)));
  const v3 = sequence(sequence(context(0, true, integer(2)), integer(1), alg, name, validity, name, spki), alg, bitString(Uint8Array.of(0)));
  assert.equal(identityOfCertificate(v1), expected);
  assert.equal(identityOfCertificate(v3), expected);
});

test('malformed certificate DER is rejected with DerError', () => {
  const good = new X509Certificate(caSigned(createKeyPair('ed25519').publicKey)).raw;
  const cases: Array<{ name: string; der: Uint8Array }> = [
    { name: 'empty', der: new Uint8Array(0) },
    { name: 'truncated', der: good.subarray(0, good.length - 1) },
    { name: 'trailing byte', der: Buffer.concat([good, Uint8Array.of(0)]) },
    { name: 'not a sequence', der: integer(5) },
    { name: 'tbs too short', der: sequence(sequence(integer(1), sequence())) },
  ];
  for (const c of cases) {
    assert.throws(() => identityOfCertificate(c.der), (err: unknown) => err instanceof DerError && err.code === 'MALFORMED_DER', c.name);
  }
});
