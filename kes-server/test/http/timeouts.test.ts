/**
 * Connection deadlines (§1.1): an HTTP/1 client that does not finish its request headers within
 * the read-header timeout is disconnected; one that does is served.
 */
import assert from 'node:assert/strict';
import { connect, type TLSSocket } from 'node:tls';
import { test } from 'node:test';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';

const HEADER_MS = 300;

/** Opens an mTLS connection speaking HTTP/1.1, writes `data`, resolves with what came back once the server closes. */
function exchange(port: number, pki: ReturnType<typeof makePki>, data: string, limitMs: number): Promise<{ text: string; closedAfterMs: number }> {
  const client = pki.issueClient('slow');
  return new Promise((resolve, reject) => {
    let text = '';
    const t0 = performance.now();
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca: pki.caCert, servername: 'localhost', cert: client.cert, key: client.key, ALPNProtocols: ['http/1.1'] }, () => {
      socket.write(data);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`server kept the connection open for ${limitMs} ms; received: ${JSON.stringify(text)}`));
    }, limitMs);
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: performance.now() - t0 });
    });
  });
}

test('HTTP/1: incomplete request headers are cut off after the read-header timeout', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const { port } = await startKes(t, pki, { admin: admin.identity, extra: { readHeaderTimeoutMs: HEADER_MS } });
  const r = await exchange(port, pki, 'GET /version HTTP/1.1\r\nHost: localhost\r\n', 5000);
  assert.ok(r.closedAfterMs >= HEADER_MS, `closed after ${r.closedAfterMs} ms, before the timeout`);
  assert.doesNotMatch(r.text, /"version"/);
  assert.match(r.text, /^(HTTP\/1\.1 408 |$)/);
});

test('HTTP/1: complete request headers are served and the connection closes on request', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const { port } = await startKes(t, pki, { admin: admin.identity, extra: { readHeaderTimeoutMs: HEADER_MS } });
  const r = await exchange(port, pki, 'GET /version HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', 5000);
  assert.match(r.text, /^HTTP\/1\.1 200 /);
  assert.match(r.text, /"version":/);
});

test('TLS: a client that never completes the handshake is disconnected after the same timeout', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const { port } = await startKes(t, pki, { admin: admin.identity, extra: { readHeaderTimeoutMs: HEADER_MS } });
  const { createConnection } = await import('node:net');
  const closedAfter = await new Promise<number>((resolve, reject) => {
    const t0 = performance.now();
    const socket = createConnection({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('server kept a silent TCP connection open for 5 s'));
    }, 5000);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - t0);
    });
  });
  assert.ok(closedAfter >= HEADER_MS - 50, `closed after ${closedAfter} ms`);
});
