/**
 * The package as a platform team installs it: a real `npm install` into a scratch project outside
 * the repository (so nothing resolves from the repository's own node_modules), once of the tarball
 * `npm pack` makes and once of a `git+file://` URL of the current commit (npm clones it and runs
 * `prepare`). The scratch project brings its own `@pulumi/*` packages; the installed package must
 * use them (peer dependencies, no second copy), and a plain `.mjs` program declares the whole
 * system from it under the package's own mocks (`minio-sse-kes/testing`).
 *
 * npm runs offline: every package comes from the npm cache that `npm ci` filled, pinned by a
 * lockfile derived from the repository's. The git variant installs the last commit, not
 * uncommitted changes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const rootLock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const pulumiPins: Record<string, string> = Object.fromEntries(Object.entries(rootPackage.devDependencies as Record<string, string>).filter(([k]) => k.startsWith('@pulumi/')));

// npm settings of an enclosing `npm test` would leak into the scratch installs; keep the cache only.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') || k === 'npm_config_cache'));
const npm = (args: string[], cwd: string) => run('npm', args, { cwd, env, maxBuffer: 16 << 20 });

/**
 * A scratch project depending on `spec` and on its own pinned `@pulumi/*`, with a lockfile made
 * from the repository's (same versions and integrities, so an offline install finds them cached).
 */
function scratchProject(spec: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'minio-sse-kes-consumer-'));
  const dependencies = { 'minio-sse-kes': spec, ...pulumiPins };
  const packages: Record<string, unknown> = { '': { name: 'consumer', version: '1.0.0', dependencies } };
  for (const [path, entry] of Object.entries(rootLock.packages as Record<string, Record<string, unknown>>)) {
    if (!path.startsWith('node_modules/') || entry.link || path === 'node_modules/kes-server') continue;
    const { dev, devOptional, peer, ...rest } = entry;
    packages[path] = rest;
  }
  packages['node_modules/minio-sse-kes'] = {
    version: rootPackage.version,
    resolved: spec,
    dependencies: rootPackage.dependencies,
    peerDependencies: rootPackage.peerDependencies,
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies }, null, 2));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));
  return dir;
}

// Declares MinioSseKes from the installed package under its own default mocks; prints what it saw.
const program = `
import { installMocks } from 'minio-sse-kes/testing';
const failures = [];
process.on('unhandledRejection', (e) => failures.push(String(e)));
const m = await installMocks({ project: 'consumer', stack: 'dev' });
const { MinioSseKes, render } = await import('minio-sse-kes');
const system = new MinioSseKes('sse', {
  target: 'docker',
  vault: { mode: 'ephemeral' },
  defaultKey: 'minio-default',
  buckets: [{ name: 'data', key: 'minio-default' }],
  kesReplicas: 2,
});
await m.settle();
const types = [...new Set(m.resources.map((r) => r.type))].sort();
console.log(JSON.stringify({ types, failures, kesEndpoints: system.kesEndpoints, renderers: Object.keys(render).sort() }));
`;

async function assertConsumes(dir: string): Promise<void> {
  const installed = join(dir, 'node_modules', 'minio-sse-kes');
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  assert.equal('kes-server' in (manifest.dependencies ?? {}), false, 'no dependency on the unpublished kes-server workspace');
  for (const name of Object.keys(pulumiPins)) {
    assert.ok(manifest.peerDependencies?.[name], `${name} is a peer dependency`);
    assert.equal(existsSync(join(installed, 'node_modules', name)), false, `no second copy of ${name}`);
  }
  writeFileSync(join(dir, 'program.mjs'), program);
  const { stdout } = await run(process.execPath, [join(dir, 'program.mjs')], { cwd: dir });
  const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
  assert.deepEqual(out.failures, []);
  for (const type of [
    'minio-sse-kes:index:MinioSseKes',
    'minio-sse-kes:index:VaultKesBackend',
    'minio-sse-kes:index:KesPki',
    'minio-sse-kes:index:KesDeployment',
    'minio-sse-kes:index:MinioCluster',
    'minio-sse-kes:index:BucketEncryption',
    'vault:index/policy:Policy',
    'docker:index/container:Container',
  ]) {
    assert.ok(out.types.includes(type), `${type} declared: ${out.types.join(', ')}`);
  }
  assert.deepEqual(out.kesEndpoints, ['https://sse-kes-0:7373', 'https://sse-kes-1:7373']);
  assert.ok(out.renderers.includes('renderKesConfig'));
  assert.ok(out.renderers.includes('renderMinioEnv'));
}

test('npm install of the packed tarball into a scratch project, then the system declared from it', async (t) => {
  const dir = scratchProject('file:./minio-sse-kes.tgz');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { stdout } = await npm(['pack', '--json', '--pack-destination', dir], root);
  const [{ filename }] = JSON.parse(stdout.slice(stdout.indexOf('[')));
  renameSync(join(dir, filename), join(dir, 'minio-sse-kes.tgz'));
  await npm(['install', '--offline', '--no-audit', '--no-fund'], dir);
  await assertConsumes(dir);
});

test('npm install of a git+file:// URL of the current commit, then the system declared from it', async (t) => {
  const { stdout: sha } = await run('git', ['rev-parse', 'HEAD'], { cwd: root });
  const dir = scratchProject(`git+file://${root.replace(/\/$/, '')}#${sha.trim()}`);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await npm(['install', '--offline', '--no-audit', '--no-fund'], dir);
  assert.ok(existsSync(join(dir, 'node_modules', 'minio-sse-kes', 'dist', 'index.js')), 'prepare built dist/');
  await assertConsumes(dir);
});
