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
import { StackConfigError, PROJECT, stackPortBase } from '../../stacks/config.ts';

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
  assert.deepEqual(program.kesEndpoints, ['https://sse-container-kes-0:7373', 'https://sse-container-kes-1:7373']);
  assert.equal(program.minioEndpoint, '127.0.0.1:9000');
  const containers = m.byType('docker:index/container:Container').map((r) => r.name).sort();
  assert.deepEqual(containers, ['sse-container-kes-0', 'sse-container-kes-1', 'sse-container-minio-1', 'sse-container-minio-2', 'sse-container-minio-3', 'sse-container-minio-4']);
  const vp = m.find('pulumi:providers:vault', 'sse-container-vault').inputs;
  assert.equal(vp.address, 'https://vault.example.net:8200');
  assert.equal(isSecretInput(vp.token), true);
  assert.equal(plain(vp.token), 'vault-token-1');
  const sse = m.find('minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption', 'sse-container-secure-data-sse').inputs;
  assert.deepEqual([sse.bucket, sse.kmsKeyId], ['secure-data', 'bucket-key']);
  assert.equal(m.find('vault:index/mount:Mount', 'sse-container-vault-backend-kv').inputs.options.version, '1');
  assert.equal(await pulumi.isSecret(program.minioRootPassword), true);
});

test('Pulumi.kubernetes.yaml: KES Deployment and MinIO StatefulSet with client-certificate auth and KV v2', async () => {
  const { m, program } = await run('kubernetes', { ...configOf('Pulumi.kubernetes.yaml'), [TOKEN]: 'vault-token-2' }, [TOKEN]);
  assert.deepEqual(program.kesEndpoints, ['https://sse-kubernetes-kes.storage.svc.cluster.local:7373']);
  assert.equal(m.find('kubernetes:apps/v1:Deployment', 'sse-kubernetes-deployment').inputs.spec.replicas, 2);
  assert.equal(m.find('kubernetes:apps/v1:StatefulSet', 'sse-kubernetes-minio-statefulset').inputs.spec.replicas, 4);
  assert.equal(m.find('kubernetes:apps/v1:Deployment', 'sse-kubernetes-deployment').inputs.spec.template.spec.containers[0].image, 'registry.example.net/minio-sse-kes/kes-server:0.1.0');
  assert.equal(m.find('vault:index/mount:Mount', 'sse-kubernetes-vault-backend-kv').inputs.options.version, '2');
  assert.ok(m.resources.some((r) => r.name === 'sse-kubernetes-pki-minio-cert'), 'certificate auth issues a MinIO client certificate');
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
  assert.deepEqual(cmds.map((c) => c.name).sort(), ['sse-linux-ssh-kes-install-0', 'sse-linux-ssh-kes-install-1', 'sse-linux-ssh-minio-install-0', 'sse-linux-ssh-minio-install-1']);
  for (const c of cmds) {
    assert.equal(containsSecret(c.inputs.connection), true);
    assert.equal(plain(c.inputs.connection).privateKey, 'SSH-PRIVATE-KEY');
    assert.equal(isSecretInput(c.inputs.stdin), true);
  }
  assert.equal(plain(m.find('command:remote:Command', 'sse-linux-ssh-minio-install-1').inputs.connection).host, 'minio2.example.net');
  // Secrets read with getSecret never reach a component's own inputs in plain text.
  for (const r of m.resources.filter((x) => x.custom === false)) {
    const text = JSON.stringify(plain(r.inputs));
    assert.equal(text.includes('SSH-PRIVATE-KEY') || text.includes('vault-token-4'), false, `${r.type} ${r.name}`);
  }
  // An existing Vault's shared mounts are used, not created.
  assert.equal(m.byType('vault:index/mount:Mount').length + m.byType('vault:index/authBackend:AuthBackend').length, 0);
});

test('Pulumi.ci.yaml: ephemeral OpenBao, one KES, one MinIO, on the ports derived from the stack name', async () => {
  const { m, program } = await run('ci', configOf('Pulumi.ci.yaml'));
  const base = stackPortBase('ci');
  assert.deepEqual(program.kesEndpoints, ['https://sse-ci-kes-0:7373']);
  assert.equal(program.minioEndpoint, `127.0.0.1:${base}`);
  assert.deepEqual(m.find('docker:index/container:Container', 'sse-ci-openbao').inputs.ports, [{ internal: 8200, external: base + 1, ip: '127.0.0.1' }]);
  assert.equal(m.find('pulumi:providers:vault', 'sse-ci-vault').inputs.address, `http://127.0.0.1:${base + 1}`);
  assert.deepEqual(m.find('docker:index/container:Container', 'sse-ci-kes-0').inputs.ports, [{ internal: 7373, external: base + 2, ip: '127.0.0.1' }]);
  assert.deepEqual(program.kesHostEndpoints, [`https://127.0.0.1:${base + 2}`]);
  const components = m.resources.filter((r) => r.type.startsWith('minio-sse-kes:index:')).map((r) => r.type).sort();
  assert.deepEqual(components, [
    'minio-sse-kes:index:BucketEncryption',
    'minio-sse-kes:index:KesDeployment',
    'minio-sse-kes:index:KesPki',
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

/** Every name and loopback port a Docker stack claims on the host, and its Vault role and policy. */
function claims(m: Awaited<ReturnType<typeof installMocks>>): string[] {
  const out: string[] = [];
  for (const r of m.resources) {
    const i = plain(r.inputs);
    if (r.type === 'docker:index/container:Container') out.push(`container ${i.name}`, ...(i.ports ?? []).map((p: { external: number }) => `port ${p.external}`));
    if (r.type === 'docker:index/network:Network' || r.type === 'docker:index/volume:Volume') out.push(`${r.type} ${i.name}`);
    if (r.type === 'vault:index/policy:Policy') out.push(`policy ${i.name}`);
    if (r.type === 'vault:appRole/authBackendRole:AuthBackendRole') out.push(`role ${i.roleName}`);
  }
  return out;
}

test('two CI stacks side by side claim no common container, network, volume, host port, Vault role or policy', async () => {
  const a = claims((await run('ci-a', configOf('Pulumi.ci.yaml'))).m);
  const b = claims((await run('ci-b', configOf('Pulumi.ci.yaml'))).m);
  assert.ok(a.some((c) => c.startsWith('docker:index/volume:Volume ')) && a.some((c) => c.startsWith('role ')) && a.some((c) => c.startsWith('port ')), a.join(', '));
  assert.deepEqual(a.filter((c) => b.includes(c)), []);
  assert.ok(a.includes('container sse-ci-a-openbao') && a.includes('policy sse-ci-a-kes'), a.join(', '));
});

test('namePrefix replaces the stack-derived prefix', async () => {
  const { m } = await run('ci-prefixed', { ...configOf('Pulumi.ci.yaml'), [`${PROJECT}:namePrefix`]: 'team-x' });
  assert.ok(claims(m).includes('container team-x-kes-0'));
  assert.equal(m.byType('docker:index/container:Container').some((r) => plain(r.inputs).name.startsWith('sse-')), false);
});
