import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOpenBao } from '../../../sandbox/openbao.ts';
import { KeyCache } from '../../src/cache/key-cache.ts';
import { connectKeyStore, parseConfig } from '../../src/config/index.ts';
import { decrypt, encrypt, generateKeyVersion } from '../../src/crypto/key.ts';

const CONFIG = `
admin:
  identity: disabled
tls:
  key: server.key
  cert: server.cert
keystore:
  vault:
    endpoint: \${VAULT_ADDR}
    engine: kes-kv
    version: v2
    prefix: cfg-test
    approle:
      id: \${ROLE_ID}
      secret: \${SECRET_ID}
`;

test('a vault config connects to a real OpenBao with AppRole and stores keys there', async (t) => {
  const bao = await startOpenBao();
  t.after(() => bao.stop());
  await bao.requestOk('POST', 'sys/mounts/kes-kv', { type: 'kv', options: { version: '2' } });
  const policy = 'path "kes-kv/*" { capabilities = ["create", "read", "update", "delete", "list"] }';
  await bao.requestOk('PUT', 'sys/policies/acl/kes-cfg', { policy });
  await bao.requestOk('POST', 'sys/auth/approle', { type: 'approle' });
  await bao.requestOk('POST', 'auth/approle/role/kes-cfg', { token_policies: ['kes-cfg'], token_ttl: '1h' });
  const roleId: string = (await bao.requestOk('GET', 'auth/approle/role/kes-cfg/role-id')).body.data.role_id;
  const secretId: string = (await bao.requestOk('POST', 'auth/approle/role/kes-cfg/secret-id', {})).body.data.secret_id;

  const cfg = parseConfig(CONFIG, { VAULT_ADDR: bao.address, ROLE_ID: roleId, SECRET_ID: secretId });
  const store = await connectKeyStore(cfg.keystore);
  const cache = new KeyCache(store, cfg.cache);
  t.after(() => cache.close());

  const kv = generateKeyVersion('admin');
  await cache.create('cfg-key', kv);
  const stored = await bao.requestOk('GET', 'kes-kv/data/cfg-test/cfg-key');
  assert.equal(typeof stored.body.data.data['cfg-key'], 'string');
  const back = await cache.get('cfg-key');
  assert.deepEqual(back, kv);
  const ctx = new TextEncoder().encode('{"bucket":"bucket/object"}');
  const dek = new Uint8Array(32).fill(5);
  assert.deepEqual(decrypt(back, encrypt(kv, dek, ctx), ctx), dek);
  assert.deepEqual((await cache.list('cfg-', 0)).names, ['cfg-key']);

  const wrong = parseConfig(CONFIG, { VAULT_ADDR: bao.address, ROLE_ID: roleId, SECRET_ID: 'not-the-secret-id' });
  await assert.rejects(connectKeyStore(wrong.keystore), (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.ok(!err.message.includes('not-the-secret-id') && !err.message.includes(secretId), err.message);
    return true;
  });
});
