import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';

const PROBE = fileURLToPath(new URL('../../src/cli/healthcheck.ts', import.meta.url));

function probe(port: number): Promise<number> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PROBE], { env: { KES_HEALTHCHECK_ADDR: `127.0.0.1:${port}` }, timeout: 15_000 }, (err) => {
      resolve(err ? (typeof err.code === 'number' ? err.code : 1) : 0);
    });
  });
}

test('the container probe passes with skip_auth on /v1/ready and fails without it', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const open = await startKes(t, pki, { admin: admin.identity, api: new Map([['/v1/ready', { skipAuth: true, timeoutMs: 0 }]]) });
  assert.equal(await probe(open.port), 0);
  const strict = await startKes(t, pki, { admin: admin.identity });
  assert.equal(await probe(strict.port), 1);
});
