import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsKeyStore, MAX_VALUE_SIZE } from '../../src/keystore/fs.ts';
import { isKeyStoreError } from '../../src/keystore/errors.ts';
import type { KeyStoreErrorCode } from '../../src/keystore/errors.ts';
import { keystoreSuite } from '../support/keystore-suite.ts';

const storeModule = new URL('../../src/keystore/fs.ts', import.meta.url).href;

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kes-fs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function code(expected: KeyStoreErrorCode): (err: unknown) => boolean {
  return (err) => isKeyStoreError(err, expected);
}

keystoreSuite('fs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kes-fs-suite-'));
  const store = await FsKeyStore.open(dir);
  // The suite closes the store; the directory goes with it.
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await rm(dir, { recursive: true, force: true });
  };
  return store;
});

test('fs: open creates a missing directory (with parents) with mode 0755', async (t) => {
  const root = await tempDir(t);
  const dir = join(root, 'a', 'keys');
  const store = await FsKeyStore.open(dir);
  const s = await stat(dir);
  assert.ok(s.isDirectory());
  assert.equal(s.mode & 0o777, 0o755 & ~process.umask());
  assert.equal(store.toString(), `fs: ${dir}`);
});

test('fs: the constructor creates the directory on first create', async (t) => {
  const dir = join(await tempDir(t), 'later');
  const store = new FsKeyStore(dir);
  await assert.rejects(store.status(), code('UNAVAILABLE'));
  assert.deepEqual(await store.list('', 0), { names: [], continueAt: '' });
  await store.create('k', new TextEncoder().encode('v'));
  assert.ok((await store.status()).latencyMs >= 0);
});

test('fs: one file per key, named after the key, mode 0600, no temporary file left', async (t) => {
  const dir = await tempDir(t);
  const store = await FsKeyStore.open(dir);
  await store.create('my-key', new TextEncoder().encode('text'));
  assert.deepEqual(await readdir(dir), ['my-key']);
  assert.equal((await stat(join(dir, 'my-key'))).mode & 0o777, 0o600);
});

test('fs: invalid names are rejected with INVALID_NAME by every operation', async (t) => {
  const store = await FsKeyStore.open(await tempDir(t));
  for (const name of ['', '.', '..', 'a.b', 'a/b', '../x', 'a\\b', '/etc', 'a\0b']) {
    await assert.rejects(store.create(name, new Uint8Array(1)), code('INVALID_NAME'), JSON.stringify(name));
    await assert.rejects(store.get(name), code('INVALID_NAME'), JSON.stringify(name));
    await assert.rejects(store.delete(name), code('INVALID_NAME'), JSON.stringify(name));
  }
});

test('fs: list ignores temporary files, dot files and directories', async (t) => {
  const dir = await tempDir(t);
  const store = await FsKeyStore.open(dir);
  await store.create('k1', new Uint8Array([1]));
  await writeFile(join(dir, '.kes-tmp-0123'), 'partial');
  await writeFile(join(dir, 'x.bak'), 'backup');
  await mkdir(join(dir, 'sub'));
  assert.deepEqual((await store.list('', 0)).names, ['k1']);
});

test('fs: reads are capped at 1 MiB', async (t) => {
  const dir = await tempDir(t);
  const store = await FsKeyStore.open(dir);
  await writeFile(join(dir, 'exact'), Buffer.alloc(MAX_VALUE_SIZE, 0x61));
  await writeFile(join(dir, 'big'), Buffer.alloc(MAX_VALUE_SIZE + 1, 0x61));
  assert.equal((await store.get('exact')).length, 1 << 20);
  await assert.rejects(store.get('big'), (err: unknown) => isKeyStoreError(err, 'FAILED') && /1 MiB/.test(err.message));
});

test('fs: status fails with UNAVAILABLE once the directory is gone', async (t) => {
  const dir = join(await tempDir(t), 'keys');
  const store = await FsKeyStore.open(dir);
  assert.ok((await store.status()).latencyMs >= 0);
  await rm(dir, { recursive: true });
  await assert.rejects(store.status(), code('UNAVAILABLE'));
});

test('fs: concurrent creates from separate processes never overwrite: exactly one wins', async (t) => {
  const dir = await tempDir(t);
  const procs = 8;
  const script = `
    const { FsKeyStore } = await import(${JSON.stringify(storeModule)});
    const store = new FsKeyStore(process.argv[1]);
    try { await store.create('shared', new TextEncoder().encode('proc-' + process.argv[2])); console.log('won'); }
    catch (err) { console.log(err.code); }`;
  const outputs = await Promise.all(
    Array.from({ length: procs }, (_, i) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir, String(i)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.on('error', reject);
        child.on('close', () => resolve(out.trim()));
      }),
    ),
  );
  const winners = outputs.flatMap((o, i) => (o === 'won' ? [i] : []));
  assert.equal(winners.length, 1, outputs.join(','));
  assert.deepEqual(outputs.filter((o) => o !== 'won'), Array(procs - 1).fill('KEY_EXISTS'));
  const store = new FsKeyStore(dir);
  assert.equal(new TextDecoder().decode(await store.get('shared')), `proc-${winners[0]}`);
  assert.deepEqual(await readdir(dir), ['shared']);
});
