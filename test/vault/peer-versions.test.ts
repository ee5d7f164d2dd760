/**
 * Each peer's version is pinned once (components/peers.json): the installed binaries the tests
 * run are those versions, and the OpenBao image deployments pull is the OpenBao the tests run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import peers from '../../components/peers.json' with { type: 'json' };
import { DEFAULT_MINIO_IMAGE, OPENBAO_IMAGE } from '../../components/peers.ts';
import { peerBinDir, peerPath } from '../../sandbox/peers.ts';

test('the installed bao is the pinned OpenBao, and the ephemeral OpenBao image has its tag', () => {
  const out = execFileSync(peerPath('bao'), ['version'], { encoding: 'utf8' });
  assert.match(out, new RegExp(`^OpenBao v${peers.openbao.version.replaceAll('.', '\\.')} `));
  assert.equal(OPENBAO_IMAGE, `quay.io/openbao/openbao:${peers.openbao.version}`);
});

test('the Go peers were built from the pinned module versions', () => {
  for (const peer of ['kes', 'minio', 'mc'] as const) {
    peerPath(peer);
    assert.equal(readFileSync(join(peerBinDir, `.${peer}.version`), 'utf8').trim(), peers[peer].version, peer);
  }
});

test('the default MinIO image is the pinned one', () => {
  assert.equal(DEFAULT_MINIO_IMAGE, peers.minio.image);
  assert.match(DEFAULT_MINIO_IMAGE, /^quay\.io\/minio\/minio:RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/);
});
