/**
 * `minio-sse-kes/testing` used the simplest way: `installMocks()` with no option, then the whole
 * system declared for every target. Nothing may fail in the background (the hand-written
 * `state: inputs` mocks crash with `error serializing property image`), and the graph is complete.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installMocks, plain, value } from '../../components/testing/index.ts';

const failures: unknown[] = [];
process.on('unhandledRejection', (e) => failures.push(e));
const m = await installMocks();
const { MinioSseKes } = await import('../../components/index.ts');

test('the default mocks declare the system on docker, kubernetes and linux with no background failure', async () => {
  const docker = new MinioSseKes('dk', { target: 'docker', vault: { mode: 'ephemeral' }, defaultKey: 'k1', buckets: [{ name: 'data', key: 'k1' }] });
  new MinioSseKes('k8', {
    target: 'kubernetes',
    vault: { mode: 'existing', address: 'https://vault.example.net:8200', token: 't' },
    defaultKey: 'k1',
    kesImage: 'registry.example/kes:1',
    kubernetes: { namespace: 'storage', minioMode: 'tenant' },
  });
  new MinioSseKes('lx', {
    target: 'linux',
    vault: { mode: 'existing', address: 'https://vault.example.net:8200', token: 't' },
    defaultKey: 'k1',
    linux: { kesHosts: [{ address: 'kes1', ssh: { privateKey: 'k' } }], minioHosts: [{ address: 'minio1', ssh: { privateKey: 'k' } }] },
  });
  await m.settle();
  assert.deepEqual(failures.map(String), []);
  assert.deepEqual(m.byType('docker:index/container:Container').map((r) => r.name).sort(), ['dk-kes-0', 'dk-kes-1', 'dk-minio-1', 'dk-openbao']);
  assert.equal(m.byType('kubernetes:minio.min.io/v2:Tenant').length, 1);
  assert.equal(m.byType('command:remote:Command').length, 2);
  assert.match(await value(docker.adminIdentity), /^[0-9a-f]{64}$/);
  const kes = plain(m.find('docker:index/container:Container', 'dk-kes-0').inputs);
  assert.match(kes.image, /kes-server/);
  assert.equal(m.urnOf('docker:index/container:Container', 'dk-kes-0').split('::')[2], 'minio-sse-kes:index:KesDeployment$docker:index/container:Container');
});
