/**
 * KES identities (docs/protocol.md#identities): the lower-case hex SHA-256 of a public key's DER SubjectPublicKeyInfo.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { slice, tbsPartsOf } from '../tls/der.ts';

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The identity of a certificate, given as a parsed `X509Certificate` or its DER bytes.
 * The SPKI element is sliced out of the TBSCertificate as it was encoded, never re-encoded,
 * so unusual but valid encodings hash the same way kes hashes them.
 * Throws `DerError` when the DER is not a certificate.
 */
export function identityOfCertificate(cert: X509Certificate | Uint8Array): string {
  const der = cert instanceof X509Certificate ? cert.raw : cert;
  return sha256Hex(slice(der, tbsPartsOf(der).subjectPublicKeyInfo));
}

/**
 * The identity of a public key, given as a `KeyObject` (public, or private from which the
 * public key is derived) or a PEM string (`PUBLIC KEY`, a private key or a certificate).
 */
export function identityOfPublicKey(key: KeyObject | string): string {
  const pub = typeof key === 'string' || key.type !== 'public' ? createPublicKey(key) : key;
  return sha256Hex(pub.export({ type: 'spki', format: 'der' }));
}
