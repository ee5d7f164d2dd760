/**
 * Test PKI made at test setup with the project's X.509 builder: a CA, a server certificate for
 * 127.0.0.1, and client identities (CA-signed, self-signed, from an API key).
 */
import { X509Certificate } from 'node:crypto';
import { generateApiKey, type ApiKey } from '../../src/auth/api-key.ts';
import { identityOfCertificate } from '../../src/auth/identity.ts';
import { clientCertificateOfApiKey, createCertificate, createKeyPair, type KeyKind } from '../../src/tls/x509.ts';
import { registerSecret } from '../../../sandbox/log-sweep.ts';

export interface Credential {
  readonly cert: string;
  readonly key: string;
  readonly identity: string;
}

export interface Pki {
  readonly caCert: string;
  readonly server: Credential;
  /** Signs a client certificate with the CA. */
  issueClient(name: string, kind?: KeyKind): Credential;
  /** Another server certificate for 127.0.0.1 and localhost from the same CA (rotation). */
  issueServer(): Credential;
  /** A CA-signed client certificate whose validity ended yesterday. */
  expiredClient(name: string): Credential;
  /** A CA-signed client certificate marked as a CA itself. */
  caMarkedClient(name: string): Credential;
  /** A self-signed client certificate. */
  selfSignedClient(name: string, kind?: KeyKind): Credential;
  /** An API key and the client certificate a KES client derives from it. */
  apiKeyClient(): Credential & { apiKey: ApiKey };
}

const DAY = 24 * 3600 * 1000;

export function makePki(): Pki {
  const caKeys = createKeyPair('ecdsa-p256');
  registerSecret('test CA private key', caKeys.privateKeyPem);
  const caCert = createCertificate({
    commonName: 'kes test CA',
    publicKey: caKeys.publicKey,
    signingKey: caKeys.privateKey,
    notAfter: new Date(Date.now() + DAY),
    isCA: true,
  });
  const issuer = new X509Certificate(caCert);
  const issue = (name: string, kind: KeyKind, usage: 'serverAuth' | 'clientAuth', selfSigned: boolean, extra: { expired?: boolean; isCA?: boolean } = {}): Credential => {
    const keys = createKeyPair(kind);
    registerSecret(`test ${name} private key`, keys.privateKeyPem);
    const cert = createCertificate({
      commonName: name,
      publicKey: keys.publicKey,
      signingKey: selfSigned ? keys.privateKey : caKeys.privateKey,
      ...(selfSigned ? {} : { issuer }),
      ...(extra.expired ? { notBefore: new Date(Date.now() - 2 * DAY), notAfter: new Date(Date.now() - DAY) } : { notAfter: new Date(Date.now() + DAY) }),
      ...(extra.isCA ? { isCA: true } : {}),
      ...(usage === 'serverAuth' ? { ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] } : {}),
      extKeyUsage: [usage],
    });
    return { cert, key: keys.privateKeyPem, identity: identityOfCertificate(new X509Certificate(cert)) };
  };
  return {
    caCert,
    server: issue('localhost', 'ecdsa-p256', 'serverAuth', false),
    issueClient: (name, kind = 'ecdsa-p256') => issue(name, kind, 'clientAuth', false),
    issueServer: () => issue('localhost', 'ecdsa-p256', 'serverAuth', false),
    expiredClient: (name) => issue(name, 'ecdsa-p256', 'clientAuth', false, { expired: true }),
    caMarkedClient: (name) => issue(name, 'ecdsa-p256', 'clientAuth', false, { isCA: true }),
    selfSignedClient: (name, kind = 'ecdsa-p256') => issue(name, kind, 'clientAuth', true),
    apiKeyClient: () => {
      const apiKey = generateApiKey();
      registerSecret('test API key', apiKey.toString());
      const { cert, key } = clientCertificateOfApiKey(apiKey);
      return { cert, key, identity: apiKey.identity, apiKey };
    },
  };
}
