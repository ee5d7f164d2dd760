import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listPage, byteOrder } from '../../src/keystore/keystore.ts';
import { MemKeyStore } from '../../src/keystore/mem.ts';
import { keystoreSuite } from '../support/keystore-suite.ts';

keystoreSuite('mem', async () => new MemKeyStore());

test('mem: status reports the fixed latency of 1 ms', async () => {
  assert.deepEqual(await new MemKeyStore().status(), { latencyMs: 1 });
  assert.equal(new MemKeyStore().toString(), 'mem');
});

test('mem: a listing taken before a write is not changed by it (copy-on-write)', async () => {
  const store = new MemKeyStore();
  await store.create('a', new Uint8Array([1]));
  const before = await store.list('', 0);
  await store.create('b', new Uint8Array([2]));
  await store.delete('a');
  assert.deepEqual(before.names, ['a']);
  assert.deepEqual((await store.list('', 0)).names, ['b']);
});

test('listPage: byte order, prefix filter and paging', () => {
  const cases = [
    { names: ['b', 'a', 'B', '_', '-'], prefix: '', n: 0, want: { names: ['-', 'B', '_', 'a', 'b'], continueAt: '' } },
    { names: ['b', 'a', 'c'], prefix: '', n: 2, want: { names: ['a', 'b'], continueAt: 'c' } },
    { names: ['k1', 'k2', 'x1'], prefix: 'k', n: -1, want: { names: ['k1', 'k2'], continueAt: '' } },
    { names: ['k1', 'k2', 'x1'], prefix: 'k', n: 2, want: { names: ['k1', 'k2'], continueAt: '' } },
    { names: ['k1', 'k2', 'k3'], prefix: 'k', n: 1, want: { names: ['k1'], continueAt: 'k2' } },
    { names: [], prefix: 'k', n: 5, want: { names: [], continueAt: '' } },
  ];
  for (const c of cases) assert.deepEqual(listPage(c.names, c.prefix, c.n), c.want, JSON.stringify(c));
  // UTF-16 code units order U+E000 after U+1F600 (0xE000 > 0xD83D); UTF-8 bytes do not (EE < F0).
  assert.ok(byteOrder('\u{E000}', '\u{1F600}') < 0);
});
