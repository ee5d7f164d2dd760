/**
 * Every route of docs/protocol.md#routes driven by the admin identity over real mTLS, once over HTTP/1.1 and once
 * over HTTP/2; JSON bodies and error bodies compared byte for byte where they are fixed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decrypt as openWith, encrypt as sealWith } from '../../src/crypto/key.ts';
import { call, type CallResult } from '../support/client.ts';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';

const b64 = (s: string | Uint8Array): string => Buffer.from(s).toString('base64');
const errBody = (msg: string): string => `{"message":${JSON.stringify(msg)}\n}`;

function assertError(r: CallResult, status: number, message: string): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.text, errBody(message));
  assert.equal(Number(r.headers['content-length']), Buffer.byteLength(errBody(message)));
}

for (const http2 of [false, true]) {
  describe(`admin over ${http2 ? 'HTTP/2' : 'HTTP/1.1'}`, () => {
    test('key lifecycle, crypto, policies, identities, system routes', async (t) => {
      const pki = makePki();
      const admin = pki.issueClient('admin');
      const member = pki.issueClient('member');
      const s = await startKes(t, pki, {
        admin: admin.identity,
        policies: new Map([
          ['my-app', { allow: ['/v1/key/generate/my-app*', '/v1/status'], deny: ['/v1/key/generate/my-app-secret'], identities: [member.identity] }],
          ['other', { allow: [], deny: [], identities: [] }],
        ]),
      });
      const c = (method: string, path: string, body?: string): Promise<CallResult> =>
        call({ port: s.port, ca: pki.caCert, client: admin, method, path, body, http2 });

      const first = await c('GET', '/version');
      assert.equal(first.protocol, http2 ? 'h2' : 'http/1.1');
      assert.equal(first.status, 200);
      assert.equal(typeof JSON.parse(first.text).version, 'string');
      assert.ok(first.text.endsWith('}\n'));

      // create: exactly 200 with Content-Length 0; PUT and POST both accepted.
      let r = await c('PUT', '/v1/key/create/my-key');
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-length'], '0');
      assert.equal(r.body.length, 0);
      assert.equal((await c('POST', '/v1/key/create/my%2Dkey-2')).status, 200);
      assertError(await c('POST', '/v1/key/create/my-key'), 400, 'key already exists');
      assert.equal((await c('POST', '/v1/key/create/bad.name')).status, 400);
      assert.equal((await c('POST', '/v1/key/create/a%2Fb')).status, 400);

      // describe
      r = await c('GET', '/v1/key/describe/my-key');
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/json');
      const info = JSON.parse(r.text);
      assert.deepEqual(Object.keys(info), ['name', 'algorithm', 'created_at', 'created_by']);
      assert.equal(info.name, 'my-key');
      assert.equal(info.algorithm, 'AES256');
      assert.equal(info.created_by, admin.identity);
      assert.match(info.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/);
      assertError(await c('GET', '/v1/key/describe/nope'), 404, 'key does not exist');

      // import: 32-byte key; cipher checks (406) before size (406); bad body 400.
      const raw = new Uint8Array(32).fill(7);
      assert.equal((await c('PUT', '/v1/key/import/imported', JSON.stringify({ key: b64(raw), cipher: 'AES256' }))).status, 200);
      assertError(await c('PUT', '/v1/key/import/imported', JSON.stringify({ key: b64(raw), cipher: 'AES256' })), 400, 'key already exists');
      assert.equal((await c('PUT', '/v1/key/import/x1', JSON.stringify({ key: b64(raw), cipher: 'DES' }))).status, 406);
      // Names inherited by every JS object are not ciphers either.
      for (const cipher of ['toString', 'constructor', '__proto__']) {
        assert.equal((await c('PUT', '/v1/key/import/x1', JSON.stringify({ key: b64(raw), cipher }))).status, 406, cipher);
      }
      assert.equal((await c('PUT', '/v1/key/import/x1', JSON.stringify({ key: b64(raw.slice(0, 16)), cipher: 'ChaCha20' }))).status, 406);
      assertError(await c('PUT', '/v1/key/import/x1', '{"key":'), 400, 'invalid import key request body');
      // The server encrypts with the imported key exactly as the crypto module does.
      r = await c('PUT', '/v1/key/encrypt/imported', JSON.stringify({ plaintext: b64('hello'), context: b64('ctx') }));
      assert.equal(r.status, 200);
      const importedKv = { key: raw, cipher: 'AES256' as const, createdAt: new Date(), createdBy: '' };
      assert.equal(Buffer.from(openWith(importedKv, Buffer.from(JSON.parse(r.text).ciphertext, 'base64'), Buffer.from('ctx'))).toString(), 'hello');
      const sealed = sealWith(importedKv, Buffer.from('sealed here'), Buffer.from('c2'));
      r = await c('PUT', '/v1/key/decrypt/imported', JSON.stringify({ ciphertext: b64(sealed), context: b64('c2') }));
      assert.equal(r.text, `{"plaintext":"${b64('sealed here')}"}\n`);

      // generate: optional body, 32-byte DEK, 76-byte ciphertext; decrypt round trip.
      r = await c('POST', '/v1/key/generate/my-key', JSON.stringify({ context: b64('{}') }));
      assert.equal(r.status, 200);
      const dek = JSON.parse(r.text);
      assert.deepEqual(Object.keys(dek), ['plaintext', 'ciphertext']);
      assert.equal(Buffer.from(dek.plaintext, 'base64').length, 32);
      assert.equal(Buffer.from(dek.ciphertext, 'base64').length, 76);
      assert.equal((await c('POST', '/v1/key/generate/my-key')).status, 200);
      r = await c('POST', '/v1/key/decrypt/my-key', JSON.stringify({ ciphertext: dek.ciphertext, context: b64('{}') }));
      assert.equal(r.text, `{"plaintext":"${dek.plaintext}"}\n`);
      assertError(await c('POST', '/v1/key/decrypt/my-key', JSON.stringify({ ciphertext: dek.ciphertext, context: b64('[]') })), 400, 'decryption failed: ciphertext is not authentic');
      assertError(await c('POST', '/v1/key/decrypt/my-key', JSON.stringify({ ciphertext: b64('short') })), 400, 'decryption failed: ciphertext is not authentic');
      assertError(await c('POST', '/v1/key/generate/nope', '{}'), 404, 'key does not exist');

      // encrypt: case-insensitive field names, unknown fields ignored, trailing bytes ignored.
      r = await c('PUT', '/v1/key/encrypt/my-key', `{"PlainText":"${b64('secret')}","extra":1} trailing`);
      assert.equal(r.status, 200);
      const ct = JSON.parse(r.text).ciphertext;
      assert.equal(Buffer.from(ct, 'base64').length, 6 + 44);
      r = await c('PUT', '/v1/key/decrypt/my-key', JSON.stringify({ ciphertext: ct }));
      assert.equal(Buffer.from(JSON.parse(r.text).plaintext, 'base64').toString(), 'secret');
      assertError(await c('PUT', '/v1/key/encrypt/my-key'), 400, 'invalid request body');

      // bulk decrypt (legacy): same order, any failure fails the call.
      r = await c('POST', '/v1/key/bulk/decrypt/my-key', JSON.stringify([{ ciphertext: ct }, { ciphertext: dek.ciphertext, context: b64('{}') }]));
      assert.equal(r.text, `[{"plaintext":"${b64('secret')}"},{"plaintext":"${dek.plaintext}"}]\n`);
      assertError(await c('POST', '/v1/key/bulk/decrypt/my-key', JSON.stringify([{ ciphertext: ct, context: b64('x') }])), 400, 'decryption failed: ciphertext is not authentic');
      assertError(await c('POST', '/v1/key/bulk/decrypt/my-key', JSON.stringify(Array(1001).fill({ ciphertext: ct }))), 400, 'too many ciphertexts');

      // hmac: deterministic per key, 32 bytes.
      const h1 = await c('PUT', '/v1/key/hmac/my-key', JSON.stringify({ message: b64('root access key') }));
      const h2 = await c('PUT', '/v1/key/hmac/my-key', JSON.stringify({ message: b64('root access key') }));
      assert.equal(h1.status, 200);
      assert.equal(h1.text, h2.text);
      assert.equal(Buffer.from(JSON.parse(h1.text).hmac, 'base64').length, 32);

      // list: sorted, trailing * stripped, no continue_at; the slash-less form lists everything.
      assert.equal((await c('GET', '/v1/key/list/')).text, '{"names":["imported","my-key","my-key-2"]}\n');
      assert.equal((await c('GET', '/v1/key/list')).text, '{"names":["imported","my-key","my-key-2"]}\n');
      assert.equal((await c('GET', '/v1/key/list/*')).text, '{"names":["imported","my-key","my-key-2"]}\n');
      assert.equal((await c('GET', '/v1/key/list/my-key*')).text, '{"names":["my-key","my-key-2"]}\n');
      assert.equal((await c('GET', '/v1/key/list/*-*')).status, 400);

      // delete
      assert.equal((await c('DELETE', '/v1/key/delete/my-key-2')).status, 200);
      assertError(await c('DELETE', '/v1/key/delete/my-key-2'), 404, 'key does not exist');
      assert.equal(s.auditLines.length, 4, s.auditLines.join('\n'));

      // policies
      assert.equal((await c('GET', '/v1/policy/list')).text, '{"names":["my-app","other"],"continue_at":""}\n');
      assert.equal((await c('GET', '/v1/policy/list/my*')).text, '{"names":["my-app"],"continue_at":""}\n');
      const start = JSON.parse((await c('GET', '/v1/policy/describe/my-app')).text);
      assert.equal(start.name, 'my-app');
      assert.equal(start.created_by, admin.identity);
      r = await c('GET', '/v1/policy/read/my-app');
      assert.equal(
        r.text,
        `{"name":"my-app","allow":{"/v1/key/generate/my-app*":{},"/v1/status":{}},"deny":{"/v1/key/generate/my-app-secret":{}},"created_at":"${start.created_at}","created_by":"${admin.identity}"}\n`,
      );
      assert.equal((await c('GET', '/v1/policy/read/other')).text, `{"name":"other","created_at":"${start.created_at}","created_by":"${admin.identity}"}\n`);
      assertError(await c('GET', '/v1/policy/read/none'), 404, 'policy does not exist');
      assertError(await c('GET', '/v1/policy/describe/none'), 404, 'policy does not exist');

      // identities
      const ids = [admin.identity, member.identity].sort();
      assert.equal((await c('GET', '/v1/identity/list')).text, `{"identities":${JSON.stringify(ids)},"continue_at":""}\n`);
      assert.equal((await c('GET', `/v1/identity/list/${member.identity.slice(0, 5)}*`)).text, `{"identities":["${member.identity}"],"continue_at":""}\n`);
      assert.equal((await c('GET', `/v1/identity/describe/${admin.identity}`)).text, `{"admin":true,"created_at":"${start.created_at}"}\n`);
      assert.equal(
        (await c('GET', `/v1/identity/describe/${member.identity}`)).text,
        `{"policy":"my-app","created_at":"${start.created_at}","created_by":"${admin.identity}"}\n`,
      );
      assertError(await c('GET', `/v1/identity/describe/${'0'.repeat(64)}`), 404, 'identity does not exist');
      assert.equal((await c('GET', '/v1/identity/self/describe')).text, `{"identity":"${admin.identity}","admin":true,"created_at":"${start.created_at}"}\n`);

      // system
      assert.equal((await c('GET', '/v1/ready')).status, 200);
      const st = JSON.parse((await c('GET', '/v1/status')).text);
      assert.equal(st.keystore_latency >= 1, true);
      assert.equal(st.keystore_unreachable, undefined);
      assert.equal(st.os, process.platform === 'win32' ? 'windows' : process.platform);
      const apis = JSON.parse((await c('GET', '/v1/api')).text) as Array<{ method: string; path: string; max_body: number; timeout: number }>;
      assert.deepEqual(apis.find((a) => a.path === '/v1/key/generate/'), { method: 'PUT', path: '/v1/key/generate/', max_body: 1_000_000, timeout: 15 });
      assert.deepEqual(apis.find((a) => a.path === '/v1/log/audit'), { method: 'GET', path: '/v1/log/audit', max_body: 0, timeout: 0 });
      // 22 routes of the newest server plus legacy bulk decrypt.
      assert.equal(apis.length, 23);
    });
  });
}

test('keys listed in `keys:` are created at start with the admin as creator', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const s = await startKes(t, pki, { admin: admin.identity, keys: ['boot-key'] });
  const r = await call({ port: s.port, ca: pki.caCert, client: admin, path: '/v1/key/describe/boot-key' });
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.text).created_by, admin.identity);
});
