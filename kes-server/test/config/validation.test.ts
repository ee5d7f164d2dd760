import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../src/config/index.ts';

const ADMIN = '3ecfcdf38fcbe141ae26a1030f81e96b753365a46760ae6b578698a97c59fd22';
const ID_A = '40235905b7b83e0537a002db523cd019d6709b899adc249c957860cd00fa9f78';
const ID_B = '189d9de5331e3ee8abe9e4bd40d474ad621d79ccf83a711f6ac68050eb15a52a';

const ADMIN_BLOCK = `admin:\n  identity: ${ADMIN}\n`;
const TLS_BLOCK = 'tls:\n  key: server.key\n  cert: server.cert\n';
const FS_BLOCK = 'keystore:\n  fs:\n    path: ./keys\n';
const VAULT_HEAD = 'keystore:\n  vault:\n    endpoint: https://127.0.0.1:8200\n';
const APPROLE = '    approle:\n      id: the-role-id\n      secret: the-secret-id\n';

/** A config made of the given blocks; blocks left out are replaced by valid defaults. */
function config(blocks: { admin?: string; tls?: string; keystore?: string; extra?: string }): string {
  return (blocks.admin ?? ADMIN_BLOCK) + (blocks.tls ?? TLS_BLOCK) + (blocks.extra ?? '') + (blocks.keystore ?? FS_BLOCK);
}

/** 1-based number of the first line containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `fixture has no line containing ${needle}`);
  return i + 1;
}

interface Case {
  name: string;
  text: string;
  env?: Record<string, string>;
  section: string;
  /** Text the message must contain: usually the field path in quotes. */
  field: string;
  /** A needle whose line the message must name; omitted when the error has no single line. */
  lineOf?: string;
}

