import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { renderKesConfig, minioPolicyAllow, goDuration, KES_VAULT_ROLE_ID_ENV, KES_VAULT_SECRET_ID_ENV } from '../../components/render/kes-config.ts';
import type { KesConfigArgs } from '../../components/render/kes-config.ts';
import { isRenderError } from '../../components/render/validate.ts';
import { parseConfig } from '../../kes-server/src/config/index.ts';

const ADMIN = 'a'.repeat(64);
const MINIO = 'b'.repeat(64);
const env = { [KES_VAULT_ROLE_ID_ENV]: 'role-id-value', [KES_VAULT_SECRET_ID_ENV]: 'secret-id-value' };

const vaultArgs: KesConfigArgs = {
  address: '0.0.0.0:7373',
  adminIdentity: ADMIN,
  tls: { keyFile: '/etc/kes/tls/server.key', certFile: '/etc/kes/tls/server.crt' },
  minioIdentity: MINIO,
  keyPatterns: ['minio-*'],
  keys: ['minio-default', 'bucket-a'],
  cache: { anyMs: 300_000, unusedMs: 60_000, offlineMs: 3_600_000 },
  log: { error: 'INFO', audit: 'off' },
  keystore: {
    kind: 'vault',
    endpoint: 'https://vault.example.net:8200',
    engine: 'kv-kes',
    version: 'v2',
    prefix: 'minio',
    namespace: 'team-a',
    approleEngine: 'approle-kes',
    tls: { caFile: '/etc/kes/tls/vault-ca.crt', keyFile: '/etc/kes/tls/vault.key', certFile: '/etc/kes/tls/vault.crt' },
  },
};

test('the vault config parses with the KES server parser and says what was asked', () => {
  const text = renderKesConfig(vaultArgs);
  const cfg = parseConfig(text, env);
  assert.equal(cfg.address, '0.0.0.0:7373');
  assert.equal(cfg.admin, ADMIN);
  assert.equal(cfg.tls.key, '/etc/kes/tls/server.key');
  assert.equal(cfg.tls.cert, '/etc/kes/tls/server.crt');
  assert.equal(cfg.tls.auth, false);
  const minio = cfg.policies.get('minio');
  assert.ok(minio, 'policy minio');
  assert.deepEqual(minio.identities, [MINIO]);
  assert.deepEqual([...minio.allow].sort(), [
    '/v1/api',
    '/v1/key/create/minio-*',
    '/v1/key/decrypt/minio-*',
    '/v1/key/describe/minio-*',
    '/v1/key/generate/minio-*',
    '/v1/key/list/*',
    '/v1/metrics',
    '/v1/status',
  ]);
  assert.deepEqual(minio.deny, []);
  assert.equal(cfg.policies.size, 1);
  assert.equal(cfg.api.get('/v1/ready')?.skipAuth, true);
  assert.deepEqual(cfg.cache, { anyMs: 300_000, unusedMs: 60_000, offlineMs: 3_600_000 });
  assert.deepEqual([...cfg.keys].sort(), ['bucket-a', 'minio-default']);
  assert.equal(cfg.log.error, 0);
  assert.equal(cfg.log.audit, 9);
  assert.equal(cfg.keystore.kind, 'vault');
  if (cfg.keystore.kind !== 'vault') return;
  const o = cfg.keystore.options;
  assert.equal(o.endpoint, 'https://vault.example.net:8200');
  assert.equal(o.engine, 'kv-kes');
  assert.equal(o.version, 'v2');
  assert.equal(o.prefix, 'minio');
  assert.equal(o.namespace, 'team-a');
  assert.deepEqual(o.approle && { engine: o.approle.engine, id: o.approle.id, secret: o.approle.secret }, {
    engine: 'approle-kes',
    id: 'role-id-value',
    secret: 'secret-id-value',
  });
  assert.deepEqual(o.tls, { key: '/etc/kes/tls/vault.key', cert: '/etc/kes/tls/vault.crt', ca: '/etc/kes/tls/vault-ca.crt' });
});

