/** The one-block HMAC-SHA-256 used for AES256 subkeys, against RFC 4231 and node:crypto. */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { hmacKeyState, hmacSha256, MAX_MESSAGE_SIZE } from '../../src/crypto/hmac-sha256.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('RFC 4231 test case 2 (a 4-byte key)', () => {
  const mac = hmacSha256(hmacKeyState(Buffer.from('Jefe')), Buffer.from('what do ya want for nothing?'));
  assert.equal(hex(mac), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
});

test('equals node:crypto for every key length up to 64 bytes and every message length up to 55', () => {
  for (let k = 0; k <= 64; k++) {
    const key = randomBytes(k);
    const state = hmacKeyState(key);
    for (let m = 0; m <= MAX_MESSAGE_SIZE; m++) {
      const message = randomBytes(m);
      assert.equal(hex(hmacSha256(state, message)), createHmac('sha256', key).update(message).digest('hex'), `key ${k} bytes, message ${m} bytes`);
    }
  }
});

test('the key state is reusable: the same key and message give the same MAC after other MACs', () => {
  const state = hmacKeyState(randomBytes(32));
  const iv = randomBytes(16);
  const first = hex(hmacSha256(state, iv));
  hmacSha256(state, randomBytes(16));
  assert.equal(hex(hmacSha256(state, iv)), first);
});

test('longer keys and messages are refused, not hashed wrongly', () => {
  assert.throws(() => hmacKeyState(new Uint8Array(65)), RangeError);
  assert.throws(() => hmacSha256(hmacKeyState(new Uint8Array(32)), new Uint8Array(MAX_MESSAGE_SIZE + 1)), RangeError);
});
