/**
 * The key cache in front of a real OpenBao, counted at OpenBao's door: every request the Vault
 * key store sends passes a counting proxy. A burst of 1,000 generate requests for one key that
 * is not cached yet reads it from OpenBao exactly once; the cache hits that follow send nothing.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, before, test } from 'node:test';
import { generateKeyVersion } from '../../kes-server/src/crypto/key.ts';
import { encodeKeyVersion } from '../../kes-server/src/crypto/stored-key.ts';
import { VaultKeyStore } from '../../kes-server/src/keystore/vault/index.ts';
import { startKes } from '../../kes-server/test/support/kes.ts';
import { makePki } from '../../kes-server/test/support/pki.ts';
import { startCountingProxy } from '../../sandbox/counting-proxy.ts';
import { startOpenBao, type OpenBao } from '../../sandbox/openbao.ts';
import { provisionKes } from '../../sandbox/openbao-provision.ts';

let bao: OpenBao;
const closers: Array<() => Promise<unknown>> = [];
before(async () => {
  bao = await startOpenBao();
});
after(async () => {
  for (const close of closers.reverse()) await close();
  await bao?.stop();
});

test('1,000 requests for an uncached key read it from OpenBao once; cache hits never reach OpenBao', async (t) => {
  assert.ok(bao.address.startsWith('http://'), 'the dev OpenBao listens on plain HTTP');
  const engine = 'cachecount';
  const p = await provisionKes(bao, { layout: { engine, version: 'v1', prefix: 'kes' }, name: 'kes-cachecount' });
  const proxy = await startCountingProxy(bao.address);
  closers.push(() => proxy.close());
  // The key is written past the proxy: only what the server's store asks for is counted.
  const direct = await VaultKeyStore.connect(p.options);
  closers.push(() => direct.close());
  await direct.create('hot', encodeKeyVersion(generateKeyVersion('test')));
  const store = await VaultKeyStore.connect({ ...p.options, endpoint: proxy.address });

  const pki = makePki();
  const admin = pki.issueClient('admin');
  const kes = await startKes(t, pki, { admin: admin.identity, store });
  const session = connect(`https://127.0.0.1:${kes.port}`, { ca: pki.caCert, servername: 'localhost', cert: admin.cert, key: admin.key });
  t.after(() => session.destroy());
  const generate = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': '/v1/key/generate/hot' });
      let status = 0;
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.on('data', () => {});
      stream.on('end', () => resolve(status));
      stream.on('error', reject);
      stream.end('{"context":"YWJj"}');
    });
  const keyReads = (): number => proxy.seen.filter((s) => s === `GET /v1/${engine}/kes/hot`).length;
  const keyRequests = (): string[] => proxy.seen.filter((s) => s.includes('/hot'));

  proxy.seen.length = 0;
  const burst = await Promise.all(Array.from({ length: 1000 }, generate));
  assert.deepEqual(new Set(burst), new Set([200]));
  assert.equal(keyReads(), 1, `key requests: ${keyRequests().join(', ')}`);

  const t0 = performance.now();
  const warm = await Promise.all(Array.from({ length: 1000 }, generate));
  const ms = performance.now() - t0;
  assert.deepEqual(new Set(warm), new Set([200]));
  assert.deepEqual(keyRequests(), [`GET /v1/${engine}/kes/hot`], 'cache hits send nothing to OpenBao');
  t.diagnostic(`1000 generate requests with a warm cache (one HTTP/2 session, all in flight): ${ms.toFixed(0)} ms, ${((1000 * 1000) / ms).toFixed(0)} req/s`);
});
