import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as pulumi from '@pulumi/pulumi';
import { installMocks, settle } from '../components/mocks.ts';

let m: Awaited<ReturnType<typeof installMocks>>;

before(async () => {
  m = await installMocks('minio-sse-kes', 'ci');
  pulumi.runtime.setAllConfig({
    'minio-sse-kes:target': 'docker',
    'minio-sse-kes:vaultMode': 'ephemeral',
    'minio-sse-kes:kesReplicas': '1',
    'minio-sse-kes:keys': '["k1"]',
    'minio-sse-kes:buckets': '[{"name":"b-one","key":"k1"}]',
  });
});

test('the stack program reads its config and declares the whole system', async () => {
  const program = await import('../../stacks/index.ts');
  await settle();
  assert.deepEqual(program.kesEndpoints, ['https://sse-kes-0:7373']);
  assert.equal(program.minioEndpoint, '127.0.0.1:9000');
  const components = m.resources.filter((r) => r.type.startsWith('minio-sse-kes:index:')).map((r) => r.type).sort();
  assert.deepEqual(components, [
    'minio-sse-kes:index:BucketEncryption',
    'minio-sse-kes:index:KesPki',
    'minio-sse-kes:index:KesServer',
    'minio-sse-kes:index:MinioCluster',
    'minio-sse-kes:index:MinioSseKes',
    'minio-sse-kes:index:VaultKesBackend',
  ]);
  assert.equal(await pulumi.isSecret(program.minioRootPassword), true);
});
