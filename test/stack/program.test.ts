/**
 * The stack program (`stacks/index.ts`) under mocks, once per documented stack file (plus the
 * Linux file with an SSH key): it reads the configuration as `pulumi.Config` sees it and declares
 * the whole system for that target. A wrong configuration fails before any resource is declared.
 * Each run evaluates a fresh copy of the program (the module URL carries the run's name).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import { containsSecret, installMocks, isSecretInput, plain, settle } from '../components/mocks.ts';
import { StackConfigError, PROJECT } from '../../stacks/config.ts';

type Program = typeof import('../../stacks/index.ts');

/** The config of a stack file as the engine hands it to the program (structured values as JSON). */
function configOf(file: string): Record<string, string> {
  const doc = parse(readFileSync(new URL(`../../stacks/${file}`, import.meta.url), 'utf8')) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** Runs a fresh copy of the program with `config` (secret keys as `pulumi config set --secret` would). */
async function run(label: string, config: Record<string, string>, secretKeys: string[] = []) {
  const m = await installMocks(PROJECT, label);
  pulumi.runtime.setAllConfig(config, secretKeys);
  const url = new URL('../../stacks/index.ts', import.meta.url);
  url.searchParams.set('run', label);
  const program = (await import(url.href)) as Program;
  await settle();
  return { m, program };
}

const TOKEN = `${PROJECT}:vaultToken`;
const SSH = `${PROJECT}:sshPrivateKey`;

test('Pulumi.container.yaml: Docker with an existing Vault, 2 KES and 4 MinIO containers, one encrypted bucket', async () => {
  const { m, program } = await run('container', { ...configOf('Pulumi.container.yaml'), [TOKEN]: 'vault-token-1' }, [TOKEN]);
  assert.deepEqual(program.kesEndpoints, ['https://sse-kes-0:7373', 'https://sse-kes-1:7373']);
  assert.equal(program.minioEndpoint, '127.0.0.1:9000');
  const containers = m.byType('docker:index/container:Container').map((r) => r.name).sort();
  assert.deepEqual(containers, ['sse-kes-0', 'sse-kes-1', 'sse-minio-1', 'sse-minio-2', 'sse-minio-3', 'sse-minio-4']);
  const vp = m.find('pulumi:providers:vault', 'sse-vault').inputs;
  assert.equal(vp.address, 'https://vault.example.net:8200');
  assert.equal(isSecretInput(vp.token), true);
  assert.equal(plain(vp.token), 'vault-token-1');
  const sse = m.find('minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption', 'sse-secure-data-sse').inputs;
  assert.deepEqual([sse.bucket, sse.kmsKeyId], ['secure-data', 'bucket-key']);
  assert.equal(m.find('vault:index/mount:Mount', 'sse-vault-backend-kv').inputs.options.version, '1');
  assert.equal(await pulumi.isSecret(program.minioRootPassword), true);
});

test('Pulumi.kubernetes.yaml: KES Deployment and MinIO StatefulSet with client-certificate auth and KV v2', async () => {
  const { m, program } = await run('kubernetes', { ...configOf('Pulumi.kubernetes.yaml'), [TOKEN]: 'vault-token-2' }, [TOKEN]);
  assert.deepEqual(program.kesEndpoints, ['https://sse-kes.storage.svc.cluster.local:7373']);
  assert.equal(m.find('kubernetes:apps/v1:Deployment', 'sse-deployment').inputs.spec.replicas, 2);
  assert.equal(m.find('kubernetes:apps/v1:StatefulSet', 'sse-minio-statefulset').inputs.spec.replicas, 4);
  assert.equal(m.find('kubernetes:apps/v1:Deployment', 'sse-deployment').inputs.spec.template.spec.containers[0].image, 'registry.example.net/minio-sse-kes/kes-server:0.1.0');
  assert.equal(m.find('vault:index/mount:Mount', 'sse-vault-backend-kv').inputs.options.version, '2');
  assert.ok(m.resources.some((r) => r.name === 'sse-pki-minio-cert'), 'certificate auth issues a MinIO client certificate');
  assert.equal(m.resources.some((r) => r.type.startsWith('docker:')), false);
});

test('Pulumi.linux.yaml without an SSH key: files rendered, nothing executed', async () => {
  const { m, program } = await run('linux', { ...configOf('Pulumi.linux.yaml'), [TOKEN]: 'vault-token-3' }, [TOKEN]);
  assert.deepEqual(program.kesEndpoints, ['https://kes1.example.net:7373', 'https://kes2.example.net:7373']);
  assert.equal(program.minioEndpoint, 'minio1.example.net:9000');
  assert.equal(m.byType('command:remote:Command').length, 0);
});

test('Pulumi.linux.yaml with an SSH key: one install command per host, the key secret', async () => {
  const { m } = await run('linux-ssh', { ...configOf('Pulumi.linux.yaml'), [TOKEN]: 'vault-token-4', [SSH]: 'SSH-PRIVATE-KEY' }, [TOKEN, SSH]);
  const cmds = m.byType('command:remote:Command');
  assert.deepEqual(cmds.map((c) => c.name).sort(), ['sse-kes-install-0', 'sse-kes-install-1', 'sse-minio-install-0', 'sse-minio-install-1']);
  for (const c of cmds) {
    assert.equal(containsSecret(c.inputs.connection), true);
    assert.equal(plain(c.inputs.connection).privateKey, 'SSH-PRIVATE-KEY');
    assert.equal(isSecretInput(c.inputs.stdin), true);
  }
  assert.equal(plain(m.find('command:remote:Command', 'sse-minio-install-1').inputs.connection).host, 'minio2.example.net');
});

test('Pulumi.ci.yaml: ephemeral OpenBao, one KES, one MinIO, on the ports of the CI file', async () => {
  const { m, program } = await run('ci', configOf('Pulumi.ci.yaml'));
  assert.deepEqual(program.kesEndpoints, ['https://sse-kes-0:7373']);
  assert.equal(program.minioEndpoint, '127.0.0.1:19000');
  assert.deepEqual(m.find('docker:index/container:Container', 'sse-openbao').inputs.ports, [{ internal: 8200, external: 18200, ip: '127.0.0.1' }]);
  assert.equal(m.find('pulumi:providers:vault', 'sse-vault').inputs.address, 'http://127.0.0.1:18200');
  const components = m.resources.filter((r) => r.type.startsWith('minio-sse-kes:index:')).map((r) => r.type).sort();
  assert.deepEqual(components, [
    'minio-sse-kes:index:BucketEncryption',
    'minio-sse-kes:index:KesPki',
    'minio-sse-kes:index:KesServer',
    'minio-sse-kes:index:MinioCluster',
    'minio-sse-kes:index:MinioSseKes',
    'minio-sse-kes:index:VaultKesBackend',
  ]);
});

test('a wrong stack configuration stops the program before any resource, naming the key', async () => {
  const config: Record<string, string> = { ...configOf('Pulumi.kubernetes.yaml'), [TOKEN]: 'vault-token-5' };
  delete config[`${PROJECT}:namespace`];
  const m = await installMocks(PROJECT, 'wrong');
  pulumi.runtime.setAllConfig(config, [TOKEN]);
  const url = new URL('../../stacks/index.ts', import.meta.url);
  url.searchParams.set('run', 'wrong');
  await assert.rejects(import(url.href), (e: unknown) => e instanceof StackConfigError && e.key === 'namespace' && e.message.includes(`[${PROJECT}:namespace]`));
  await settle();
  assert.equal(m.resources.length, 0);
});
