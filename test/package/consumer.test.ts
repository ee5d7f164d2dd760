/**
 * The component package as another stack consumes it: built with `tsconfig.build.json` into a
 * `node_modules/minio-sse-kes` of a scratch project (Node does not strip types in node_modules, so
 * the emitted JavaScript is what runs), imported by its package name from a plain `.mjs` program
 * that declares the whole system under Pulumi mocks.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

// Declares MinioSseKes from the installed package, under the project's realistic mocks, and prints
// every registered resource type.
const consumer = (mocksModule: string) => `
import * as pulumi from '@pulumi/pulumi';
import { installMocks, settle } from ${JSON.stringify(mocksModule)};
const recorded = await installMocks('consumer', 'dev');
const { MinioSseKes, render } = await import('minio-sse-kes');
const system = new MinioSseKes('sse', {
  target: 'docker',
  vault: { mode: 'existing', address: 'https://vault.example.net:8200', token: pulumi.secret('t') },
  defaultKey: 'minio-default',
  buckets: [{ name: 'data', key: 'minio-default' }],
  kesReplicas: 2,
});
await settle();
const types = [...new Set(recorded.resources.map((r) => r.type))].sort();
console.log(JSON.stringify({ types, kesEndpoints: system.kesEndpoints, renderers: Object.keys(render).sort() }));
`;

test('the built package is importable by name from node_modules and declares the system', async (t) => {
  const scratch = mkdtempSync(join(root, '.tmp-consumer-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  const pkg = join(scratch, 'node_modules', 'minio-sse-kes');
  mkdirSync(pkg, { recursive: true });
  await run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')], { cwd: root });
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  writeFileSync(join(scratch, 'program.mjs'), consumer(join(root, 'test', 'components', 'mocks.ts')));

  const { stdout } = await run(process.execPath, [join(scratch, 'program.mjs')], { cwd: scratch });
  const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
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
  assert.equal(out.kesEndpoints.length, 2);
  assert.ok(out.renderers.includes('renderKesConfig'));
  assert.ok(out.renderers.includes('renderMinioEnv'));
});
