import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { readStackConfig, StackConfigError, PROJECT, stackNamePrefix, stackPortBase } from '../../stacks/config.ts';
import { validateMinioSseKesArgs } from '../../components/stack.ts';

const dir = new URL('../../stacks/', import.meta.url);

/** A getter over a stack file, as `pulumi.Config.get` would see it (structured values as JSON). */
function getterOf(file: string): (key: string) => string | undefined {
  const doc = parse(readFileSync(new URL(file, dir), 'utf8')) as { config: Record<string, unknown> };
  return (key) => {
    const v = doc.config[`${PROJECT}:${key}`];
    if (v === undefined) return undefined;
    return typeof v === 'string' ? v : JSON.stringify(v);
  };
}

const stacks = readdirSync(dir).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).sort();

test('all four stack files exist', () => {
  assert.deepEqual(stacks, ['Pulumi.ci.yaml', 'Pulumi.container.yaml', 'Pulumi.kubernetes.yaml', 'Pulumi.linux.yaml']);
});

for (const file of stacks) {
  test(`${file} passes the program's config validation and the component's`, () => {
    const args = readStackConfig(getterOf(file), { VAULT_TOKEN: 'token-from-env' });
    validateMinioSseKesArgs(args);
    const doc = parse(readFileSync(new URL(file, dir), 'utf8')) as { config: Record<string, unknown> };
    assert.equal(args.target, doc.config[`${PROJECT}:target`]);
    for (const key of Object.keys(doc.config)) assert.ok(key.startsWith(`${PROJECT}:`), key);
    const text = readFileSync(new URL(file, dir), 'utf8');
    assert.match(text, /^# /m, 'the stack file is documented with comments');
  });
}

test('the CI stack uses an ephemeral OpenBao and one replica each', () => {
  const args = readStackConfig(getterOf('Pulumi.ci.yaml'), {}, 'ci-7');
  assert.equal(args.target, 'docker');
  if (args.target !== 'docker') return;
  assert.deepEqual(args.vault, { mode: 'ephemeral', hostPort: stackPortBase('ci-7') + 1 });
  assert.deepEqual(args.docker, { minioHostPort: stackPortBase('ci-7'), kesHostPort: stackPortBase('ci-7') + 2 });
  assert.equal(args.kesReplicas, 1);
  assert.deepEqual(args.buckets, [{ name: 'ci-bucket', key: 'ci-bucket-key', forceDestroy: true }]);
  assert.equal(args.retainData, false);
});

const errors: Array<{ name: string; config: Record<string, string>; key: string }> = [
  { name: 'missing target', config: {}, key: 'target' },
  { name: 'unknown target', config: { target: 'mainframe' }, key: 'target' },
  { name: 'missing Vault token', config: { target: 'docker', vaultAddress: 'https://v:8200' }, key: 'vaultToken' },
  { name: 'ephemeral on kubernetes', config: { target: 'kubernetes', vaultMode: 'ephemeral' }, key: 'vaultMode' },
  { name: 'bad replicas', config: { target: 'docker', vaultMode: 'ephemeral', kesReplicas: 'two' }, key: 'kesReplicas' },
  { name: 'bucket with unknown key', config: { target: 'docker', vaultMode: 'ephemeral', buckets: '[{"name":"b","key":"nope"}]' }, key: 'buckets' },
  { name: 'kubernetes without namespace', config: { target: 'kubernetes', vaultAddress: 'https://v:8200', vaultToken: 't' }, key: 'namespace' },
  { name: 'linux without hosts', config: { target: 'linux', vaultAddress: 'https://v:8200', vaultToken: 't' }, key: 'kesHosts' },
  { name: 'two nodes one drive', config: { target: 'docker', vaultMode: 'ephemeral', minioNodes: '2' }, key: 'minioDrivesPerNode' },
  { name: 'no KES replica', config: { target: 'docker', vaultMode: 'ephemeral', kesReplicas: '0' }, key: 'kesReplicas' },
  { name: 'bad bucket name', config: { target: 'docker', vaultMode: 'ephemeral', buckets: '[{"name":"Bad_Name","key":"minio-default"}]' }, key: 'buckets' },
  { name: 'bad K/V mount path', config: { target: 'docker', vaultMode: 'ephemeral', vaultEngine: '/kv/' }, key: 'vaultEngine' },
  { name: 'bad role name', config: { target: 'docker', vaultMode: 'ephemeral', vaultRoleName: 'a role' }, key: 'vaultRoleName' },
  { name: 'privileged host port', config: { target: 'docker', vaultMode: 'ephemeral', minioHostPort: '80' }, key: 'minioHostPort' },
  { name: 'not a boolean', config: { target: 'docker', vaultMode: 'ephemeral', vaultCreateMount: 'yes' }, key: 'vaultCreateMount' },
  { name: 'namespace not a DNS label', config: { target: 'kubernetes', vaultAddress: 'https://v:8200', vaultToken: 't', namespace: 'Storage', kesImage: 'i' }, key: 'namespace' },
  { name: 'bad Vault URL for Pulumi', config: { target: 'docker', vaultAddress: 'https://v:8200', vaultToken: 't', vaultProviderAddress: 'vault:8200' }, key: 'vaultProviderAddress' },
];
for (const c of errors) {
  test(`a wrong configuration fails naming the key: ${c.name}`, () => {
    assert.throws(
      () => readStackConfig((k) => c.config[k]),
      (e: unknown) => e instanceof StackConfigError && e.key === c.key && e.message.includes(`[${PROJECT}:${c.key}]`),
    );
  });
}

test('a config error never echoes the secret value', () => {
  try {
    readStackConfig((k) => ({ target: 'docker', vaultAddress: 'not a url', vaultToken: 'hunter2-token' })[k]);
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof StackConfigError && e.key === 'vaultAddress' && !e.message.includes('hunter2'));
  }
});

