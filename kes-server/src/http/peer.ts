/**
 * The caller's identity from its TLS client certificate.
 *
 * Only the first certificate the client sent proved possession of its private key (its key signed
 * the handshake), so the identity is the SHA-256 of that certificate's SubjectPublicKeyInfo and of
 * nothing else. The rest of the chain is never a source of identity: a chain may carry any
 * certificate, including one holding a victim's public key, and with `tls.auth` off nothing checks
 * the signatures that link them.
 */
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { identityOfCertificate } from '../auth/identity.ts';
import { ApiError, ErrClientCertRequired, ErrManyClientCerts } from './errors.ts';

/** One certificate of the client's chain: its DER as sent, and whether it is marked as a CA. */
interface ChainCertificate {
  readonly der: Uint8Array;
  readonly ca: boolean;
}

/**
 * A connection's chain and identity, read once and kept on its TLS socket: converting the peer
 * certificates to JavaScript objects is a large part of what a new connection costs in
 * JavaScript (bench/README.md), and neither can change once the handshake is done. Kept on the
 * socket itself, under private symbols, because an HTTP/2 request sees the socket only through
 * its session's proxy, which reads and writes the socket's own properties but is another object.
 */
const Chain = Symbol('peer chain');
const Identity = Symbol('peer identity');

interface PeerState {
  [Chain]?: readonly ChainCertificate[];
  [Identity]?: string | ApiError;
}

/**
 * Raw DER and CA mark of the peer certificate and of the chain certificates Node links to it, first
 * certificate first. Node links a certificate to the next by issuer name, so this is what the client
 * sent as far as names connect it, not necessarily every certificate it sent.
 */
function peerChain(socket: TLSSocket): readonly ChainCertificate[] {
  const state = socket as TLSSocket & PeerState;
  const known = state[Chain];
  if (known !== undefined) return known;
  const first = socket.getPeerCertificate(true) as DetailedPeerCertificate | Record<string, never>;
  const out: ChainCertificate[] = [];
  const seen = new Set<string>();
  let cert: DetailedPeerCertificate | undefined = 'raw' in first ? (first as DetailedPeerCertificate) : undefined;
  for (let i = 0; cert !== undefined && i < 16; i++) {
    if (!cert.raw || seen.has(cert.fingerprint256)) break;
    seen.add(cert.fingerprint256);
    // `ca` is X509_check_ca, as X509Certificate#ca.
    out.push({ der: new Uint8Array(cert.raw), ca: cert.ca });
    cert = cert.issuerCertificate;
  }
  state[Chain] = out;
  return out;
}

/** True when the socket presented at least one certificate (the one peerIdentity hashes). */
export function hasPeerCertificate(socket: TLSSocket): boolean {
  return peerChain(socket).length > 0;
}

/**
 * The identity (hex SHA-256 of the SubjectPublicKeyInfo) of the certificate that proved possession
 * in the handshake: the first one the client sent.
 * @throws ErrClientCertRequired when there is no certificate or the first one is marked as a CA
 *   (Go's TLS stack does not accept a CA as a client certificate either);
 *   ErrManyClientCerts when a later certificate of the chain is a leaf too.
 */
export function peerIdentity(socket: TLSSocket): string {
  const state = socket as TLSSocket & PeerState;
  const known = state[Identity];
  if (known !== undefined) {
    if (known instanceof ApiError) throw known;
    return known;
  }
  const result = identityOfChain(peerChain(socket));
  state[Identity] = result;
  if (result instanceof ApiError) throw result;
  return result;
}

/** The identity of a client chain (first certificate first), or the error that refuses it. */
function identityOfChain(chain: readonly ChainCertificate[]): string | ApiError {
  const [first, ...rest] = chain;
  if (first === undefined || first.ca) return ErrClientCertRequired;
  if (rest.some((c) => !c.ca)) return ErrManyClientCerts;
  return identityOfCertificate(first.der);
}

/**
 * The identity of an API-key client certificate, or undefined when the peer's certificate is not
 * one. KES clients turn an API key into a self-signed Ed25519 leaf made at start-up, which no CA
 * can have signed; the handshake still proves possession of the key, so a server that verifies
 * client certificates (`tls.auth: on`) may accept such a certificate when its identity is one the
 * configuration names.
 */
export function apiKeyIdentity(socket: TLSSocket): string | undefined {
  // The same first certificate peerIdentity hashes, read the same way.
  const [first] = peerChain(socket);
  if (first === undefined) return undefined;
  const cert = new X509Certificate(first.der);
  if (cert.ca || cert.publicKey.asymmetricKeyType !== 'ed25519') return undefined;
  // Self-issued and self-signed (its key usage is digitalSignature only, so OpenSSL's issuer check
  // would refuse it as its own issuer).
  if (cert.subject !== cert.issuer || !cert.verify(cert.publicKey)) return undefined;
  const identity = identityOfChain([{ der: first.der, ca: cert.ca }]);
  return typeof identity === 'string' ? identity : undefined;
}
