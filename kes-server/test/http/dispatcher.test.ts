/** The dispatcher's protocol edges (docs/protocol.md#request-pipeline): methods, paths, body limits, base64, errors. */
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { test } from 'node:test';
import { KeyStoreError } from '../../src/keystore/errors.ts';
import { MemKeyStore } from '../../src/keystore/mem.ts';
import { call } from '../support/client.ts';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';

const errBody = (msg: string): string => `{"message":${JSON.stringify(msg)}\n}`;

test('method, path and body handling', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const s = await startKes(t, pki, { admin: admin.identity, keys: ['k'] });
  const cases: Array<{ name: string; method: string; path: string; body?: string; status: number; text?: string; header?: [string, string] }> = [
    { name: 'GET on a PUT route', method: 'GET', path: '/v1/key/create/k2', status: 405, header: ['accept', 'PUT'] },
    { name: 'POST on a GET route', method: 'POST', path: '/v1/status', status: 405, header: ['accept', 'GET'] },
    { name: 'HEAD is not special', method: 'HEAD', path: '/version', status: 405, header: ['accept', 'GET'] },
    { name: 'unknown path', method: 'GET', path: '/v1/nope', status: 404, text: '404 page not found\n', header: ['content-type', 'text/plain; charset=utf-8'] },
    { name: 'extra segment on exact path', method: 'GET', path: '/version/x', status: 404, text: '404 page not found\n' },
    { name: 'prefix route without slash', method: 'PUT', path: '/v1/key/create', status: 301, header: ['location', '/v1/key/create/'] },
    { name: 'non-canonical path', method: 'GET', path: '/v1//status', status: 301, header: ['location', '/v1/status'] },
    { name: 'percent-decoded resource', method: 'GET', path: '/v1/key/describe/%6B', status: 200 },
    { name: 'bad percent encoding', method: 'GET', path: '/v1/key/describe/%zz', status: 400 },
    { name: 'unpadded base64', method: 'PUT', path: '/v1/key/encrypt/k', body: '{"plaintext":"YWJj"}', status: 200 },
    { name: 'unpadded base64 rejected', method: 'PUT', path: '/v1/key/encrypt/k', body: '{"plaintext":"YWI"}', status: 400, text: errBody('invalid request body') },
    { name: 'URL-safe base64 rejected', method: 'PUT', path: '/v1/key/encrypt/k', body: '{"plaintext":"_-8="}', status: 400, text: errBody('invalid request body') },
    { name: 'wrong JSON type', method: 'PUT', path: '/v1/key/encrypt/k', body: '{"plaintext":5}', status: 400, text: errBody('invalid request body') },
    { name: 'not JSON', method: 'PUT', path: '/v1/key/hmac/k', body: 'hello', status: 400, text: errBody('invalid request body') },
    { name: 'null fields are empty', method: 'PUT', path: '/v1/key/hmac/k', body: '{"message":null}', status: 200 },
    { name: 'oversized body', method: 'PUT', path: '/v1/key/encrypt/k', body: `{"plaintext":"${'A'.repeat(1_000_000)}"}`, status: 400, text: errBody('invalid request body') },
    { name: 'oversized import body', method: 'PUT', path: '/v1/key/import/k9', body: `{"key":"${'A'.repeat(1_000_000)}"}`, status: 400, text: errBody('invalid import key request body') },
    { name: 'invalid name', method: 'GET', path: '/v1/key/describe/-k', status: 400 },
    { name: 'name of 81 characters', method: 'GET', path: `/v1/key/describe/${'a'.repeat(81)}`, status: 400 },
  ];
  for (const http2 of [false, true]) {
    for (const c of cases) {
      const r = await call({ port: s.port, ca: pki.caCert, client: admin, method: c.method, path: c.path, body: c.body, http2 });
      assert.equal(r.status, c.status, `${c.name} (${http2 ? 'h2' : 'h1'}): ${r.text.slice(0, 200)}`);
      if (c.text !== undefined) assert.equal(r.text, c.text, c.name);
      if (c.header) assert.equal(r.headers[c.header[0]], c.header[1], c.name);
      if (c.status === 405) assert.equal(r.headers['content-type'], 'application/json', c.name);
    }
  }
});

