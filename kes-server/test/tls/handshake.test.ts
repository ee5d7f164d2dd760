import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { generateApiKey } from '../../src/auth/api-key.ts';
import { identityOfCertificate, identityOfPublicKey } from '../../src/auth/identity.ts';
import { clientCertificateOfApiKey, createCertificate, createKeyPair } from '../../src/tls/x509.ts';
import type { KeyKind } from '../../src/tls/x509.ts';

const DAY = 86_400_000;

function pki(caKind: KeyKind, caName = `CA ${caKind}`) {
  const caKey = createKeyPair(caKind);
  const caPem = createCertificate({ commonName: caName, publicKey: caKey.publicKey, signingKey: caKey.privateKey, notAfter: new Date(Date.now() + DAY), isCA: true });
  const ca = new X509Certificate(caPem);
  const issue = (kind: KeyKind, usage: 'serverAuth' | 'clientAuth') => {
    const key = createKeyPair(kind);
    const cert = createCertificate({
      commonName: `${usage} ${kind}`,
      publicKey: key.publicKey,
      signingKey: caKey.privateKey,
      issuer: ca,
      notAfter: new Date(Date.now() + DAY),
      dnsNames: usage === 'serverAuth' ? ['localhost'] : undefined,
      ipAddresses: usage === 'serverAuth' ? ['127.0.0.1'] : undefined,
      extKeyUsage: [usage],
    });
    return { cert, key: key.privateKeyPem, identity: identityOfPublicKey(key.publicKey) };
  };
  return { caPem, issue };
}

interface Outcome {
  serverAuthorized: boolean;
  serverError?: string;
  peerIdentity?: string;
  clientAuthorized: boolean;
  protocol: string | null;
}

/**
 * One TLS server on 127.0.0.1:0 and one client connection; resolves with what each side saw,
 * or rejects with the client's handshake error.
 */
async function handshake(
  t: { after: (fn: () => unknown) => void },
  server: { cert: string; key: string; ca?: string[]; rejectUnauthorized: boolean },
  client: { cert?: string; key?: string; ca: string[]; servername?: string | null },
): Promise<Outcome> {
  const seen: Array<Omit<Outcome, 'clientAuthorized' | 'protocol'>> = [];
  const serverErrors: Error[] = [];
  const srv = createServer({ ...server, requestCert: true, minVersion: 'TLSv1.2' }, (socket: TLSSocket) => {
    const peer = socket.getPeerX509Certificate();
    seen.push({
      serverAuthorized: socket.authorized,
      serverError: socket.authorizationError?.toString(),
      peerIdentity: peer ? identityOfCertificate(peer) : undefined,
    });
    socket.end('ok');
  });
  srv.on('tlsClientError', (err) => serverErrors.push(err));
  t.after(() => srv.close());
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as AddressInfo;
  const socket = connect({
    host: '127.0.0.1',
    port,
    servername: client.servername === null ? undefined : (client.servername ?? 'localhost'),
    ca: client.ca,
    cert: client.cert,
    key: client.key,
    rejectUnauthorized: true,
  });
  t.after(() => socket.destroy());
  let data: Buffer;
  try {
    [data] = await Promise.race([
      once(socket, 'data') as Promise<[Buffer]>,
      new Promise<never>((_, reject) => {
        socket.once('close', () => reject(new Error('connection closed before the server answered')));
        setTimeout(() => reject(new Error('handshake timed out')), 10_000).unref();
      }),
    ]);
  } catch (err) {
    await new Promise((resolve) => setImmediate(resolve));
    throw new HandshakeError(err as Error, serverErrors[0]);
  }
  assert.equal(data.toString(), 'ok');
  assert.equal(seen.length, 1);
  return { ...seen[0], clientAuthorized: socket.authorized, protocol: socket.getProtocol() };
}

/** A failed handshake: what the client saw and, when the server refused, why. */
class HandshakeError extends Error {
  readonly client: Error;
  readonly server: Error | undefined;

  constructor(client: Error, server: Error | undefined) {
    super(`client: ${client.message}; server: ${server?.message ?? 'no error'}`);
    this.client = client;
    this.server = server;
  }
}

const kinds: KeyKind[] = ['ecdsa-p256', 'rsa-2048', 'ed25519'];
for (const serverKind of ['ecdsa-p256', 'rsa-2048', 'ecdsa-p384'] as KeyKind[]) {
  for (const clientKind of kinds) {
    test(`mTLS: ${serverKind} server cert, ${clientKind} client cert, both verified`, async (t) => {
      const { caPem, issue } = pki('ecdsa-p384');
      const server = issue(serverKind, 'serverAuth');
      const client = issue(clientKind, 'clientAuth');
      const out = await handshake(t, { ...server, ca: [caPem], rejectUnauthorized: true }, { ...client, ca: [caPem] });
      assert.equal(out.clientAuthorized, true, 'client verified the server chain and name');
      assert.equal(out.serverAuthorized, true, out.serverError);
      assert.equal(out.peerIdentity, client.identity);
      assert.equal(out.protocol, 'TLSv1.3');
    });
  }
}

