/** The CI recipe (scripts/ci-ephemeral.sh) run as a CI job runs it: up, wait, check, down. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { leftovers, localImages, repoRoot, runId } from './helpers.ts';

test('scripts/ci-ephemeral.sh creates the CI stack, waits until ready, checks SSE-KMS and tears everything down', async () => {
  localImages();
  const stack = `${runId}-rcp`;
  const { code, out } = await new Promise<{ code: number; out: string }>((resolve) =>
    execFile('bash', [join(repoRoot, 'scripts/ci-ephemeral.sh'), stack], { encoding: 'utf8', timeout: 600_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` }),
    ),
  );
  assert.equal(code, 0, out);
  const lines = out.split('\n').filter((l) => !/ [-+=] \S+ \S+$/.test(l));
  assert.match(lines.join('\n'), new RegExp(`^ci-stack ${stack}: up$`, 'm'));
  assert.match(lines.join('\n'), new RegExp(`^ci-stack ${stack}: ready: MinIO 127\\.0\\.0\\.1:\\d+, KES https://127\\.0\\.0\\.1:\\d+$`, 'm'));
  assert.match(lines.join('\n'), new RegExp(`^ci-stack ${stack}: check: ci-bucket: SSE-KMS \\(arn:aws:kms:ci-bucket-key\\), 65536 bytes back intact$`, 'm'));
  assert.match(lines.join('\n'), new RegExp(`^ci-stack ${stack}: down$`, 'm'));
  assert.deepEqual(leftovers(`sse-${stack}`), []);
  const cache = process.env.MINIO_SSE_KES_CACHE ?? join(homedir(), '.cache', 'minio-sse-kes');
  assert.equal(existsSync(join(cache, 'realize', `${stack}.json`)), false, 'the state is gone with the stack');
});
