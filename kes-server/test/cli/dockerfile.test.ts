/**
 * The image definition read as text (test/container builds and runs it): multi-stage on a base
 * given as a build argument whose default is the Node major the tests run on, production
 * dependencies only, a non-root user, a readiness probe on /v1/ready, the expected size written down.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const text = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
const lines = text.split('\n').filter((l) => !l.startsWith('#'));
const froms = lines.filter((l) => l.startsWith('FROM '));

test('Dockerfile: two stages on one base argument, by default the Node major of the test runner', () => {
  assert.equal(froms.length, 2, 'a dependency stage and a runtime stage');
  const major = process.versions.node.split('.')[0];
  assert.match(lines.join('\n'), new RegExp(`^ARG NODE_IMAGE=node:${major}-slim$`, 'm'));
  for (const from of froms) assert.match(from, /^FROM \$\{NODE_IMAGE\}( AS deps)?$/, from);
  assert.match(lines.join('\n'), /COPY --from=deps /);
  // Offline BuildKit resolves a `# syntax=` image and fails.
  assert.doesNotMatch(text, /^# *syntax=/m);
});

test('Dockerfile: production dependencies of kes-server only, no tests in the image', () => {
  const install = lines.find((l) => l.includes('npm ci'));
  assert.ok(install, 'npm ci in the dependency stage');
  assert.match(install, /--omit=dev/);
  // The context is this folder: its own lockfile, no path outside it, no tests.
  assert.match(lines.join('\n'), /^COPY image-lock\.json package-lock\.json$/m);
  assert.doesNotMatch(lines.join('\n'), /COPY [^\n]*(\.\.\/|test)|COPY \. /);
  // The classic builder reads only the context root's .dockerignore: it admits what is copied.
  const ignore = readFileSync(new URL('../../.dockerignore', import.meta.url), 'utf8');
  assert.deepEqual(ignore.split('\n').filter((l) => l && !l.startsWith('#')), ['*', '!package.json', '!image-lock.json', '!src']);
});

test('Dockerfile: runs as a non-root user with a readiness probe on /v1/ready', () => {
  const user = lines.filter((l) => l.startsWith('USER ')).at(-1);
  assert.ok(user && !/^USER (root|0)\b/.test(user), `non-root USER, got ${user}`);
  assert.match(lines.join('\n'), /HEALTHCHECK [^\n]*\\\n\s*CMD \["node", "src\/cli\/healthcheck\.ts"\]/);
  const probe = readFileSync(new URL('../../src/cli/healthcheck.ts', import.meta.url), 'utf8');
  assert.match(probe, /path: '\/v1\/ready'/);
  assert.match(text, /Expected size: ~\d+ MB/);
});