test('an HTTP/2 body without Content-Length is capped at 1 000 000 bytes', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const s = await startKes(t, pki, { admin: admin.identity, keys: ['k'] });
  const session = connect(`https://127.0.0.1:${s.port}`, { ca: pki.caCert, servername: 'localhost', cert: admin.cert, key: admin.key });
  t.after(() => session.destroy());
  const send = (size: number): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const stream = session.request({ ':method': 'PUT', ':path': '/v1/key/encrypt/k' });
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve({ status, text: Buffer.concat(chunks).toString() }));
      stream.on('error', reject);
      const body = `{"plaintext":"${'A'.repeat(size)}"}`;
      // Two writes, no length header: the server cannot know the size up front.
      stream.write(body.slice(0, 10));
      stream.end(body.slice(10));
    });
  assert.equal((await send(1000)).status, 200);
  const big = await send(1_000_000);
  assert.equal(big.status, 400);
  assert.equal(big.text, errBody('invalid request body'));
});

test('unexpected key-store failures answer the fixed vague message and log the cause with a request id', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  class BrokenStore extends MemKeyStore {
    override async get(): Promise<Uint8Array> {
      throw new KeyStoreError('FAILED', 'mem: disk on fire');
    }
    override async list(): Promise<never> {
      throw new Error('list exploded');
    }
    override async status(): Promise<never> {
      throw new KeyStoreError('UNREACHABLE', 'mem: sealed');
    }
  }
  const s = await startKes(t, pki, { admin: admin.identity, store: new BrokenStore() });
  const c = (method: string, path: string, body?: string) => call({ port: s.port, ca: pki.caCert, client: admin, method, path, body });
  const gen = await c('POST', '/v1/key/generate/k', '{}');
  assert.equal(gen.status, 502);
  assert.equal(gen.text, errBody('failed to read key'));
  const list = await c('GET', '/v1/key/list/');
  assert.equal(list.status, 502);
  assert.equal(list.text, errBody('failed to list keys'));
  const ready = await c('GET', '/v1/ready');
  assert.equal(ready.status, 504);
  assert.equal(ready.text, errBody('key store is not reachable'));
  const status = JSON.parse((await c('GET', '/v1/status')).text);
  assert.equal(status.keystore_unreachable, true);
  assert.equal(status.keystore_unavailable, true);
  assert.equal(status.keystore_latency, undefined);
  const logged = s.errorLines.filter((l) => l.includes('level=ERROR'));
  assert.ok(logged.some((l) => l.includes('disk on fire') && /req\.id=[0-9a-f]{16}/.test(l)), logged.join('\n'));
  assert.ok(logged.some((l) => l.includes('list exploded')));
  assert.ok(!gen.text.includes('fire') && !list.text.includes('exploded'));
});

test('a route timeout tears the response down instead of answering late', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  class SlowStore extends MemKeyStore {
    override async list(prefix: string, n: number) {
      await new Promise((r) => setTimeout(r, 300));
      return super.list(prefix, n);
    }
  }
  const s = await startKes(t, pki, {
    admin: admin.identity,
    store: new SlowStore(),
    api: new Map([['/v1/key/list/', { skipAuth: false, timeoutMs: 50 }]]),
  });
  for (const http2 of [false, true]) {
    await assert.rejects(call({ port: s.port, ca: pki.caCert, client: admin, path: '/v1/key/list/', http2, timeoutMs: 5000 }));
  }
  const apis = JSON.parse((await call({ port: s.port, ca: pki.caCert, client: admin, path: '/v1/api' })).text) as Array<{ path: string; timeout: number }>;
  assert.equal(apis.find((a) => a.path === '/v1/key/list/')?.timeout, 0);
  assert.equal((await call({ port: s.port, ca: pki.caCert, client: admin, path: '/v1/key/describe/x' })).status, 404);
});
