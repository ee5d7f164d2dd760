/**
 * Certificate rotation drops no connection: an HTTP/2 session and an HTTP/1.1 keep-alive
 * connection opened before the rotation keep being served on the old certificate, while every
 * new connection gets the new one.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect as h2connect } from 'node:http2';
import { Agent, request } from 'node:https';
import { test } from 'node:test';
import { connect } from 'node:tls';
import type { TlsMaterial } from '../../src/http/tls-material.ts';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';

/** Serial of the certificate a fresh connection is served. */
function servedSerial(port: number, ca: string, client: { cert: string; key: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', cert: client.cert, key: client.key }, () => {
      resolve(socket.getPeerX509Certificate()!.serialNumber);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

test('rotation: connections opened before keep working on the old certificate; new ones get the new certificate', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  let material: TlsMaterial = { key: pki.server.key, cert: pki.server.cert, password: '', ca: [], auth: false };
  const s = await startKes(t, pki, { admin: admin.identity, keys: ['k'], extra: { reloadTls: async () => material, tlsReloadMs: 50 } });
  const oldSerial = new X509Certificate(pki.server.cert).serialNumber;

  const session = h2connect(`https://127.0.0.1:${s.port}`, { ca: pki.caCert, servername: 'localhost', cert: admin.cert, key: admin.key });
  const agent = new Agent({ keepAlive: true, maxSockets: 1, cert: admin.cert, key: admin.key });
  t.after(() => {
    session.destroy();
    agent.destroy();
  });
  const h1Sockets = new Set<unknown>();
  const h2Get = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const st = session.request({ ':path': '/v1/key/describe/k' });
      let status = 0;
      st.on('response', (h) => (status = Number(h[':status'])));
      st.resume();
      st.on('end', () => resolve(status));
      st.on('error', reject);
    });
  const h1Get = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const rq = request({ host: '127.0.0.1', port: s.port, path: '/v1/key/describe/k', agent, ca: pki.caCert, servername: 'localhost' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      rq.on('socket', (sock) => h1Sockets.add(sock));
      rq.on('error', reject);
      rq.end();
    });
  assert.deepEqual([await h2Get(), await h1Get()], [200, 200]);
  const h1Socket = await new Promise<unknown>((resolve) => {
    const rq = request({ host: '127.0.0.1', port: s.port, path: '/version', agent, ca: pki.caCert, servername: 'localhost' }, (res) => {
      res.resume();
      res.on('end', () => resolve(rq.socket));
    });
    rq.end();
  });

  // Rotate to a certificate from the same CA and wait until new connections see it.
  const next = pki.issueServer();
  material = { ...material, key: next.key, cert: next.cert };
  const newSerial = new X509Certificate(next.cert).serialNumber;
  let served = oldSerial;
  for (let i = 0; i < 100 && served !== newSerial; i++) {
    await new Promise((r) => setTimeout(r, 20));
    served = await servedSerial(s.port, pki.caCert, admin);
  }
  assert.equal(served, newSerial, 'new connections get the rotated certificate');

  // The connections of before are still there and still served.
  for (let i = 0; i < 5; i++) assert.deepEqual([await h2Get(), await h1Get()], [200, 200]);
  assert.equal(session.closed || session.destroyed, false, 'the HTTP/2 session survived');
  assert.equal((session.socket as unknown as { getPeerX509Certificate(): X509Certificate }).getPeerX509Certificate().serialNumber, oldSerial);
  const sameSocket = await new Promise<unknown>((resolve) => {
    const rq = request({ host: '127.0.0.1', port: s.port, path: '/version', agent, ca: pki.caCert, servername: 'localhost' }, (res) => {
      res.resume();
      res.on('end', () => resolve(rq.socket));
    });
    rq.end();
  });
  assert.equal(sameSocket, h1Socket, 'the HTTP/1.1 keep-alive connection was reused, not reopened');
  assert.equal(h1Sockets.size, 1, 'every HTTP/1.1 request went over the one connection');
});
