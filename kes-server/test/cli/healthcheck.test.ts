import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';

const PROBE = fileURLToPath(new URL('../../src/cli/healthcheck.ts', import.meta.url));

function probe(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PROBE, ...args], { env, timeout: 15_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
    });
  });
}

test('the container probe passes with skip_auth on /v1/ready and fails without it, saying why', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const open = await startKes(t, pki, { admin: admin.identity, api: new Map([['/v1/ready', { skipAuth: true, timeoutMs: 0 }]]) });
  assert.deepEqual(await probe([], { KES_HEALTHCHECK_ADDR: `127.0.0.1:${open.port}` }), { code: 0, stderr: '' });
  const strict = await startKes(t, pki, { admin: admin.identity });
  const refused = await probe([], { KES_HEALTHCHECK_ADDR: `127.0.0.1:${strict.port}` });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`^kes healthcheck: GET https://127\\.0\\.0\\.1:${strict.port}/v1/ready`));
});

test('the container probe takes the address from the server command line: --addr, else the config file', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const open = await startKes(t, pki, { admin: admin.identity, api: new Map([['/v1/ready', { skipAuth: true, timeoutMs: 0 }]]) });
  const dir = mkdtempSync(join(tmpdir(), 'kes-probe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'config.yml');
  // A wildcard listen address is probed on loopback.
  writeFileSync(config, `address: 0.0.0.0:${open.port}\nadmin:\n  identity: ${admin.identity}\n`);
  assert.equal((await probe(['server', '--config', config])).code, 0);
  assert.equal((await probe(['server', `--config=${config}`])).code, 0);
  // --addr overrides the config file, as it does for the server.
  const wrong = await probe(['server', '--config', config, '--addr', '127.0.0.1:1']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /GET https:\/\/127\.0\.0\.1:1\/v1\/ready: connect ECONNREFUSED/);
  const missing = await probe(['server', '--config', join(dir, 'absent.yml')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^kes healthcheck: cannot read the listen address: ENOENT/);
});
