import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, connectKeyStore, loadConfig, parseConfig } from '../../src/config/index.ts';
import type { ServerConfig } from '../../src/config/index.ts';
import { FsKeyStore } from '../../src/keystore/fs.ts';
import { MemKeyStore } from '../../src/keystore/mem.ts';

const fixture = (name: string) => new URL(`../fixtures/config/${name}`, import.meta.url);
const read = (name: string) => readFileSync(fixture(name), 'utf8');

const ADMIN = '3ecfcdf38fcbe141ae26a1030f81e96b753365a46760ae6b578698a97c59fd22';
const MINIO = 'ea9826089311fe44d7590408ede9150f7c637b6cab0a91ee6fe1aa5d9fb366f6';
const fullEnv = {
  KES_ADMIN_IDENTITY: ADMIN,
  MINIO_IDENTITY: MINIO,
  EXTRA_KEY: 'extra-key',
  VAULT_APPROLE_ID: 'role-id-value',
  VAULT_APPROLE_SECRET: 'secret-id-value',
};

function plain(cfg: ServerConfig) {
  return { ...cfg, policies: Object.fromEntries(cfg.policies), api: Object.fromEntries(cfg.api) };
}

test('full.yml: every section is read, with substitution and defaults', () => {
  const cfg = parseConfig(read('full.yml'), fullEnv);
  assert.deepEqual(plain(cfg), {
    address: '127.0.0.1:7373',
    admin: ADMIN,
    tls: {
      key: './server.key',
      cert: './server.cert',
      password: '',
      auth: true,
      ca: './ca.cert',
      proxy: {
        identities: ['9a8b7c6d5e4f3a2b1c0d9a8b7c6d5e4f3a2b1c0d9a8b7c6d5e4f3a2b1c0d9a8b'],
        header: 'X-Forwarded-Client-Cert',
      },
    },
    policies: {
      minio: {
        allow: [
          '/v1/key/create/minio-*',
          '/v1/key/generate/minio-*',
          '/v1/key/decrypt/minio-*',
          '/v1/key/describe/${NOT_SUBSTITUTED}',
        ],
        deny: ['/v1/key/generate/minio-internal'],
        identities: [MINIO, '0f6ff4e49c1c8a3c3c1cd3e0e1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4'],
      },
      ops: { allow: ['/v1/status', '/v1/metrics'], deny: [], identities: [] },
      empty: { allow: [], deny: [], identities: [] },
    },
    cache: { anyMs: 300_000, unusedMs: 20_000, offlineMs: 5_400_000 },
    api: {
      '/v1/ready': { skipAuth: true, timeoutMs: 15_000 },
      '/v1/status': { skipAuth: false, timeoutMs: 2500 },
      '/v1/key/create/': { skipAuth: false, timeoutMs: 0 },
    },
    log: { error: 4, audit: 9 },
    keys: ['minio-default-key', 'extra-key'],
    keystore: {
      kind: 'vault',
      options: {
        endpoint: 'https://127.0.0.1:8200',
        engine: 'secrets',
        version: 'v2',
        namespace: 'team-a',
        prefix: 'kes',
        approle: { engine: 'kes-approle', namespace: '/', id: 'role-id-value', secret: 'secret-id-value' },
        transit: { engine: 'transit-kes', key: 'kes-wrap' },
        tls: { key: './vault-client.key', cert: './vault-client.cert', ca: './vault-ca.cert' },
        statusPingMs: 10_000,
      },
    },
  });
});

test('legacy.yml: root as admin, ignored legacy keys, kubernetes login, vault defaults', () => {
  const cfg = parseConfig(read('legacy.yml'), {});
  assert.equal(cfg.admin, ADMIN);
  assert.equal(cfg.address, '0.0.0.0:7373');
  assert.deepEqual(cfg.tls.proxy, { identities: [], header: 'X-Tls-Client-Cert' });
  assert.equal(cfg.tls.auth, false);
  assert.deepEqual(Object.fromEntries(cfg.policies), {
    'my-app': {
      allow: ['/v1/key/generate/my-app-*'],
      deny: [],
      identities: ['40235905b7b83e0537a002db523cd019d6709b899adc249c957860cd00fa9f78'],
    },
  });
  // `any: 5m` without `unused`: the upstream default quirk sets any to 30s (docs/protocol.md#config-cache).
  assert.deepEqual(cfg.cache, { anyMs: 30_000, unusedMs: 0, offlineMs: 0 });
  assert.deepEqual(cfg.log, { error: 0, audit: 0 });
  assert.deepEqual(cfg.keys, []);
  assert.deepEqual(cfg.keystore, {
    kind: 'vault',
    options: {
      endpoint: 'https://vault.example.net:8200',
      engine: 'kv',
      version: 'v1',
      namespace: '',
      prefix: 'my-kes',
      kubernetes: {
        engine: 'kubernetes',
        namespace: '',
        role: 'kes',
        jwt: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJrZXMifQ.c2lnbmF0dXJl',
      },
      tls: { key: '', cert: '', ca: '' },
      statusPingMs: 15_000,
    },
  });
});

