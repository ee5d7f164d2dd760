/**
 * The image definition (kes-server/Dockerfile), read as text since no image is built in the tests:
 * multi-stage, the Node major the tests run on, production dependencies only, a non-root user,
 * a readiness probe on /v1/ready, and the expected size written down.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const text = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
const lines = text.split('\n').filter((l) => !l.startsWith('#'));
const froms = lines.filter((l) => l.startsWith('FROM '));

test('Dockerfile: two stages on the Node major of the test runner', () => {
  assert.equal(froms.length, 2, 'a dependency stage and a runtime stage');
  const major = process.versions.node.split('.')[0];
  for (const from of froms) assert.match(from, new RegExp(`^FROM node:${major}(-|\\s|$)`), from);
  assert.match(lines.join('\n'), /COPY --from=deps /);
});

test('Dockerfile: production dependencies of kes-server only, no tests in the image', () => {
  const install = lines.find((l) => l.includes('npm ci'));
  assert.ok(install, 'npm ci in the dependency stage');
  assert.match(install, /--omit=dev/);
  assert.match(install, /--workspace kes-server/);
  assert.match(install, /--include-workspace-root=false/);
  assert.doesNotMatch(lines.join('\n'), /COPY kes-server\/test|COPY \. /);
  const ignore = readFileSync(new URL('../../Dockerfile.dockerignore', import.meta.url), 'utf8');
  assert.match(ignore, /^kes-server\/test$/m);
});

test('Dockerfile: runs as a non-root user with a readiness probe on /v1/ready', () => {
  const user = lines.filter((l) => l.startsWith('USER ')).at(-1);
  assert.ok(user && !/^USER (root|0)\b/.test(user), `non-root USER, got ${user}`);
  assert.match(lines.join('\n'), /HEALTHCHECK [^\n]*\\\n\s*CMD \["node", "src\/cli\/healthcheck\.ts"\]/);
  const probe = readFileSync(new URL('../../src/cli/healthcheck.ts', import.meta.url), 'utf8');
  assert.match(probe, /path: '\/v1\/ready'/);
  assert.match(text, /Expected size: ~\d+ MB/);
});
