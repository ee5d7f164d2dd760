/**
 * The Vault transport against a scripted local HTTP server: headers, body cap, timeout, retries
 * and the health probe's missing namespace/token. (Real OpenBao runs in test/vault/.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isKeyStoreError } from '../../../src/keystore/errors.ts';
import { VaultClient } from '../../../src/keystore/vault/client.ts';
import { readHealth } from '../../../src/keystore/vault/health.ts';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

async function server(t: { after: (fn: () => unknown) => void }, handler: Handler) {
  const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => {
    srv.closeAllConnections();
    srv.close(() => r());
  }));
  const { port } = srv.address() as AddressInfo;
  const client = await VaultClient.create(`http://127.0.0.1:${port}`, { ca: '', cert: '', key: '' }, { timeoutMs: 300, backoffMs: 1 });
  return { client, seen };
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};

test('sends token, namespace, JSON body and no keep-alive; parses the answer', async (t) => {
  const { client, seen } = await server(t, (_req, res) => json(res, 200, { data: { ok: true } }));
  const res = await client.send({
    method: 'PUT',
    path: 'kv/data/a b',
    query: { version: '1' },
    body: { x: 1 },
    token: 'tok',
    namespace: 'ns1/ns2',
    idempotent: false,
  });
  assert.deepEqual(res, { status: 200, body: { data: { ok: true } } });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].method, 'PUT');
  assert.equal(seen[0].url, '/v1/kv/data/a%20b?version=1');
  assert.equal(seen[0].headers['x-vault-token'], 'tok');
  assert.equal(seen[0].headers['x-vault-namespace'], 'ns1/ns2');
  assert.equal(seen[0].headers.connection, 'close');
  assert.equal(seen[0].body, '{"x":1}');
});

test('no namespace header when the namespace is empty; empty body is undefined', async (t) => {
  const { client, seen } = await server(t, (_req, res) => {
    res.writeHead(204);
    res.end();
  });
  const res = await client.send({ method: 'DELETE', path: 'kv/k', token: 'tok', namespace: '', idempotent: true });
  assert.deepEqual(res, { status: 204, body: undefined });
  assert.equal(seen[0].headers['x-vault-namespace'], undefined);
});

test('a body above the cap fails with FAILED', async (t) => {
  const { client } = await server(t, (_req, res) => json(res, 200, { data: 'x'.repeat(4096) }));
  await assert.rejects(
    client.send({ method: 'GET', path: 'kv/k', idempotent: true, maxBodyBytes: 1024 }),
    (e) => isKeyStoreError(e, 'FAILED') && /exceeds 1024 bytes/.test(e.message),
  );
});

test('a silent server times out as UNREACHABLE, after the retries of an idempotent call', async (t) => {
  const { client, seen } = await server(t, () => {});
  await assert.rejects(
    client.send({ method: 'GET', path: 'kv/k', idempotent: true, retries: 1 }),
    (e) => isKeyStoreError(e, 'UNREACHABLE') && /timed out after 300 ms/.test(e.message),
  );
  assert.equal(seen.length, 2);
});

test('5xx answers are retried for idempotent calls only', async (t) => {
  let n = 0;
  const { client, seen } = await server(t, (_req, res) => (++n < 3 ? json(res, 500, { errors: ['boom'] }) : json(res, 200, {})));
  assert.equal((await client.send({ method: 'GET', path: 'kv/k', idempotent: true })).status, 200);
  assert.equal(seen.length, 3);
  n = 0;
  assert.equal((await client.send({ method: 'PUT', path: 'kv/k', body: {}, idempotent: false })).status, 500);
  assert.equal(seen.length, 4);
});

test('a refused connection is UNREACHABLE', async () => {
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  const client = await VaultClient.create(`http://127.0.0.1:${port}`, { ca: '', cert: '', key: '' }, { backoffMs: 1 });
  await assert.rejects(client.send({ method: 'GET', path: 'sys/health', idempotent: true }), (e) => isKeyStoreError(e, 'UNREACHABLE'));
});

test('the health probe sends neither token nor namespace and forces 2xx for every state', async (t) => {
  const { client, seen } = await server(t, (_req, res) => json(res, 299, { initialized: true, sealed: true }));
  assert.deepEqual(await readHealth(client), { initialized: true, sealed: true });
  const url = new URL(seen[0].url, 'http://x');
  assert.equal(url.pathname, '/v1/sys/health');
  for (const p of ['uninitcode', 'sealedcode', 'standbycode', 'performancestandbycode']) assert.equal(url.searchParams.get(p), '299');
  assert.equal(seen[0].headers['x-vault-token'], undefined);
  assert.equal(seen[0].headers['x-vault-namespace'], undefined);
});

test('invalid endpoints and half TLS client settings are refused', async () => {
  await assert.rejects(VaultClient.create('not a url', { ca: '', cert: '', key: '' }), /invalid endpoint/);
  await assert.rejects(VaultClient.create('ftp://127.0.0.1', { ca: '', cert: '', key: '' }), /scheme must be http or https/);
  await assert.rejects(VaultClient.create('https://127.0.0.1', { ca: '', cert: '/x.pem', key: '' }), /tls\.cert and tls\.key/);
});
