import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../src/config/index.ts';

const BASE = 'admin:\n  identity: ${ADMIN}\ntls:\n  key: ${KEY}\n  cert: server.cert\n';
const FS = 'keystore:\n  fs:\n    path: ./keys\n';

test('a whole scalar ${VAR} is replaced, after trimming around and inside the braces', () => {
  const cases: Array<[string, string]> = [
    ['${ADMIN}', 'abc'],
    ['"  ${ADMIN}  "', 'abc'],
    ['"${ ADMIN }"', 'abc'],
    ["'${ADMIN}'", 'abc'],
  ];
  for (const [scalar, want] of cases) {
    const cfg = parseConfig(`admin:\n  identity: ${scalar}\ntls:\n  key: k\n  cert: c\n${FS}`, { ADMIN: want });
    assert.equal(cfg.admin, want, scalar);
  }
});

test('there is no partial interpolation', () => {
  const text = `${BASE}keystore:\n  vault:\n    endpoint: https://\${HOST}:8200\n    prefix: a-\${X}\n    approle:\n      id: i\n      secret: s\n`;
  const cfg = parseConfig(text, { ADMIN: 'a', KEY: 'k', HOST: 'vault', X: 'x' });
  assert.equal(cfg.keystore.kind, 'vault');
  if (cfg.keystore.kind !== 'vault') return;
  assert.equal(cfg.keystore.options.endpoint, 'https://${HOST}:8200');
  assert.equal(cfg.keystore.options.prefix, 'a-${X}');
});

test('an empty variable is a value; an unset one is an error naming variable, field and line', () => {
  const text = `${BASE}  password: \${PASSWORD}\n${FS}`;
  assert.equal(parseConfig(text, { ADMIN: 'a', KEY: 'k', PASSWORD: '' }).tls.password, '');
  assert.throws(
    () => parseConfig(text, { ADMIN: 'a', KEY: 'k' }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.message === `kesconf: invalid tls: 'tls.password' refers to environment variable 'PASSWORD', which is not set (line 6)`,
  );
});

test('substituted text is decoded as the field type: durations, booleans, levels', () => {
  const text = `${BASE}cache:\n  expiry:\n    any: \${ANY}\n    unused: \${UNUSED}\napi:\n  /v1/ready:\n    skip_auth: \${SKIP}\n    timeout: \${TIMEOUT}\nlog:\n  error: \${LEVEL}\n${FS}`;
  const env = { ADMIN: 'a', KEY: 'k', ANY: '2m', UNUSED: '1m30s', SKIP: 'true', TIMEOUT: '3s', LEVEL: 'debug' };
  const cfg = parseConfig(text, env);
  assert.deepEqual(cfg.cache, { anyMs: 120_000, unusedMs: 90_000, offlineMs: 0 });
  assert.deepEqual(cfg.api.get('/v1/ready'), { skipAuth: true, timeoutMs: 3000 });
  assert.equal(cfg.log.error, -4);
  assert.throws(() => parseConfig(text, { ...env, ANY: '-1m' }), /'cache\.expiry\.any' must not be negative \(line 8\)/);
  assert.throws(() => parseConfig(text, { ...env, SKIP: 'perhaps' }), /'api\.\/v1\/ready\.skip_auth' must be a boolean/);
});

test('list elements are substituted: proxy identities, policy identities, key names', () => {
  const text =
    `${BASE}  proxy:\n    identities:\n      - \${PROXY}\npolicy:\n  p:\n    allow: ["\${LITERAL}"]\n    deny:\n      - \${LITERAL}\n` +
    `    identities:\n      - \${ID}\n      - \${EMPTY}\nkeys:\n  - name: \${KEY_NAME}\n${FS}`;
  const cfg = parseConfig(text, { ADMIN: 'a', KEY: 'k', PROXY: 'proxy-id', ID: 'app-id', EMPTY: '', KEY_NAME: 'my-key', LITERAL: 'x' });
  assert.deepEqual(cfg.tls.proxy.identities, ['proxy-id']);
  // allow/deny are never substituted (docs/protocol.md#config-environment-variables); an identity that resolves to "" is skipped.
  assert.deepEqual(cfg.policies.get('p'), { allow: ['${LITERAL}'], deny: ['${LITERAL}'], identities: ['app-id'] });
  assert.deepEqual(cfg.keys, ['my-key']);
});

test('a substituted value is not substituted again', () => {
  const cfg = parseConfig(`${BASE}${FS}`, { ADMIN: '${OTHER}', KEY: 'k', OTHER: 'nope' });
  assert.equal(cfg.admin, '${OTHER}');
});

test('vault fields, including secrets, take values from the environment', () => {
  const text =
    `${BASE}keystore:\n  vault:\n    endpoint: \${VAULT_ADDR}\n    version: \${KV_VERSION}\n    approle:\n      id: \${ROLE_ID}\n      secret: \${SECRET_ID}\n` +
    `    status:\n      ping: \${PING}\n`;
  const cfg = parseConfig(text, {
    ADMIN: 'a',
    KEY: 'k',
    VAULT_ADDR: 'https://10.0.0.1:8200',
    KV_VERSION: 'v2',
    ROLE_ID: 'rid',
    SECRET_ID: 'sid',
    PING: '1m',
  });
  assert.ok(cfg.keystore.kind === 'vault');
  const o = cfg.keystore.options;
  assert.equal(o.endpoint, 'https://10.0.0.1:8200');
  assert.equal(o.version, 'v2');
  assert.deepEqual(o.approle, { engine: 'approle', namespace: '', id: 'rid', secret: 'sid' });
  assert.equal(o.statusPingMs, 60_000);
});
