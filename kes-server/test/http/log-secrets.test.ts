/**
 * No secret reaches a log line: requests that carry plaintexts, imported key
 * material and HMAC messages, failing variants of each, and a stored value that cannot be
 * decoded, with both logs at their most verbose and both streams subscribed.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { test } from 'node:test';
import { encodeKeyVersion } from '../../src/crypto/stored-key.ts';
import { MemKeyStore } from '../../src/keystore/mem.ts';
import { call } from '../support/client.ts';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';

test('plaintexts, key material and HMAC messages never appear in console or streamed log lines', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const member = pki.issueClient('member');
  const store = new MemKeyStore();
  const storedKey = new Uint8Array(32).fill(0x5a);
  // A stored value that decodes as protobuf but carries an unknown key type (a read failure).
  const good = encodeKeyVersion({ key: storedKey, cipher: 'AES256', hmacKey: new Uint8Array(32).fill(0x6b), createdAt: new Date(0), createdBy: '' });
  const text = Buffer.from(Buffer.from(good).toString(), 'base64');
  text[text.indexOf(0x10, 36) + 1] = 7;
  await store.create('broken', new TextEncoder().encode(text.toString('base64')));
  const s = await startKes(t, pki, {
    admin: admin.identity,
    store,
    errorLevel: -4,
    policies: new Map([['p', { allow: ['/v1/key/encrypt/*'], deny: [], identities: [member.identity] }]]),
  });
  const session = connect(`https://127.0.0.1:${s.port}`, { ca: pki.caCert, servername: 'localhost', cert: admin.cert, key: admin.key });
  t.after(() => session.destroy());
  const streamed: string[] = [];
  for (const path of ['/v1/log/error', '/v1/log/audit']) {
    const st = session.request({ ':path': path });
    st.on('data', (c: Buffer) => streamed.push(c.toString()));
    await new Promise((r) => st.once('response', r));
  }

  const plaintext = Buffer.from('PLAINTEXT-never-logged-0123456789');
  const imported = Buffer.alloc(32, 0x3c);
  const message = Buffer.from('HMAC-MESSAGE-never-logged');
  const b64 = (b: Buffer) => b.toString('base64');
  const c = (method: string, path: string, body?: string, client = admin) => call({ port: s.port, ca: pki.caCert, client, method, path, body });
  assert.equal((await c('PUT', '/v1/key/import/imp', JSON.stringify({ key: b64(imported), cipher: 'AES256' }))).status, 200);
  assert.equal((await c('PUT', '/v1/key/import/imp2', JSON.stringify({ key: b64(imported), cipher: 'DES' }))).status, 406);
  assert.equal((await c('PUT', '/v1/key/import/imp3', JSON.stringify({ key: b64(imported.subarray(0, 31)), cipher: 'AES256' }))).status, 406);
  const enc = await c('PUT', '/v1/key/encrypt/imp', JSON.stringify({ plaintext: b64(plaintext), context: b64(message) }));
  assert.equal(enc.status, 200);
  const ct = JSON.parse(enc.text).ciphertext as string;
  assert.equal((await c('PUT', '/v1/key/decrypt/imp', JSON.stringify({ ciphertext: ct, context: b64(message) }))).status, 200);
  assert.equal((await c('PUT', '/v1/key/decrypt/imp', JSON.stringify({ ciphertext: ct, context: 'AAAA' }))).status, 400);
  assert.equal((await c('PUT', '/v1/key/encrypt/broken', JSON.stringify({ plaintext: b64(plaintext) }))).status, 502);
  assert.equal((await c('PUT', '/v1/key/encrypt/imp', `{"plaintext":"${b64(plaintext)}`)).status, 400);
  assert.equal((await c('PUT', '/v1/key/hmac/imp', JSON.stringify({ message: b64(message) }))).status, 200);
  assert.equal((await c('PUT', '/v1/key/hmac/imp', JSON.stringify({ message: b64(message) }), member)).status, 403);
  assert.equal((await c('PUT', '/v1/key/encrypt/missing', JSON.stringify({ plaintext: b64(plaintext) }), member)).status, 404);
  const gen = await c('POST', '/v1/key/generate/imp', '{}');
  const dek = Buffer.from(JSON.parse(gen.text).plaintext, 'base64');
  await new Promise((r) => setTimeout(r, 100));

  const all = [...s.errorLines, ...s.auditLines, ...streamed].join('\n');
  assert.ok(s.errorLines.some((l) => l.includes('failed to read key')), 'the read failure was logged');
  assert.ok(streamed.some((l) => l.includes('/v1/key/import/imp')), 'the audit stream saw the import');
  const secrets: Array<[string, Buffer]> = [
    ['plaintext', plaintext],
    ['imported key', imported],
    ['HMAC message / context', message],
    ['stored key', Buffer.from(storedKey)],
    ['data key', dek],
  ];
  for (const [what, bytes] of secrets) {
    for (const form of [bytes.toString('utf8'), bytes.toString('hex'), b64(bytes), b64(bytes).slice(0, 16)]) {
      if (form.length >= 8) assert.ok(!all.includes(form), `${what} appears in a log line`);
    }
  }
  assert.ok(!all.includes(ct.slice(0, 24)), 'ciphertext appears in a log line');
});
