import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { minioVolumes, renderEnvFile, renderMinioEnv, renderTenantConfigEnv } from '../../components/render/minio-env.ts';
import type { MinioEnvArgs, MinioVolumeLayout } from '../../components/render/minio-env.ts';
import { statefulSetVolumes } from '../../components/render/kubernetes.ts';
import { isRenderError } from '../../components/render/validate.ts';

const volumeCases: Array<{ name: string; in: MinioVolumeLayout; out: string }> = [
  { name: 'single node, single drive', in: { nodes: 1, drivesPerNode: 1, dataRoot: '/data' }, out: '/data' },
  { name: 'single node, four drives', in: { nodes: 1, drivesPerNode: 4, dataRoot: '/mnt/drive' }, out: '/mnt/drive{1...4}' },
  {
    name: 'four nodes, two drives',
    in: { nodes: 4, drivesPerNode: 2, dataRoot: '/data', hostPrefix: 'minio', hostSuffix: '.example.net' },
    out: 'http://minio{1...4}.example.net:9000/data{1...2}',
  },
  {
    name: 'four nodes, one drive, https, custom port',
    in: { nodes: 4, drivesPerNode: 1, dataRoot: '/data', hostPrefix: 'host', scheme: 'https', port: 9443 },
    out: 'https://host{1...4}:9443/data',
  },
];

for (const c of volumeCases) {
  test(`minioVolumes ${c.name}`, () => assert.equal(minioVolumes(c.in), c.out));
}

test('statefulSetVolumes counts pods from 0 through the headless service', () => {
  assert.equal(
    statefulSetVolumes({ name: 'minio', namespace: 'ns', replicas: 4, drivesPerNode: 2 }),
    'http://minio-{0...3}.minio-hl.ns.svc.cluster.local:9000/data{1...2}',
  );
});

const volumeErrors: Array<{ name: string; in: MinioVolumeLayout; field: string }> = [
  { name: 'zero nodes', in: { nodes: 0, drivesPerNode: 1, dataRoot: '/d' }, field: 'nodes' },
  { name: 'relative path', in: { nodes: 1, drivesPerNode: 1, dataRoot: 'data' }, field: 'dataRoot' },
  { name: 'multi-node without host prefix', in: { nodes: 4, drivesPerNode: 1, dataRoot: '/d' }, field: 'hostPrefix' },
  { name: 'two nodes with one drive each', in: { nodes: 2, drivesPerNode: 1, dataRoot: '/d', hostPrefix: 'h' }, field: 'drivesPerNode' },
];
for (const c of volumeErrors) {
  test(`minioVolumes rejects ${c.name}`, () => {
    assert.throws(() => minioVolumes(c.in), (e: unknown) => isRenderError(e) && e.field === c.field);
  });
}

const base: MinioEnvArgs = {
  kesEndpoints: ['https://kes-0:7373', 'https://kes-1:7373'],
  defaultKeyName: 'minio-default',
  kesCaPath: '/etc/minio/kes/ca.crt',
  rootUser: 'admin',
  rootPassword: 'password123',
  volumes: '/data',
};

test('renderMinioEnv with client certificate files', () => {
  assert.deepEqual(renderMinioEnv({ ...base, clientCertFile: '/etc/minio/kes/client.crt', clientKeyFile: '/etc/minio/kes/client.key' }), {
    MINIO_KMS_KES_CAPATH: '/etc/minio/kes/ca.crt',
    MINIO_KMS_KES_CERT_FILE: '/etc/minio/kes/client.crt',
    MINIO_KMS_KES_ENDPOINT: 'https://kes-0:7373,https://kes-1:7373',
    MINIO_KMS_KES_KEY_FILE: '/etc/minio/kes/client.key',
    MINIO_KMS_KES_KEY_NAME: 'minio-default',
    MINIO_ROOT_PASSWORD: 'password123',
    MINIO_ROOT_USER: 'admin',
    MINIO_VOLUMES: '/data',
  });
});

