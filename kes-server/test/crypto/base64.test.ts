/** Strict padded standard base64, as Go's StdEncoding decodes it. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { decodeBase64 } from '../../src/crypto/base64.ts';

/** The grammar written as a regular expression: the reference the decoder must agree with. */
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const reference = (text: string): string | undefined => {
  const clean = text.replace(/[\r\n]/g, '');
  return STD_BASE64.test(clean) ? Buffer.from(clean, 'base64').toString('hex') : undefined;
};
const hexOf = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString('hex'));

test('fixed cases: padding, line breaks, other alphabets and characters', () => {
  assert.equal(hexOf(decodeBase64('')), '');
  assert.equal(hexOf(decodeBase64('YWJj')), '616263');
  assert.equal(hexOf(decodeBase64('YQ==')), '61');
  assert.equal(hexOf(decodeBase64('YWI=')), '6162');
  assert.equal(hexOf(decodeBase64('YW\r\nI=\n')), '6162');
  for (const bad of ['=', '==', 'A===', '====', 'YWI', 'Y', 'YQ=', 'YQ=A', '=YWJ', 'YWJj====', '_-8=', 'YW I=', 'YWJ\u00ff', 'YWJ\u0100', 'YWJ\u{1f600}', 'YW=j']) {
    assert.equal(decodeBase64(bad), undefined, JSON.stringify(bad));
  }
});

test('agrees with the grammar on random valid and mutated texts', () => {
  const chars = '+/=A-_\n\r .\u00e9';
  for (let i = 0; i < 5000; i++) {
    const valid = randomBytes(i % 48).toString('base64');
    assert.equal(hexOf(decodeBase64(valid)), reference(valid), valid);
    if (valid.length === 0) continue;
    const mutated = valid.slice(0, i % valid.length) + chars[i % chars.length] + valid.slice((i % valid.length) + (i % 2));
    assert.equal(hexOf(decodeBase64(mutated)), reference(mutated), JSON.stringify(mutated));
  }
});

test('a decoded value has memory of its own', () => {
  const a = decodeBase64('YWJj')!;
  const b = decodeBase64('YWJj')!;
  a[0] = 0;
  assert.equal(b[0], 0x61);
  assert.equal(a.byteLength, a.buffer.byteLength);
});