test('no AppRole credential is written into the file: the parser needs the environment', () => {
  const text = renderKesConfig(vaultArgs);
  assert.ok(!text.includes('role-id-value') && !text.includes('secret-id-value'));
  assert.throws(() => parseConfig(text, {}), /KES_VAULT_ROLE_ID|KES_VAULT_SECRET_ID/);
});

test('client certificate verification adds tls.auth and tls.ca', () => {
  const cfg = parseConfig(renderKesConfig({ ...vaultArgs, tls: { ...vaultArgs.tls, clientCaFile: '/etc/kes/tls/ca.crt' } }), env);
  assert.equal(cfg.tls.auth, true);
  assert.equal(cfg.tls.ca, '/etc/kes/tls/ca.crt');
});

test('root credential derivation adds exactly the hmac route', () => {
  const without = minioPolicyAllow(['*'], false);
  const withHmac = minioPolicyAllow(['*'], true);
  assert.deepEqual(withHmac.filter((p) => !without.includes(p)), ['/v1/key/hmac/*']);
  assert.ok(!without.some((p) => p.includes('/v1/key/delete') || p.includes('/v1/key/import') || p.includes('/v1/policy') || p.includes('/v1/identity')));
});

test('the fs variant parses and defaults apply', () => {
  const cfg = parseConfig(renderKesConfig({ adminIdentity: ADMIN, tls: vaultArgs.tls, minioIdentity: MINIO, keystore: { kind: 'fs', path: '/var/lib/kes' } }), {});
  assert.deepEqual(cfg.keystore, { kind: 'fs', path: '/var/lib/kes' });
  assert.equal(cfg.address, '0.0.0.0:7373');
  assert.deepEqual(cfg.cache, { anyMs: 300_000, unusedMs: 30_000, offlineMs: 0 });
  assert.deepEqual(cfg.policies.get('minio')?.allow.filter((p: string) => p.startsWith('/v1/key/generate')), ['/v1/key/generate/*']);
});

test('rendering is deterministic with sorted keys', () => {
  const a = renderKesConfig(vaultArgs);
  const b = renderKesConfig({ ...vaultArgs, keys: [...(vaultArgs.keys ?? [])].reverse() });
  assert.equal(a, b);
  const top = Object.keys(parse(a) as Record<string, unknown>);
  assert.deepEqual(top, [...top].sort());
});

test('goDuration writes Go duration text', () => {
  assert.deepEqual([0, 250, 30_000, 300_000, 7_200_000, 90_500].map(goDuration), ['0s', '250ms', '30s', '5m', '2h', '90500ms']);
});

const errors: Array<{ name: string; patch: Partial<KesConfigArgs>; field: string }> = [
  { name: 'MinIO identity not hex', patch: { minioIdentity: 'minio' }, field: 'minioIdentity' },
  { name: 'MinIO identity equal to admin', patch: { minioIdentity: ADMIN }, field: 'minioIdentity' },
  { name: 'host name as address', patch: { address: 'kes.local:7373' }, field: 'address' },
  { name: 'invalid key name', patch: { keys: ['bad.name'] }, field: 'keys[0]' },
  { name: 'duplicate keys', patch: { keys: ['a', 'a'] }, field: 'keys' },
  { name: 'star inside pattern', patch: { keyPatterns: ['a*b'] }, field: 'keyPatterns' },
  { name: 'negative cache', patch: { cache: { anyMs: -1 } }, field: 'cache.anyMs' },
  { name: 'bad log level', patch: { log: { error: 'LOUD' } }, field: 'log.error' },
  { name: 'vault version v3', patch: { keystore: { kind: 'vault', endpoint: 'https://v:8200', version: 'v3' as 'v1' } }, field: 'keystore.version' },
  { name: 'vault key without cert', patch: { keystore: { kind: 'vault', endpoint: 'https://v:8200', tls: { keyFile: '/k' } } }, field: 'keystore.tls' },
];
for (const c of errors) {
  test(`renderKesConfig rejects ${c.name}`, () => {
    assert.throws(() => renderKesConfig({ ...vaultArgs, ...c.patch }), (e: unknown) => isRenderError(e) && e.field === c.field);
  });
}
