/**
 * kes-server/image-lock.json, the lockfile the KES image installs from, is exactly what
 * scripts/kes-image-lock.ts derives from package-lock.json: same versions and integrities as the
 * repository's own install, and every runtime dependency of kes-server in it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { expectedImageLock, imageLock, imageLockPath } from '../../scripts/kes-image-lock.ts';

test('image-lock.json equals the lockfile derived from package-lock.json', () => {
  assert.equal(readFileSync(imageLockPath, 'utf8'), expectedImageLock(), 'run node scripts/kes-image-lock.ts');
  const lock = JSON.parse(readFileSync(imageLockPath, 'utf8'));
  const manifest = JSON.parse(readFileSync(new URL('../../kes-server/package.json', import.meta.url), 'utf8'));
  for (const name of Object.keys(manifest.dependencies)) {
    assert.match(lock.packages[`node_modules/${name}`]?.integrity ?? '', /^sha512-/, `${name} pinned by integrity`);
  }
});

test('imageLock: follows dependencies of dependencies, prefers a workspace copy, refuses a missing package', () => {
  const manifest = { name: 'w', version: '1.0.0', dependencies: { a: '1.0.0' } };
  const packages = {
    'node_modules/a': { version: '1.0.0', integrity: 'sha512-a', dependencies: { b: '^2' }, dev: true },
    'node_modules/b': { version: '2.0.0', integrity: 'sha512-b2' },
    'w/node_modules/b': { version: '2.1.0', integrity: 'sha512-b21' },
    'node_modules/unrelated': { version: '9.9.9' },
  };
  const lock = JSON.parse(imageLock(manifest, { packages }));
  assert.deepEqual(Object.keys(lock.packages), ['', 'node_modules/a', 'node_modules/b']);
  assert.deepEqual(lock.packages['node_modules/a'], { version: '1.0.0', integrity: 'sha512-a', dependencies: { b: '^2' } });
  assert.equal(lock.packages['node_modules/b'].version, '2.1.0');
  assert.throws(() => imageLock({ name: 'w', version: '1.0.0', dependencies: { c: '1' } }, { packages }), /c \(a dependency of w\) is not in package-lock\.json/);
});
