import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { ApiKeyError, generateApiKey, parseApiKey } from '../../src/auth/api-key.ts';
import { identityOfPublicKey } from '../../src/auth/identity.ts';

const vectors = JSON.parse(readFileSync(new URL('../fixtures/kes-vectors.json', import.meta.url), 'utf8'));

function rawPublicKeyHex(key: ReturnType<typeof parseApiKey>): string {
  const jwk = key.publicKey.export({ format: 'jwk' });
  return Buffer.from(jwk.x as string, 'base64url').toString('hex');
}

test('api key vectors parse to the expected public key, identity and text', () => {
  assert.ok(vectors.api_key_vectors.length >= 3);
  for (const v of vectors.api_key_vectors) {
    for (const text of [v.api_key, v.api_key.slice('kes:v1:'.length)]) {
      const key = parseApiKey(text);
      assert.equal(key.identity, v.identity);
      assert.equal(rawPublicKeyHex(key), v.ed25519_public_key_hex);
      assert.equal(key.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'), v.spki_der_hex);
      assert.equal(key.toString(), v.api_key);
      assert.equal(key.privateKey.type, 'private');
      assert.equal(key.privateKey.asymmetricKeyType, 'ed25519');
      assert.equal(identityOfPublicKey(key.privateKey), v.identity);
    }
  }
});

test('generateApiKey uses the random source as the seed', () => {
  for (const v of vectors.api_key_vectors) {
    const seed = Buffer.from(v.seed_hex, 'hex');
    const key = generateApiKey((n) => {
      assert.equal(n, 32);
      return Uint8Array.from(seed);
    });
    assert.equal(key.toString(), v.api_key);
    assert.equal(key.identity, v.identity);
  }
});

test('generated keys are distinct, round-trip and sign', () => {
  const a = generateApiKey();
  const b = generateApiKey();
  assert.notEqual(a.toString(), b.toString());
  assert.notEqual(a.identity, b.identity);
  assert.match(a.toString(), /^kes:v1:[A-Za-z0-9+/]{44}$/);
  const again = parseApiKey(a.toString());
  assert.equal(again.identity, a.identity);
  const msg = Buffer.from('message');
  assert.equal(verify(null, msg, again.publicKey, sign(null, msg, a.privateKey)), true);
  assert.equal(verify(null, msg, b.publicKey, sign(null, msg, a.privateKey)), false);
});

test('the seed does not leak through inspect or JSON', () => {
  const key = parseApiKey(vectors.api_key_vectors[0].api_key);
  const b64 = vectors.api_key_vectors[0].api_key.slice('kes:v1:'.length);
  for (const out of [inspect(key, { showHidden: true }), JSON.stringify(key), `${JSON.stringify({ key })}`]) {
    assert.ok(!out.includes(b64), 'api key text leaked');
    assert.ok(!out.includes(vectors.api_key_vectors[0].seed_hex), 'seed leaked');
    assert.ok(out.includes(key.identity));
  }
});

test('invalid api keys are rejected without echoing the input', () => {
  const seed = Buffer.alloc(32, 0x5a);
  const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
  const cases: Array<{ name: string; text: string; why: RegExp }> = [
    { name: 'empty', text: '', why: /length/ },
    { name: 'prefix only', text: 'kes:v1:', why: /length/ },
    { name: 'too short', text: 'kes:v1:' + b64(Buffer.concat([Uint8Array.of(0), seed.subarray(1)])), why: /length/ },
    { name: 'too long', text: 'kes:v1:' + b64(Buffer.concat([Uint8Array.of(0), seed, Uint8Array.of(1)])), why: /length/ },
    { name: 'wrong type', text: 'kes:v1:' + b64(Buffer.concat([Uint8Array.of(1), seed])), why: /type/ },
    { name: 'not base64', text: 'kes:v1:' + '!'.repeat(44), why: /base64/ },
    { name: 'url-safe alphabet', text: 'kes:v1:AGaV6VXHasF0FnaB60WdCOeTZ8eTIDikL4zlN16c8NA_', why: /base64/ },
    { name: 'missing padding', text: 'kes:v1:' + b64(Buffer.concat([Uint8Array.of(0), seed, Uint8Array.of(1)])).replace(/=+$/, ''), why: /base64/ },
    { name: 'wrong version prefix', text: 'kes:v2:' + b64(Buffer.concat([Uint8Array.of(0), seed])), why: /base64/ },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseApiKey(c.text),
      (err: unknown) => {
        assert.ok(err instanceof ApiKeyError, c.name);
        assert.equal(err.code, 'INVALID_API_KEY');
        assert.match(err.message, c.why, c.name);
        const body = c.text.replace(/^kes:v\d:/, '');
        if (body.length > 0) assert.ok(!err.message.includes(body), `${c.name}: message echoes the key`);
        return true;
      },
      c.name,
    );
  }
});