const cases: Case[] = [
  { name: 'missing admin identity', text: config({ admin: '' }), section: 'admin', field: `'admin.identity' is required` },
  { name: 'empty admin identity', text: config({ admin: 'admin:\n  identity: ""\n' }), section: 'admin', field: `'admin.identity'`, lineOf: 'identity:' },
  { name: 'missing tls key', text: config({ tls: 'tls:\n  cert: c.pem\n' }), section: 'tls', field: `'tls.key' is required` },
  { name: 'missing tls cert', text: config({ tls: 'tls:\n  key: k.pem\n' }), section: 'tls', field: `'tls.cert' is required` },
  { name: 'no tls section', text: config({ tls: '' }), section: 'tls', field: `'tls.key' is required` },
  { name: 'tls is not a mapping', text: config({ tls: 'tls: yes\n' }), section: 'tls', field: `'tls' must be a mapping`, lineOf: 'tls: yes' },
  { name: 'bad tls.auth', text: config({ tls: TLS_BLOCK + '  auth: maybe\n' }), section: 'tls', field: `'tls.auth' must be 'on' or 'off'`, lineOf: 'auth: maybe' },
  {
    name: 'proxy identity equal to admin',
    text: config({ tls: TLS_BLOCK + `  proxy:\n    identities: [${ADMIN}]\n` }),
    section: 'tls',
    field: `'tls.proxy.identities' must not contain the admin identity`,
    lineOf: 'identities:',
  },
  {
    name: 'policy identity equal to admin',
    text: config({ extra: `policy:\n  p:\n    identities:\n      - ${ADMIN}\n` }),
    section: 'policy',
    field: `'policy.p.identities[0]' is the admin identity`,
    lineOf: `- ${ADMIN}`,
  },
  {
    name: 'policy identity equal to a proxy identity',
    text: config({ tls: TLS_BLOCK + `  proxy:\n    identities: [${ID_A}]\n`, extra: `policy:\n  p:\n    identities: [${ID_B}, ${ID_A}]\n` }),
    section: 'policy',
    field: `'policy.p.identities[1]' is a TLS proxy identity`,
    lineOf: `identities: [${ID_B}`,
  },
  {
    name: 'identity in two policies',
    text: config({ extra: `policy:\n  a:\n    identities: [${ID_A}]\n  b:\n    identities:\n      - ${ID_B}\n      - ${ID_A}\n` }),
    section: 'policy',
    field: `'policy.b.identities[1]' is already assigned to policy 'a'`,
    lineOf: `      - ${ID_A}`,
  },
  {
    name: 'invalid policy name',
    text: config({ extra: 'policy:\n  my.policy:\n    allow: [/v1/status]\n' }),
    section: 'policy',
    field: `'policy.my.policy': invalid policy name`,
    lineOf: 'allow: [/v1/status]',
  },
  {
    name: 'invalid identity name',
    text: config({ extra: 'policy:\n  p:\n    identities: ["not valid!"]\n' }),
    section: 'policy',
    field: `'policy.p.identities[0]' is not a valid identity`,
    lineOf: 'not valid!',
  },
  ...(['any', 'unused', 'offline'] as const).map((k) => ({
    name: `negative cache.expiry.${k}`,
    text: config({ extra: `cache:\n  expiry:\n    ${k}: -1s\n` }),
    section: 'cache',
    field: `'cache.expiry.${k}' must not be negative`,
    lineOf: `${k}: -1s`,
  })),
  {
    name: 'unparsable duration',
    text: config({ extra: 'cache:\n  expiry:\n    any: 5 minutes\n' }),
    section: 'cache',
    field: `'cache.expiry.any' is not a duration`,
    lineOf: '5 minutes',
  },
  {
    name: 'negative api timeout',
    text: config({ extra: 'api:\n  /v1/status:\n    timeout: -5s\n' }),
    section: 'api',
    field: `'api./v1/status.timeout' must not be negative`,
    lineOf: 'timeout: -5s',
  },
  {
    name: 'api skip_auth not a boolean',
    text: config({ extra: 'api:\n  /v1/ready:\n    skip_auth: sometimes\n' }),
    section: 'api',
    field: `'api./v1/ready.skip_auth' must be a boolean`,
    lineOf: 'skip_auth',
  },
  ...(['error', 'audit'] as const).map((k) => ({
    name: `bad log.${k} level`,
    text: config({ extra: `log:\n  ${k}: LOUD\n` }),
    section: 'log',
    field: `'log.${k}' is not a log level`,
    lineOf: 'LOUD',
  })),
  {
    name: 'duplicate keys',
    text: config({ extra: 'keys:\n  - name: k1\n  - name: k2\n  - name: ${DUP}\n' }),
    env: { DUP: 'k1' },
    section: 'keys',
    field: `'keys[2].name' duplicates key 'k1'`,
    lineOf: '${DUP}',
  },
  { name: 'key without name', text: config({ extra: 'keys:\n  - {}\n' }), section: 'keys', field: `'keys[0].name' is required` },
  { name: 'no keystore', text: config({ keystore: '' }), section: 'keystore', field: 'no keystore specified' },
  {
    name: 'only keystore.kes',
    text: config({ keystore: 'keystore:\n  kes:\n    endpoint: https://127.0.0.1:7373\n' }),
    section: 'keystore',
    field: 'no keystore specified',
    lineOf: 'kes:',
  },
  {
    name: 'two keystores',
    text: config({ keystore: FS_BLOCK + '  vault:\n    endpoint: https://127.0.0.1:8200\n' }),
    section: 'keystore',
    field: 'more than one keystore specified: fs, vault',
  },
  ...[
    ['aws', 'secretsmanager'],
    ['gcp', 'secretmanager'],
    ['azure', 'keyvault'],
    ['fortanix', 'sdkms'],
    ['gemalto', 'keysecure'],
    ['entrust', 'keycontrol'],
  ].map(([outer, inner]) => ({
    name: `unsupported ${outer}.${inner}`,
    text: config({ keystore: `keystore:\n  ${outer}:\n    ${inner}:\n      endpoint: https://example.net\n` }),
    section: 'keystore',
    field: `'keystore.${outer}.${inner}': the ${outer}.${inner} keystore is not supported by this server`,
    lineOf: 'endpoint: https://example.net',
  })),
  { name: 'fs without path', text: config({ keystore: 'keystore:\n  fs:\n    path: ""\n' }), section: 'keystore', field: `'keystore.fs.path' is required`, lineOf: 'path:' },
  { name: 'vault without endpoint', text: config({ keystore: 'keystore:\n  vault:\n    engine: kv\n' + APPROLE }), section: 'keystore', field: `'keystore.vault.endpoint' is required` },
  { name: 'vault version v3', text: config({ keystore: VAULT_HEAD + '    version: v3\n' + APPROLE }), section: 'keystore', field: `'keystore.vault.version' must be 'v1' or 'v2'`, lineOf: 'version: v3' },
  {
    name: 'vault with approle and kubernetes',
    text: config({ keystore: VAULT_HEAD + APPROLE + '    kubernetes:\n      role: kes\n      jwt: a.b.c\n' }),
    section: 'keystore',
    field: 'approle and kubernetes are mutually exclusive',
    lineOf: 'endpoint:',
  },
  { name: 'vault without login', text: config({ keystore: VAULT_HEAD }), section: 'keystore', field: 'one of approle or kubernetes is required', lineOf: 'endpoint:' },
  {
    name: 'vault approle without id',
    text: config({ keystore: VAULT_HEAD + '    approle:\n      secret: the-secret-id\n' }),
    section: 'keystore',
    field: `'keystore.vault.approle.id' is required`,
  },
  {
    name: 'vault approle without secret',
    text: config({ keystore: VAULT_HEAD + '    approle:\n      id: the-role-id\n      secret: ""\n' }),
    section: 'keystore',
    field: `'keystore.vault.approle.secret' is required`,
    lineOf: 'secret: ""',
  },
  {
    name: 'vault kubernetes without jwt',
    text: config({ keystore: VAULT_HEAD + '    kubernetes:\n      role: kes\n' }),
    section: 'keystore',
    field: `'keystore.vault.kubernetes.jwt' is required`,
  },
  {
    name: 'vault transit without key',
    text: config({ keystore: VAULT_HEAD + APPROLE + '    transit:\n      engine: transit\n' }),
    section: 'keystore',
    field: `'keystore.vault.transit.key' is required`,
  },
  {
    name: 'vault tls key without cert',
    text: config({ keystore: VAULT_HEAD + APPROLE + '    tls:\n      key: client.key\n' }),
    section: 'keystore',
    field: `'keystore.vault.tls.cert' is required when keystore.vault.tls.key is set`,
  },
  {
    name: 'vault tls cert without key',
    text: config({ keystore: VAULT_HEAD + APPROLE + '    tls:\n      cert: client.cert\n' }),
    section: 'keystore',
    field: `'keystore.vault.tls.key' is required when keystore.vault.tls.cert is set`,
  },
  {
    name: 'vault negative status.ping',
    text: config({ keystore: VAULT_HEAD + APPROLE + '    status:\n      ping: -1s\n' }),
    section: 'keystore',
    field: `'keystore.vault.status.ping' must not be negative`,
    lineOf: 'ping: -1s',
  },
  { name: 'unknown version', text: 'version: v2\n' + config({}), section: 'version', field: `'version' must be 'v1'`, lineOf: 'version: v2' },
  {
    name: 'version is not substituted',
    text: 'version: ${V}\n' + config({}),
    env: { V: 'v1' },
    section: 'version',
    field: `'version' must be 'v1'`,
    lineOf: 'version:',
  },
  { name: 'host name as address', text: 'address: localhost:7373\n' + config({}), section: 'address', field: `'address' must be <ip>:<port>`, lineOf: 'address:' },
  { name: 'address without port', text: 'address: 127.0.0.1\n' + config({}), section: 'address', field: `'address' must be <ip>:<port>`, lineOf: 'address:' },
  { name: 'address port too large', text: 'address: 127.0.0.1:70000\n' + config({}), section: 'address', field: `'address' must be <ip>:<port>`, lineOf: 'address:' },
  {
    name: 'unset environment variable',
    text: config({ keystore: VAULT_HEAD + '    approle:\n      id: the-role-id\n      secret: ${KES_TEST_UNSET_SECRET}\n' }),
    section: 'keystore',
    field: `'keystore.vault.approle.secret' refers to environment variable 'KES_TEST_UNSET_SECRET', which is not set`,
    lineOf: 'KES_TEST_UNSET_SECRET',
  },
  { name: 'YAML syntax error', text: config({ extra: 'policy:\n  p: [unclosed\n' }), section: 'config', field: 'YAML syntax' },
  { name: 'duplicate mapping key', text: config({}) + 'address: 1.2.3.4:1\naddress: 1.2.3.4:2\n', section: 'config', field: 'YAML syntax', lineOf: 'address: 1.2.3.4:2' },
  { name: 'document is not a mapping', text: '- a\n- b\n', section: 'config', field: 'the document must be a YAML mapping', lineOf: '- a' },
];