test('minimal-fs.yml: defaults everywhere', () => {
  const cfg = parseConfig(read('minimal-fs.yml'), {});
  assert.deepEqual(plain(cfg), {
    address: '0.0.0.0:7373',
    admin: 'disabled',
    tls: {
      key: 'server.key',
      cert: 'server.cert',
      password: '',
      auth: false,
      ca: '',
      proxy: { identities: [], header: 'X-Tls-Client-Cert' },
    },
    policies: {},
    cache: { anyMs: 30_000, unusedMs: 0, offlineMs: 0 },
    api: {},
    log: { error: 0, audit: 0 },
    keys: [],
    keystore: { kind: 'fs', path: './keys' },
  });
});

test('cache defaults: any 0 → 5m unless unused is also 0 (then 30s)', () => {
  const base = read('minimal-fs.yml');
  const cases: Array<[string, { anyMs: number; unusedMs: number; offlineMs: number }]> = [
    ['', { anyMs: 30_000, unusedMs: 0, offlineMs: 0 }],
    ['cache:\n  expiry:\n    unused: 30s\n', { anyMs: 300_000, unusedMs: 30_000, offlineMs: 0 }],
    ['cache:\n  expiry:\n    any: 1m\n    unused: 10s\n    offline: 0s\n', { anyMs: 60_000, unusedMs: 10_000, offlineMs: 0 }],
    ['cache:\n  expiry:\n    any: 1m\n    offline: 1h\n', { anyMs: 30_000, unusedMs: 0, offlineMs: 3_600_000 }],
  ];
  for (const [extra, want] of cases) assert.deepEqual(parseConfig(base + extra, {}).cache, want, extra);
});

test('tls.auth is case-insensitive on/off', () => {
  const base = read('minimal-fs.yml');
  for (const [value, want] of [['on', true], ['ON', true], ['"On"', true], ['off', false], ['OFF', false], ['""', false]] as const) {
    const text = base.replace('  cert: server.cert\n', `  cert: server.cert\n  auth: ${value}\n`);
    assert.equal(parseConfig(text, {}).tls.auth, want, value);
  }
});

test('api: skip_auth accepts YAML booleans; keys are route paths, taken literally', () => {
  const base = read('minimal-fs.yml');
  const text = `${base}api:\n  /v1/metrics:\n    skip_auth: yes\n  /v1/api:\n    skip_auth: "false"\n  \${X}:\n    timeout: 1m\n`;
  const api = parseConfig(text, { X: 'nope' }).api;
  assert.deepEqual(Object.fromEntries(api), {
    '/v1/metrics': { skipAuth: true, timeoutMs: 0 },
    '/v1/api': { skipAuth: false, timeoutMs: 0 },
    '${X}': { skipAuth: false, timeoutMs: 60_000 },
  });
});

test('loadConfig reads a file and uses process.env by default', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kes-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'config.yml');
  await writeFile(path, read('minimal-fs.yml').replace('identity: disabled', 'identity: ${KES_TEST_LOAD_ADMIN}'));
  process.env.KES_TEST_LOAD_ADMIN = ADMIN;
  t.after(() => delete process.env.KES_TEST_LOAD_ADMIN);
  assert.equal((await loadConfig(path)).admin, ADMIN);
  assert.equal((await loadConfig(path, { KES_TEST_LOAD_ADMIN: 'other' })).admin, 'other');
  await assert.rejects(loadConfig(join(dir, 'missing.yml')), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /^kesconf: invalid config: cannot read config file '.*missing\.yml': ENOENT$/);
    return true;
  });
});

test('loadConfig checks that a Kubernetes JWT file is readable', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kes-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const jwtPath = join(dir, 'token');
  const path = join(dir, 'config.yml');
  await writeFile(path, read('legacy.yml').replace(/jwt: .*/, `jwt: ${jwtPath}`));
  await assert.rejects(loadConfig(path, {}), /kesconf: invalid keystore: 'keystore\.vault\.kubernetes\.jwt': the JWT file is not readable/);
  await writeFile(jwtPath, 'header.payload.signature');
  const cfg = await loadConfig(path, {});
  assert.equal(cfg.keystore.kind === 'vault' && cfg.keystore.options.kubernetes?.jwt, jwtPath);
  if (process.getuid?.() !== 0) {
    await chmod(jwtPath, 0o000);
    await assert.rejects(loadConfig(path, {}), /not readable/);
  }
});

test('connectKeyStore: fs opens (and creates) the directory, mem is in memory', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kes-connect-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const keys = join(dir, 'keys');
  const cfg = parseConfig(read('minimal-fs.yml').replace('./keys', keys), {});
  const fs = await connectKeyStore(cfg.keystore);
  t.after(() => fs.close());
  assert.ok(fs instanceof FsKeyStore);
  assert.ok((await stat(keys)).isDirectory());
  await fs.create('k', new TextEncoder().encode('v'));
  assert.equal(new TextDecoder().decode(await new FsKeyStore(keys).get('k')), 'v');
  const mem = await connectKeyStore({ kind: 'mem' });
  assert.ok(mem instanceof MemKeyStore);
});
