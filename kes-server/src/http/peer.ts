/**
 * The caller's identity from its TLS client certificate chain (spec §2.2): certificates whose
 * BasicConstraints say CA are skipped; exactly one leaf must remain.
 */
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { identityOfCertificate } from '../auth/identity.ts';
import { ApiError, ErrClientCertRequired, ErrManyClientCerts } from './errors.ts';

const cache = new WeakMap<TLSSocket, string | ApiError>();

/** Raw DER of every distinct certificate of the peer chain, leaf first. */
export function peerChain(socket: TLSSocket): Uint8Array[] {
  const first = socket.getPeerCertificate(true) as DetailedPeerCertificate | Record<string, never>;
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  let cert: DetailedPeerCertificate | undefined = 'raw' in first ? (first as DetailedPeerCertificate) : undefined;
  for (let i = 0; cert !== undefined && i < 16; i++) {
    if (!cert.raw || seen.has(cert.fingerprint256)) break;
    seen.add(cert.fingerprint256);
    out.push(new Uint8Array(cert.raw));
    cert = cert.issuerCertificate;
  }
  return out;
}

/** True when the socket presented at least one certificate. */
export function hasPeerCertificate(socket: TLSSocket): boolean {
  const cert = socket.getPeerCertificate();
  return cert !== null && typeof cert === 'object' && 'raw' in cert && cert.raw !== undefined;
}

/**
 * The identity (hex SHA-256 of the leaf's SubjectPublicKeyInfo) of the connection's client.
 * @throws ErrClientCertRequired (no leaf), ErrManyClientCerts (more than one leaf)
 */
export function peerIdentity(socket: TLSSocket): string {
  const known = cache.get(socket);
  if (known !== undefined) {
    if (known instanceof ApiError) throw known;
    return known;
  }
  let result: string | ApiError;
  const leaves = peerChain(socket)
    .map((der) => new X509Certificate(der))
    .filter((c) => !c.ca);
  if (leaves.length === 0) result = ErrClientCertRequired;
  else if (leaves.length > 1) result = ErrManyClientCerts;
  else result = identityOfCertificate(leaves[0]);
  cache.set(socket, result);
  if (result instanceof ApiError) throw result;
  return result;
}