test('an RSA CA: the server is verified by its IP SAN and an Ed25519 client cert is accepted', async (t) => {
  const { caPem, issue } = pki('rsa-2048');
  const server = issue('rsa-2048', 'serverAuth');
  const client = issue('ed25519', 'clientAuth');
  const out = await handshake(t, { ...server, ca: [caPem], rejectUnauthorized: true }, { ...client, ca: [caPem], servername: null });
  assert.equal(out.clientAuthorized, true);
  assert.equal(out.serverAuthorized, true, out.serverError);
  assert.equal(out.peerIdentity, client.identity);
});

test('the client rejects a server certificate for another name', async (t) => {
  const { caPem, issue } = pki('ecdsa-p256');
  const server = issue('ecdsa-p256', 'serverAuth');
  await assert.rejects(
    handshake(t, { ...server, rejectUnauthorized: false }, { ca: [caPem], servername: 'kes.invalid' }),
    (err: unknown) => err instanceof HandshakeError && (err.client as NodeJS.ErrnoException).code === 'ERR_TLS_CERT_ALTNAME_INVALID',
  );
});

const refusals: Array<{ name: string; setup: () => { caPem: string; server: { cert: string; key: string }; client: { cert: string; key: string } }; reason: string }> = [
  {
    name: 'a client certificate from another CA',
    setup: () => {
      const a = pki('ecdsa-p256', 'CA one');
      const b = pki('ecdsa-p256', 'CA two');
      return { caPem: a.caPem, server: a.issue('ecdsa-p256', 'serverAuth'), client: b.issue('ed25519', 'clientAuth') };
    },
    // OpenSSL reports a lone leaf without a trusted issuer as "unable to verify the first certificate".
    reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  },
  {
    name: 'a client certificate from an impostor CA with the same name',
    setup: () => {
      const a = pki('ecdsa-p256', 'Same CA');
      const b = pki('ecdsa-p256', 'Same CA');
      return { caPem: a.caPem, server: a.issue('ecdsa-p256', 'serverAuth'), client: b.issue('rsa-2048', 'clientAuth') };
    },
    reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  },
  {
    name: 'a serverAuth-only certificate used as a client certificate',
    setup: () => {
      const p = pki('ecdsa-p256');
      return { caPem: p.caPem, server: p.issue('ecdsa-p256', 'serverAuth'), client: p.issue('ecdsa-p256', 'serverAuth') };
    },
    reason: 'INVALID_PURPOSE',
  },
];
for (const c of refusals) {
  test(`${c.name} fails verification and a verifying server refuses it`, async (t) => {
    const { caPem, server, client } = c.setup();
    // Not rejecting: the server reports why verification failed.
    const seen = await handshake(t, { ...server, ca: [caPem], rejectUnauthorized: false }, { ...client, ca: [caPem] });
    assert.equal(seen.serverAuthorized, false);
    assert.equal(seen.serverError, c.reason);
    // Rejecting: the connection is torn down before any application data.
    await assert.rejects(
      handshake(t, { ...server, ca: [caPem], rejectUnauthorized: true }, { ...client, ca: [caPem] }),
      (err: unknown) => err instanceof HandshakeError && /closed before the server answered|alert|ECONNRESET/i.test(err.client.message),
    );
  });
}

test('API key client certificate: unverified mode sees it, identity equals the key identity', async (t) => {
  const { caPem, issue } = pki('ecdsa-p256');
  const server = issue('ecdsa-p256', 'serverAuth');
  const apiKey = generateApiKey();
  const client = clientCertificateOfApiKey(apiKey);
  const out = await handshake(t, { ...server, rejectUnauthorized: false }, { ...client, ca: [caPem] });
  assert.equal(out.serverAuthorized, false, 'self-signed: not chained to any CA');
  assert.equal(out.peerIdentity, apiKey.identity);
  // With the exact certificate trusted, verification succeeds (docs/protocol.md#client-certificates, auth: on).
  const trusted = await handshake(t, { ...server, ca: [client.cert], rejectUnauthorized: true }, { ...client, ca: [caPem] });
  assert.equal(trusted.serverAuthorized, true, trusted.serverError);
  assert.equal(trusted.peerIdentity, apiKey.identity);
});
