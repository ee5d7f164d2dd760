/**
 * The real `kes` CLI (minio/kes) as an independent client of this server: an API-key client
 * (Ed25519 certificate made by the Go client) over HTTP/2.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { peerPath } from '../../../sandbox/peers.ts';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The first line as JSON: with `--json` some kes commands print the table after the JSON. */
function firstJson(stdout: string): any {
  return JSON.parse(stdout.split('\n')[0]);
}

function kesRunner(port: number, apiKey: string) {
  const bin = peerPath('kes');
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KES_SERVER: `https://127.0.0.1:${port}`, KES_API_KEY: apiKey };
  return (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(bin, args, { env, timeout: 20_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      });
    });
}

test('kes CLI: key create|ls|info|dek|encrypt|decrypt|rm, status, identity of', async (t) => {
  const pki = makePki();
  const client = pki.apiKeyClient();
  const s = await startKes(t, pki, { admin: client.identity });
  const kes = kesRunner(s.port, client.apiKey.toString());

  let r = await kes('key', 'create', '-k', 'my-key', 'my-key-2', 'other');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '', 'kes key create prints nothing on success');
  r = await kes('key', 'create', '-k', 'my-key');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /key already exists/);

  r = await kes('key', 'ls', '-k', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(firstJson(r.stdout), ['my-key', 'my-key-2', 'other']);
  r = await kes('key', 'ls', '-k', '--json', 'my-key*');
  assert.deepEqual(firstJson(r.stdout), ['my-key', 'my-key-2']);
  r = await kes('key', 'ls', '-k');
  assert.deepEqual(r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== ''), ['Key', 'my-key', 'my-key-2', 'other']);

  r = await kes('key', 'info', '-k', '--json', 'my-key');
  assert.equal(r.code, 0, r.stderr);
  const info = firstJson(r.stdout);
  assert.equal(info.name, 'my-key');
  assert.equal(info.created_by, client.identity);
  r = await kes('key', 'info', '-k', 'my-key');
  assert.match(r.stdout, /Algorithm\s+AES256/);
  r = await kes('key', 'info', '-k', 'nope');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /key does not exist/);

  const context = Buffer.from('{"bucket":"object"}').toString('base64');
  r = await kes('key', 'dek', '-k', 'my-key', context);
  assert.equal(r.code, 0, r.stderr);
  const dek = firstJson(r.stdout);
  assert.equal(Buffer.from(dek.plaintext, 'base64').length, 32);
  r = await kes('key', 'decrypt', '-k', 'my-key', dek.ciphertext, context);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(firstJson(r.stdout).plaintext, dek.plaintext);
  r = await kes('key', 'decrypt', '-k', 'my-key', dek.ciphertext);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /decryption failed: ciphertext is not authentic/);

  r = await kes('key', 'encrypt', '-k', 'my-key', 'Hello World');
  assert.equal(r.code, 0, r.stderr);
  const { ciphertext } = firstJson(r.stdout);
  r = await kes('key', 'decrypt', '-k', 'my-key', ciphertext);
  assert.equal(Buffer.from(firstJson(r.stdout).plaintext, 'base64').toString(), 'Hello World');

  r = await kes('key', 'rm', '-k', 'my-key-2');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  r = await kes('key', 'ls', '-k', '--json');
  assert.deepEqual(firstJson(r.stdout), ['my-key', 'other']);

  r = await kes('status', '-k', '--json');
  assert.equal(r.code, 0, r.stderr);
  const status = firstJson(r.stdout);
  assert.equal(status.os, 'linux');
  assert.equal(status.keystore_latency, 1);
  assert.equal(status.version, PACKAGE_VERSION);
  r = await kes('status', '-k');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Version\\s+${PACKAGE_VERSION.replaceAll('.', '\\.')}\n`));
  assert.match(r.stdout, /OS\s+linux\n/);
  r = await kes('status', '-k', '--api');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\/v1\/key\/generate\//);

  r = await kes('identity', 'of', client.apiKey.toString());
  assert.equal(r.stdout.trim(), client.identity);
  const dir = await mkdtemp(join(tmpdir(), 'kes-peer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const certFile = join(dir, 'client.crt');
  const member = pki.issueClient('member');
  await writeFile(certFile, member.cert);
  r = await kes('identity', 'of', certFile);
  assert.equal(r.stdout.trim(), member.identity);
});

test('kes CLI: metric decodes the Prometheus text of this server', async (t) => {
  const pki = makePki();
  const client = pki.apiKeyClient();
  const s = await startKes(t, pki, { admin: client.identity, keys: ['k'] });
  const kes = kesRunner(s.port, client.apiKey.toString());
  await kes('key', 'info', '-k', 'k');
  await kes('key', 'info', '-k', 'missing');
  const child = spawn(peerPath('kes'), ['metric', '-k', '--rate', '1s'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KES_SERVER: `https://127.0.0.1:${s.port}`, KES_API_KEY: client.apiKey.toString() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  const first = await new Promise<string>((resolve, reject) => {
    let buf = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no metric line; stderr: ${err}`)), 15_000);
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kes metric exited with ${code}: ${err}`));
    });
  });
  const m = JSON.parse(first);
  assert.equal(m.kes_http_request_success, 1);
  assert.equal(m.kes_http_request_error, 1);
  assert.equal(m.kes_http_request_failure, 0);
  assert.equal(m.kes_system_num_threads, 1);
  assert.equal(Object.keys(m.kes_http_response_time).length, 10);
});