test('renderMinioEnv with an API key sets no certificate files', () => {
  const env = renderMinioEnv({ ...base, apiKey: 'kes:v1:AGaV6VXHasF0FnaB60WdCOeTZ8eTIDikL4zlN16c8NAs' });
  assert.equal(env.MINIO_KMS_KES_API_KEY, 'kes:v1:AGaV6VXHasF0FnaB60WdCOeTZ8eTIDikL4zlN16c8NAs');
  assert.equal('MINIO_KMS_KES_CERT_FILE' in env, false);
  assert.equal('MINIO_KMS_KES_KEY_FILE' in env, false);
  assert.deepEqual(Object.keys(env), [...Object.keys(env)].sort());
});

const envErrors: Array<{ name: string; in: MinioEnvArgs; field: string }> = [
  { name: 'both API key and certificate', in: { ...base, apiKey: 'kes:v1:AA==', clientCertFile: '/c', clientKeyFile: '/k' }, field: 'apiKey' },
  { name: 'neither credential', in: base, field: 'apiKey' },
  { name: 'certificate without key', in: { ...base, clientCertFile: '/c' }, field: 'clientKeyFile' },
  { name: 'plain http endpoint', in: { ...base, apiKey: 'kes:v1:AA==', kesEndpoints: ['http://kes:7373'] }, field: 'kesEndpoints' },
  { name: 'invalid key name', in: { ...base, apiKey: 'kes:v1:AA==', defaultKeyName: 'my.key' }, field: 'defaultKeyName' },
  { name: 'short root password', in: { ...base, apiKey: 'kes:v1:AA==', rootPassword: 'short' }, field: 'rootPassword' },
];
for (const c of envErrors) {
  test(`renderMinioEnv rejects ${c.name}`, () => {
    assert.throws(() => renderMinioEnv(c.in), (e: unknown) => isRenderError(e) && e.field === c.field);
  });
}

test('renderMinioEnv error messages never contain the secret values', () => {
  try {
    renderMinioEnv({ ...base, apiKey: 'kes:v1:SECRETSECRET', clientCertFile: '/c', clientKeyFile: '/k' });
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof Error && !e.message.includes('SECRETSECRET'));
  }
});

test('renderEnvFile round-trips arbitrary values through a POSIX shell', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'envfile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'env');
  const value = fc.string({ unit: fc.constantFrom('a', ' ', '"', "'", '\\', '$', '`', '#', '=', '{', '}', '*', 'é', ';', '\t'), maxLength: 24 });
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom('A', 'B_2', 'MINIO_X'), value, { maxKeys: 3 }), (env) => {
      writeFileSync(file, renderEnvFile(env));
      const names = Object.keys(env);
      // Source the file in a clean shell and print each variable NUL-terminated.
      const script = `set -a; . "$1"; shift; for n in "$@"; do eval "printf '%s\\0' \\"\\$$n\\""; done`;
      const out = execFileSync('/bin/sh', ['-c', script, 'sh', file, ...names], { env: {} }).toString();
      assert.deepEqual(out.split('\0').slice(0, -1), names.map((n) => env[n]));
    }),
    { numRuns: 60 },
  );
});

test('renderEnvFile sorts lines and rejects newlines and bad names', () => {
  assert.equal(renderEnvFile({ B: 'x', A: 'a"b' }), 'A="a\\"b"\nB="x"\n');
  assert.throws(() => renderEnvFile({ A: 'x\ny' }), (e: unknown) => isRenderError(e) && e.field === 'env.A');
  assert.throws(() => renderEnvFile({ '1A': 'x' }), (e: unknown) => isRenderError(e) && e.field === 'env');
});

test('Tenant config.env: export lines escaped like the env file; a shell reads back any password, quotes included', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tenant-env-'));
  try {
    for (const rootPassword of ['pa"ss word', 'a$HOME`id`\\b', "it's \"quoted\""]) {
      const text = renderTenantConfigEnv({ rootUser: 'minio-root', rootPassword });
      assert.match(text, /^export MINIO_ROOT_USER="minio-root"\nexport MINIO_ROOT_PASSWORD="/);
      assert.equal(text.split('\n').slice(1).join('\n'), renderEnvFile({ MINIO_ROOT_PASSWORD: rootPassword }).replace(/^/, 'export '));
      const file = join(dir, 'config.env');
      writeFileSync(file, text);
      const read = execFileSync('sh', ['-c', `. "${file}"; printf '%s' "$MINIO_ROOT_PASSWORD"`], { encoding: 'utf8', env: {} });
      assert.equal(read, rootPassword);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