test('the name prefix comes from the stack name unless namePrefix is set; a bad one names the key', () => {
  assert.equal(stackNamePrefix(() => undefined, 'CI_Feature.7'), 'sse-ci-feature-7');
  assert.equal(stackNamePrefix((k) => (k === 'namePrefix' ? 'team-x' : undefined), 'ci'), 'team-x');
  assert.throws(() => stackNamePrefix((k) => (k === 'namePrefix' ? 'Team X' : undefined), 'ci'), (e: unknown) => e instanceof StackConfigError && e.key === 'namePrefix');
});

test('derived port blocks stay in 20000-31999 and differ between stack names', () => {
  const bases = ['ci', 'ci-a', 'ci-b', 'dev', 'prod', 'container'].map(stackPortBase);
  for (const b of bases) assert.ok(b >= 20000 && b + 19 <= 31999 && b % 20 === 0, String(b));
  assert.equal(new Set(bases).size, bases.length);
});

test('an existing Vault: shared mounts used by default, every Vault choice read from its key', () => {
  const base = { target: 'docker', vaultAddress: 'https://vault.internal:8200', vaultToken: 't' };
  const plainArgs = readStackConfig((k) => (base as Record<string, string>)[k], {}, 'team-a');
  assert.equal(plainArgs.vaultLayout?.createMount, false);
  assert.equal(plainArgs.vaultLayout?.createAuthBackend, false);
  assert.equal(plainArgs.vaultLayout?.roleName, 'sse-team-a-kes');
  const all: Record<string, string> = {
    ...base,
    vaultProviderAddress: 'https://vault.example.net:8200',
    vaultCaCert: 'CA-PEM',
    vaultProviderCaCertFile: '/etc/ssl/vault.pem',
    vaultNamespace: 'team-a',
    vaultCreateNamespace: 'true',
    vaultEngine: 'secret/kes',
    vaultKvVersion: 'v2',
    vaultPrefix: 'minio',
    vaultCreateMount: 'true',
    vaultApprolePath: 'approle-kes',
    vaultCreateAuthBackend: 'true',
    vaultRoleName: 'role-1',
    vaultPolicyName: 'policy-1',
  };
  const args = readStackConfig((k) => all[k], {}, 'team-a');
  assert.equal(args.vault.mode, 'existing');
  if (args.vault.mode !== 'existing') return;
  assert.deepEqual(
    { address: args.vault.address, providerAddress: args.vault.providerAddress, caCertPem: args.vault.caCertPem, providerCaCertFile: args.vault.providerCaCertFile },
    { address: 'https://vault.internal:8200', providerAddress: 'https://vault.example.net:8200', caCertPem: 'CA-PEM', providerCaCertFile: '/etc/ssl/vault.pem' },
  );
  assert.deepEqual(args.vaultLayout, {
    engine: 'secret/kes',
    version: 'v2',
    prefix: 'minio',
    createMount: true,
    approlePath: 'approle-kes',
    createAuthBackend: true,
    namespace: 'team-a',
    createNamespace: true,
    roleName: 'role-1',
    policyName: 'policy-1',
  });
});