test('every validation error names its section, field and line', () => {
  for (const c of cases) {
    assert.throws(
      () => parseConfig(c.text, c.env ?? {}),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, `${c.name}: not a ConfigError: ${String(err)}`);
        assert.equal(err.code, 'INVALID_CONFIG');
        assert.ok(err.message.startsWith(`kesconf: invalid ${c.section}: `), `${c.name}: ${err.message}`);
        assert.ok(err.message.includes(c.field), `${c.name}: ${err.message}`);
        if (c.lineOf !== undefined) {
          const line = lineOf(c.text, c.lineOf);
          assert.equal(err.line, line, `${c.name}: ${err.message}`);
          assert.ok(err.message.endsWith(`(line ${line})`), `${c.name}: ${err.message}`);
        }
        return true;
      },
      c.name,
    );
  }
});

test('secrets never appear in error messages', () => {
  const secret = 'S3cr3t-Value-123';
  const texts = [
    // the secret is present, another field is invalid
    config({ keystore: VAULT_HEAD + `    version: v9\n    approle:\n      id: the-role-id\n      secret: ${secret}\n` }),
    // the secret field itself has the wrong shape
    config({ keystore: VAULT_HEAD + `    approle:\n      id: the-role-id\n      secret:\n        nested: ${secret}\n` }),
    // a secret in a field that fails to parse as its type
    config({ extra: `api:\n  /v1/ready:\n    skip_auth: ${secret}\n    timeout: ${secret}\n` }),
    config({ tls: TLS_BLOCK + `  password: ${secret}\n  auth: ${secret}\n` }),
    config({ extra: `log:\n  error: ${secret}\n` }),
    config({ keystore: VAULT_HEAD + `    kubernetes:\n      jwt: ${secret}\n    approle:\n      secret: ${secret}\n` }),
    `version: ${secret}\n` + config({}),
    config({ extra: `policy:\n  p:\n    identities: ["${secret}!"]\n` }),
    config({ keystore: VAULT_HEAD + `    approle:\n      id: \${SECRET_ID}\n      secret: ${secret}\n    tls:\n      key: x\n` }),
  ];
  for (const text of texts) {
    assert.throws(
      () => parseConfig(text, { SECRET_ID: secret }),
      (err: unknown) => err instanceof ConfigError && !err.message.includes(secret) && !err.message.includes('S3cr3t'),
      text,
    );
  }
});
