/**
 * Pure pieces of the Vault keystore: path joins, name safety, renewal timing, login namespace,
 * JWT source detection, Vault error summaries and which login answers refuse the credentials.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePath, isSafeKeyName, joinPath } from '../../../src/keystore/vault/path.ts';
import { LoginRefused, defaultRenewalTiming, jwtIsFile, loginNamespace, makeLogin, planRenewal } from '../../../src/keystore/vault/auth.ts';
import type { VaultClient } from '../../../src/keystore/vault/client.ts';
import type { VaultOptions } from '../../../src/keystore/vault/options.ts';
import { vaultErrorText } from '../../../src/keystore/vault/errors.ts';

test('joinPath joins like a cleaned POSIX path without outer slashes', () => {
  const cases: Array<[string[], string]> = [
    [['kv', '', 'k1'], 'kv/k1'],
    [['kv', 'data', '', 'k1'], 'kv/data/k1'],
    [['kv', 'data', 'a/b', 'k1'], 'kv/data/a/b/k1'],
    [['kv/', '/prefix/', 'k1'], 'kv/prefix/k1'],
    [['kv//x', 'p//q', 'k'], 'kv/x/p/q/k'],
    [['kv', 'metadata', ''], 'kv/metadata'],
    [['kv', '', ''], 'kv'],
    [['kv', './p', 'k'], 'kv/p/k'],
    [['kv', 'p/../q', 'k'], 'kv/q/k'],
  ];
  for (const [parts, want] of cases) assert.equal(joinPath(...parts), want, JSON.stringify(parts));
});

test('isSafeKeyName refuses names that would leave the key folder', () => {
  const cases: Array<[string, boolean]> = [
    ['my-key', true],
    ['_0', true],
    ['a.b', true],
    ['', false],
    ['.', false],
    ['..', false],
    ['a/b', false],
    ['a\\b', false],
    ['a\nb', false],
  ];
  for (const [name, want] of cases) assert.equal(isSafeKeyName(name), want, JSON.stringify(name));
});

test('encodePath escapes each segment but keeps the separators', () => {
  assert.equal(encodePath('kv/data/a b/k?1'), 'kv/data/a%20b/k%3F1');
  assert.equal(encodePath('kv/k1'), 'kv/k1');
});

test('planRenewal follows the upstream schedule', () => {
  const cases: Array<[number, ReturnType<typeof planRenewal>]> = [
    [0, { kind: 'never' }],
    [-5, { kind: 'never' }],
    [1_000, { kind: 'relogin' }],
    [29_999, { kind: 'relogin' }],
    // 30 s: renew after 24 s, switch after min(3 s, 30 s)
    [30_000, { kind: 'renew', renewInMs: 24_000, switchDelayMs: 3_000 }],
    // 5 min: renew after 4 min, switch after min(30 s, 30 s)
    [300_000, { kind: 'renew', renewInMs: 240_000, switchDelayMs: 30_000 }],
    // 1 h: the switch delay is capped at 30 s
    [3_600_000, { kind: 'renew', renewInMs: 2_880_000, switchDelayMs: 30_000 }],
  ];
  for (const [ttl, want] of cases) assert.deepEqual(planRenewal(ttl), want, `ttl ${ttl}`);
  assert.equal(defaultRenewalTiming.minTtlMs, 30_000);
  assert.deepEqual(planRenewal(2_000, { ...defaultRenewalTiming, minTtlMs: 500, maxSwitchDelayMs: 100 }), {
    kind: 'renew',
    renewInMs: 1_600,
    switchDelayMs: 100,
  });
});

test('loginNamespace: own namespace, "/" for root, else inherited', () => {
  const cases: Array<[string, string, string]> = [
    ['', '', ''],
    ['', 'tenant', 'tenant'],
    ['auth-ns', 'tenant', 'auth-ns'],
    ['/', 'tenant', ''],
    ['/', '', ''],
  ];
  for (const [auth, store, want] of cases) assert.equal(loginNamespace(auth, store), want, `${auth}|${store}`);
});

test('jwtIsFile: a value with a path separator is a file', () => {
  assert.equal(jwtIsFile('/var/run/secrets/kubernetes.io/serviceaccount/token'), true);
  assert.equal(jwtIsFile('./token'), true);
  assert.equal(jwtIsFile('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_'), false);
});

test('vaultErrorText names status and Vault errors, flattening multi-error text', () => {
  assert.equal(vaultErrorText({ status: 403, body: { errors: ['1 error occurred:\n\t* permission denied\n\n'] } }), 'HTTP 403: permission denied');
  assert.equal(vaultErrorText({ status: 404, body: { errors: [] } }), 'HTTP 404');
  assert.equal(vaultErrorText({ status: 500, body: undefined }), 'HTTP 500');
  assert.equal(vaultErrorText({ status: 400, body: { errors: ['a', 'b'] } }), 'HTTP 400: a; b');
});

test('a login is refused (held back) only for the answers that reject the credentials: 400, 401, 403', async () => {
  const outcome = async (status: number) => {
    const client = { send: async () => ({ status, body: { errors: [`status ${status}`] } }) } as unknown as VaultClient;
    const login = makeLogin(client, { approle: { engine: 'approle', namespace: '', id: 'role', secret: 'secret' }, namespace: '' } as unknown as VaultOptions);
    return login.login().then(() => 'token', (e: unknown) => (e instanceof LoginRefused ? 'refused' : e instanceof Error ? 'failed' : 'other'));
  };
  for (const status of [400, 401, 403]) assert.equal(await outcome(status), 'refused', String(status));
  for (const status of [404, 412, 429, 500, 503]) assert.equal(await outcome(status), 'failed', String(status));
});
