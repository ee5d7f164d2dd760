/**
 * The end-of-run log sweep (sandbox/log-sweep.ts) finds what it must: a registered secret in any
 * of its encodings, and secret shapes nobody registered, each reported by file, line and kind
 * without the secret itself; and it stays quiet on a clean log.
 */
import { test } from 'node:test';
import { AssertionError } from 'node:assert';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG_DIR_ENV, keepLog, registerKesBodies, registerSecret, registerVaultExchange, runLog, runLogChunks, sweepLogs } from '../../sandbox/log-sweep.ts';
import { createKeyPair } from '../../kes-server/src/tls/x509.ts';
import { generateApiKey } from '../../kes-server/src/auth/api-key.ts';
import runnerLog from '../runner-log.ts';

/** Runs `body` with the run's log folder pointing at a fresh folder (the real one stays untouched). */
function withLogDir(body: (dir: string) => void): void {
  const saved = process.env[LOG_DIR_ENV];
  const dir = mkdtempSync(join(tmpdir(), 'log-sweep-test-'));
  process.env[LOG_DIR_ENV] = dir;
  try {
    body(dir);
  } finally {
    if (saved === undefined) delete process.env[LOG_DIR_ENV];
    else process.env[LOG_DIR_ENV] = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a planted secret is reported with file and line in every encoding, the report never holds it', () => {
  withLogDir((dir) => {
    // Starts with bytes whose base64 is `+/+/`, so base64 and base64url differ.
    const dataKey = Buffer.concat([Buffer.from([0xfb, 0xff, 0xbf]), randomBytes(29)]);
    const secretId = 'c0a8f3e2-5b1d-4e7a-9f2c-8d6e4b3a2f10';
    registerKesBodies(undefined, JSON.stringify({ plaintext: dataKey.toString('base64'), ciphertext: 'AAAA' }));
    registerVaultExchange(null, { data: { secret_id: secretId, secret_id_accessor: 'not-a-secret-accessor' } });
    const log = runLog('planted.log');
    log('time=1 level=INFO msg="started"');
    log(`generated key=${dataKey.toString('hex')}`);
    log('time=2 level=INFO msg="nothing here"');
    log(`{"dek":"${dataKey.toString('base64')}"}`);
    log(`url-safe ${dataKey.toString('base64url')} end`);
    log(`login secret_id=${secretId}`);
    log('accessor not-a-secret-accessor is fine');
    const r = sweepLogs(dir);
    const file = r.findings[0]?.file ?? '';
    assert.match(file, /planted\.log$/);
    assert.deepEqual(
      r.findings.map((f) => [f.file, f.line, f.what]),
      [
        [file, 2, 'kes plaintext (hex)'],
        [file, 4, 'kes plaintext (base64)'],
        [file, 5, 'kes plaintext (base64url)'],
        [file, 6, 'vault secret_id (as is)'],
      ],
    );
    assert.equal(r.secrets, 2);
    assert.equal(r.files, 1);
    assert.equal(r.lines, 7);
    const report = JSON.stringify(r);
    for (const form of [dataKey.toString('hex'), dataKey.toString('base64'), secretId]) assert.ok(!report.includes(form));
  });
});

test('unregistered private keys, API keys and Vault tokens are found by their shape', () => {
  withLogDir((dir) => {
    const log = runLog('shapes.log');
    log('ok line');
    log(JSON.stringify({ key: createKeyPair('ecdsa-p256').privateKeyPem }));
    log(`MINIO_KMS_KES_API_KEY=${generateApiKey().toString()}`);
    log(`token hvs.${randomBytes(24).toString('base64url')} used`);
    log(`X-Vault-Token: s.${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`);
    log('file minio.s.log and host kes.s.example are not tokens');
    assert.deepEqual(
      sweepLogs(dir).findings.map((f) => [f.line, f.what]),
      [
        [2, 'PEM private key'],
        [3, 'KES API key'],
        [4, 'Vault token'],
        [5, 'Vault token'],
      ],
    );
  });
});

test('a process log kept by keepLog outlives its folder and is swept; the registry itself is not', () => {
  withLogDir((dir) => {
    const password = randomBytes(18).toString('base64url');
    registerSecret('password', password);
    const scratch = mkdtempSync(join(tmpdir(), 'log-sweep-proc-'));
    const file = join(scratch, 'minio-1.0.log');
    writeFileSync(file, 'starting\n');
    keepLog(file);
    writeFileSync(file, `starting\nroot password ${password}\n`);
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(join(dir, 'empty'));
    const r = sweepLogs(dir);
    assert.deepEqual(r.findings.map((f) => [f.file.endsWith('minio-1.0.log'), f.line, f.what]), [[true, 2, 'password (as is)']]);
    assert.equal(r.files, 1);
  });
});

test('output kept chunk by chunk keeps its lines: a secret split across two chunks is found', () => {
  withLogDir((dir) => {
    const token = `hvs.${randomBytes(24).toString('hex')}`;
    registerSecret('vault token', token);
    const write = runLogChunks('child.log');
    write('first line\nsecond ');
    write(Buffer.from(`line with ${token.slice(0, 20)}`));
    write(`${token.slice(20)} in it\nlast line\n`);
    assert.deepEqual(sweepLogs(dir).findings.map((f) => [f.line, f.what]), [[2, 'Vault token'], [2, 'vault token (as is)']]);
  });
});

test("the test runner's output is kept: a secret in what a test prints or in a failed assertion is found", async () => {
  const saved = process.env[LOG_DIR_ENV];
  const dir = mkdtempSync(join(tmpdir(), 'log-sweep-test-'));
  process.env[LOG_DIR_ENV] = dir;
  try {
    const dataKey = randomBytes(32);
    registerSecret('data key', dataKey);
    const events = [
      { type: 'test:pass', data: { name: 'first' } },
      { type: 'test:stdout', data: { message: `key ${dataKey.toString('hex')}\n` } },
      { type: 'test:fail', data: { name: 'second', file: 'x.test.ts', details: { error: new AssertionError({ actual: dataKey.toString('base64'), expected: 'other', operator: 'strictEqual' }) } } },
    ];
    async function* source() {
      yield* events;
    }
    for await (const _ of runnerLog(source())) {
      // the reporter prints nothing
    }
    const findings = sweepLogs(dir).findings;
    assert.ok(findings.every((f) => f.file.endsWith('test-runner.log')));
    assert.deepEqual([...new Set(findings.map((f) => f.what))].sort(), ['data key (base64)', 'data key (hex)']);
    assert.equal(findings.find((f) => f.what === 'data key (hex)')?.line, 2);
  } finally {
    if (saved === undefined) delete process.env[LOG_DIR_ENV];
    else process.env[LOG_DIR_ENV] = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a clean log yields no finding; short values are not looked for', () => {
  withLogDir((dir) => {
    registerSecret('root token', 'root');
    registerSecret('data key', randomBytes(32));
    runLog('clean.log')('root logged in; level=INFO msg="GET /v1/key/generate/minio-default" 200');
    const r = sweepLogs(dir);
    assert.deepEqual(r.findings, []);
    assert.equal(r.lines, 1);
    assert.equal(r.secrets, 2);
  });
});

test('nothing is written outside npm test (no log folder set)', () => {
  const saved = process.env[LOG_DIR_ENV];
  delete process.env[LOG_DIR_ENV];
  try {
    const write = runLog('x.log');
    write('line');
    registerSecret('x', 'y'.repeat(40));
  } finally {
    if (saved !== undefined) process.env[LOG_DIR_ENV] = saved;
  }
  assert.equal(process.env[LOG_DIR_ENV], saved);
});
