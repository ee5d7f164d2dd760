import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorBody } from '../../src/http/errors.ts';
import { decodeBytes, decodeFields, encodeJson, formatTime, MaxNestingDepth, parseFirstValue } from '../../src/http/json.ts';
import { isValidName, isValidPattern } from '../../src/http/names.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

test('names and patterns (docs/protocol.md#names-and-patterns)', () => {
  for (const n of ['my-key', '0', '_-___---_', '_0', '0-Z', 'my_key-0', 'a'.repeat(80)]) assert.equal(isValidName(n), true, n);
  for (const n of ['', '_', 'my.key', 'key/', 'hel<lo', 'ä', 'a'.repeat(81), '-a', 'a-', '*']) assert.equal(isValidName(n), false, n);
  for (const p of ['', '*', 'my-key', 'my-key*', 'a*']) assert.equal(isValidPattern(p), true, p);
  for (const p of ['*-*', '_', '-a', 'a*b', 'a.b', 'a'.repeat(81)]) assert.equal(isValidPattern(p), false, p);
});

test('Go JSON decoding: case-insensitive keys, unknown ignored, first value only, strict base64', () => {
  const d = decodeFields(parseFirstValue(bytes('  {"CONTEXT":"AAE=","Plaintext":null,"x":[1]} {garbage')), { context: 'bytes', plaintext: 'bytes' });
  assert.deepEqual([...d.context], [0, 1]);
  assert.equal(d.plaintext.length, 0);
  assert.deepEqual([...decodeBytes('AA\r\nEC')], [0, 1, 2]);
  for (const bad of ['AAE', 'AA-_', 'A===', '====']) assert.throws(() => decodeBytes(bad), /base64/, bad);
  for (const body of ['', '   ', '{"a":', '[1', '"x']) assert.throws(() => parseFirstValue(bytes(body)), /JSON|empty/, body);
  assert.throws(() => decodeFields([1], { a: 'bytes' }), /object/);
  assert.throws(() => decodeFields({ a: 1 }, { a: 'bytes' }), /wrong type/);
  assert.deepEqual(decodeFields(null, { a: 'string' }), { a: '' });
});

test('one body rule: unknown fields ignored whatever their type, bytes as Go reads []byte, nesting bounded', () => {
  const unknown = decodeFields(parseFirstValue(bytes('{"version":1,"x":{"y":[true,null]},"context":"AAE="}')), { context: 'bytes' });
  assert.deepEqual([...unknown.context], [0, 1]);
  assert.deepEqual([...decodeFields({ plaintext: [104, 105, null] }, { plaintext: 'bytes' }).plaintext], [104, 105, 0]);
  for (const bad of [[256], [-1], [1.5], ['a'], [[1]]]) assert.throws(() => decodeFields({ plaintext: bad }, { plaintext: 'bytes' }), /wrong type/, JSON.stringify(bad));
  assert.throws(() => decodeFields({ cipher: [1] }, { cipher: 'string' }), /wrong type/);
  const nested = (depth: number): Uint8Array => bytes(`{"x":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`);
  assert.deepEqual(Object.keys(parseFirstValue(nested(MaxNestingDepth)) as object), ['x']);
  assert.throws(() => parseFirstValue(nested(MaxNestingDepth + 1)), /max depth/);
  assert.throws(() => parseFirstValue(nested(150_000)), /max depth/);
  // Brackets inside strings do not count.
  assert.deepEqual(parseFirstValue(bytes(`{"s":"${'['.repeat(MaxNestingDepth + 5)}"}`)), { s: '['.repeat(MaxNestingDepth + 5) });
});

test('Go JSON encoding and error body bytes', () => {
  assert.equal(encodeJson({ a: '<&>' }).toString(), '{"a":"\\u003c\\u0026\\u003e"}\n');
  assert.equal(errorBody('key does not exist').toString(), '{"message":"key does not exist"\n}');
  assert.equal(formatTime(new Date('2024-01-12T10:39:20.880Z')), '2024-01-12T10:39:20.88Z');
  assert.equal(formatTime(new Date('2024-01-12T10:39:20.000Z')), '2024-01-12T10:39:20Z');
});
