/**
 * The TypeScript `kes-server` process with `keystore.vault` on a real OpenBao, driven over its
 * HTTP API: every key operation for K/V v1 and v2, with and without prefix and namespace (Vault
 * provisioned with the policy and role of components/render/vault.ts); two processes sharing one
 * Vault; a process restart; many concurrent creates of one name across two processes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KesVaultLayout } from '../../components/render/vault.ts';
import { Pki } from '../../sandbox/deployment.ts';
import type { KesProcess } from '../../sandbox/kes-process.ts';
import { startOpenBao, type OpenBao } from '../../sandbox/openbao.ts';
import { asAdmin, b64, secretPath, startVaultKes, storedFields } from './kes-server.ts';
import { provisionKes } from '../../sandbox/openbao-provision.ts';

let bao: OpenBao;
let dir: string;
let pki: Pki;
before(async () => {
  bao = await startOpenBao();
  dir = mkdtempSync(join(tmpdir(), 'vault-kes-http-'));
  pki = new Pki(join(dir, 'pki'));
});
after(async () => {
  await bao?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const layouts: Array<{ title: string; layout: KesVaultLayout; namespace: string }> = [
  { title: 'kv v1, no prefix', layout: { engine: 'h1', version: 'v1', prefix: '' }, namespace: '' },
  { title: 'kv v2, prefix', layout: { engine: 'h2p', version: 'v2', prefix: 'kes/keys' }, namespace: '' },
  { title: 'kv v1, prefix, namespace', layout: { engine: 'h1n', version: 'v1', prefix: 'kes' }, namespace: 'http-ns1' },
  { title: 'kv v2, no prefix, namespace', layout: { engine: 'h2n', version: 'v2', prefix: '' }, namespace: 'http-ns2' },
];

const message = (text: string) => ({ message: text });

for (const { title, layout, namespace } of layouts) {
  describe(`kes-server over HTTP, vault ${title}`, () => {
    let kes: KesProcess;
    const ns = { namespace };
    before(async () => {
      const p = await provisionKes(bao, { layout, namespace, name: `kes-${layout.engine}` });
      kes = await startVaultKes({
        dir,
        pki,
        name: `kes-${layout.engine}`,
        vaultAddress: bao.address,
        credentials: p,
        layout,
        namespace,
        workers: 2,
      });
    });
    after(() => kes?.stop());

    test('create, import, describe, list, generate, decrypt, delete', async () => {
      const call = (method: string, path: string, body?: unknown) => asAdmin(kes, pki, method, path, body);

      assert.equal((await call('PUT', '/v1/key/create/made')).status, 200);
      const again = await call('PUT', '/v1/key/create/made');
      assert.deepEqual([again.status, again.json], [400, message('key already exists')]);
      const made = await bao.requestOk('GET', secretPath(layout, 'made'), undefined, ns);
      assert.deepEqual(Object.keys(storedFields(layout, made.body)), ['made'], 'one field named like the key');

      const material = randomBytes(32);
      assert.equal((await call('PUT', '/v1/key/import/imported', { key: b64(material), cipher: 'AES256' })).status, 200);
      const reimport = await call('PUT', '/v1/key/import/imported', { key: b64(randomBytes(32)), cipher: 'AES256' });
      assert.deepEqual([reimport.status, reimport.json], [400, message('key already exists')]);
      // docs/protocol.md#stored-keys: base64 of a protobuf whose field 1 is { 1: key bytes, 2: type 1 (AES256) }
      const stored = storedFields(layout, (await bao.requestOk('GET', secretPath(layout, 'imported'), undefined, ns)).body);
      const bytes = Buffer.from(String(stored.imported), 'base64');
      assert.deepEqual([...bytes.subarray(0, 4)], [0x0a, 0x24, 0x0a, 0x20]);
      assert.deepEqual(bytes.subarray(4, 36), material, 'the imported key material is what Vault holds');
      assert.deepEqual([...bytes.subarray(36, 38)], [0x10, 0x01]);

      for (const name of ['made', 'imported']) {
        const d = await call('GET', `/v1/key/describe/${name}`);
        assert.equal(d.status, 200);
        assert.equal(d.json.name, name);
        assert.equal(d.json.algorithm, 'AES256');
        assert.equal(d.json.created_by, pki.admin.identity);
        assert.ok(Math.abs(Date.parse(d.json.created_at) - Date.now()) < 120_000, d.json.created_at);
      }
      const listed = await call('GET', '/v1/key/list/*');
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.json.names, ['imported', 'made']);
      assert.deepEqual((await call('GET', '/v1/key/list/imp')).json.names, ['imported']);

      const context = b64(Buffer.from('bucket/object'));
      for (const name of ['made', 'imported']) {
        const dek = await call('PUT', `/v1/key/generate/${name}`, { context });
        assert.equal(dek.status, 200);
        assert.equal(Buffer.from(dek.json.plaintext, 'base64').length, 32);
        const out = await call('PUT', `/v1/key/decrypt/${name}`, { ciphertext: dek.json.ciphertext, context });
        assert.deepEqual([out.status, out.json?.plaintext], [200, dek.json.plaintext]);
        const wrong = await call('PUT', `/v1/key/decrypt/${name}`, { ciphertext: dek.json.ciphertext, context: b64(Buffer.from('other')) });
        assert.deepEqual([wrong.status, wrong.json], [400, message('decryption failed: ciphertext is not authentic')]);
      }

      assert.equal((await call('DELETE', '/v1/key/delete/made')).status, 200);
      assert.equal((await bao.request('GET', secretPath(layout, 'made'), undefined, ns)).status, 404, 'the secret is gone from Vault');
      // Right after the delete, on both workers (one connection per request, round-robin): the
      // generate and decrypt calls above put the key in the cache of each.
      const gone = await call('GET', '/v1/key/describe/made');
      assert.deepEqual([gone.status, gone.json], [404, message('key does not exist')]);
      const generateGone = await call('PUT', '/v1/key/generate/made', {});
      assert.deepEqual([generateGone.status, generateGone.json], [404, message('key does not exist')]);
      // docs/protocol.md#vault-errors: deleting a missing key succeeds with the Vault store
      assert.equal((await call('DELETE', '/v1/key/delete/never-existed')).status, 200);
      assert.deepEqual((await call('GET', '/v1/key/list/*')).json.names, ['imported']);
      // the name can be used again after a delete
      assert.equal((await call('PUT', '/v1/key/create/made')).status, 200);
    });
  });
}

for (const version of ['v1', 'v2'] as const) {
  describe(`two kes-server processes on one OpenBao (kv ${version}), and a restart`, () => {
    const layout: KesVaultLayout = { engine: `shared${version}`, version, prefix: 'kes' };
    let a: KesProcess;
    let b: KesProcess;
    before(async () => {
      const p = await provisionKes(bao, { layout, name: `kes-shared${version}` });
      const common = { dir, pki, vaultAddress: bao.address, credentials: p, layout };
      [a, b] = await Promise.all([startVaultKes({ ...common, name: `a-${version}` }), startVaultKes({ ...common, name: `b-${version}` })]);
    });
    after(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
    });
    const call = (kes: KesProcess, method: string, path: string, body?: unknown) => asAdmin(kes, pki, method, path, body);

    test('each process sees and uses the keys of the other', async () => {
      assert.equal((await call(a, 'PUT', '/v1/key/create/from-a')).status, 200);
      assert.equal((await call(b, 'PUT', '/v1/key/import/from-b', { key: b64(randomBytes(32)), cipher: 'AES256' })).status, 200);
      assert.equal((await call(b, 'GET', '/v1/key/describe/from-a')).json?.name, 'from-a');
      assert.equal((await call(b, 'PUT', '/v1/key/create/from-a')).json?.message, 'key already exists');
      for (const [maker, user, name] of [[a, b, 'from-a'], [b, a, 'from-b']] as const) {
        const dek = await call(maker, 'PUT', `/v1/key/generate/${name}`, {});
        const out = await call(user, 'PUT', `/v1/key/decrypt/${name}`, { ciphertext: dek.json.ciphertext });
        assert.deepEqual([out.status, out.json?.plaintext], [200, dek.json.plaintext], `${name}: decrypted by the other process`);
      }
      for (const kes of [a, b]) assert.deepEqual((await call(kes, 'GET', '/v1/key/list/from*')).json?.names, ['from-a', 'from-b']);
      assert.equal((await call(b, 'DELETE', '/v1/key/delete/from-a')).status, 200);
      // list goes to Vault every time; a's cache may still hold the key (docs/protocol.md#key-cache: eventual consistency)
      assert.deepEqual((await call(a, 'GET', '/v1/key/list/from*')).json?.names, ['from-b']);
    });

    test('20 concurrent creates of one name across both processes: one 200, the rest 400 key already exists', async () => {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => call(i % 2 === 0 ? a : b, 'PUT', '/v1/key/create/contended')));
      const statuses = answers.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, ...Array<number>(19).fill(400)]);
      for (const r of answers.filter((x) => x.status === 400)) assert.deepEqual(r.json, message('key already exists'));
      if (version === 'v2') {
        const meta = await bao.requestOk('GET', `${layout.engine}/metadata/kes/contended`);
        assert.deepEqual(Object.keys(meta.body.data.versions), ['1']);
      }
      const raw = await bao.requestOk('GET', secretPath(layout, 'contended'));
      assert.deepEqual(Object.keys(storedFields(layout, raw.body)), ['contended']);
    });

    test('a restarted process loses nothing: old ciphertexts decrypt, keys list and cannot be created again', async () => {
      assert.equal((await call(a, 'PUT', '/v1/key/create/before-restart')).status, 200);
      const context = b64(Buffer.from('ctx'));
      const dek = await call(a, 'PUT', '/v1/key/generate/before-restart', { context });
      assert.equal(dek.status, 200);
      const names = (await call(a, 'GET', '/v1/key/list/*')).json.names;
      const pid = a.process?.pid;
      await a.restart();
      assert.notEqual(a.process?.pid, pid, 'a new process');
      const out = await call(a, 'PUT', '/v1/key/decrypt/before-restart', { ciphertext: dek.json.ciphertext, context });
      assert.deepEqual([out.status, out.json?.plaintext], [200, dek.json.plaintext]);
      assert.deepEqual((await call(a, 'GET', '/v1/key/list/*')).json.names, names);
      assert.equal((await call(a, 'PUT', '/v1/key/create/before-restart')).json?.message, 'key already exists');
      assert.equal((await call(a, 'GET', '/v1/key/describe/from-b')).status, 200);
    });
  });
}
