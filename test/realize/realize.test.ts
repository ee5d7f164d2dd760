/**
 * The realization layer without an engine: capture of the stack program, ordering, field checks,
 * tokens and the upload archive. test/container realizes the captures on a real engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureStack } from '../../realize/capture.ts';
import { refuseUnknown } from '../../realize/fields.ts';
import { MODULES } from '../../realize/index.ts';
import { realizationOrder } from '../../realize/order.ts';
import { tarFiles } from '../../realize/tar.ts';
import { substitute, tokenMaker, tokensIn } from '../../realize/tokens.ts';
import { containerCreateBody, nanoseconds } from '../../realize/docker.ts';

const stacks = fileURLToPath(new URL('../../stacks/', import.meta.url));

test('capture of Pulumi.ci.yaml: every resource with its inputs, dependencies and provider; every type realizable, every field known', async () => {
  const c = await captureStack({ configFile: `${stacks}Pulumi.ci.yaml`, stack: 'capture-ci' });
  const keys = c.resources.filter((r) => r.custom).map((r) => r.key);
  const at = (k: string) => keys.indexOf(k);
  const order = realizationOrder(c.resources).map((r) => r.key);
  assert.equal(order.length, keys.length);
  const before = (a: string, b: string) => assert.ok(order.indexOf(a) >= 0 && order.indexOf(a) < order.indexOf(b), `${a} before ${b}`);
  before('docker:index/container:Container::sse-capture-ci-openbao', 'pulumi:providers:vault::sse-capture-ci-vault');
  before('pulumi:providers:vault::sse-capture-ci-vault', 'vault:index/policy:Policy::sse-capture-ci-vault-backend-policy');
  before('vault:index/policy:Policy::sse-capture-ci-vault-backend-policy', 'vault:appRole/authBackendRole:AuthBackendRole::sse-capture-ci-vault-backend-role');
  before('vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId::sse-capture-ci-vault-backend-secret-id', 'docker:index/container:Container::sse-capture-ci-kes-0');
  before('docker:index/container:Container::sse-capture-ci-minio-1', 'minio:index/s3Bucket:S3Bucket::sse-capture-ci-ci-bucket-bucket');
  // MinIO nodes start once KES is healthy (MinIO needs its KMS at start-up).
  before('docker:index/container:Container::sse-capture-ci-kes-0', 'docker:index/container:Container::sse-capture-ci-minio-1');
  assert.ok(at('docker:index/network:Network::sse-capture-ci-net') >= 0);
  const kes = c.resources.find((r) => r.key === 'docker:index/container:Container::sse-capture-ci-kes-0')!;
  // The role id and secret id reach KES as tokens the realization replaces by OpenBao's answers.
  const env = kes.inputs.envs as string[];
  const roleToken = tokensIn(env.find((e) => e.startsWith('KES_VAULT_ROLE_ID=')));
  assert.equal(roleToken.length, 1);
  assert.deepEqual(c.tokens[roleToken[0]], { resource: 'vault:appRole/authBackendRole:AuthBackendRole::sse-capture-ci-vault-backend-role', field: 'roleId' });
  assert.deepEqual(kes.secretInputs, ['envs']);
  // Keys and certificates are real at capture already.
  const ca = c.resources.find((r) => r.key === 'tls:index/selfSignedCert:SelfSignedCert::sse-capture-ci-pki-ca')!;
  assert.match(String(ca.outputs.certPem), /^-----BEGIN CERTIFICATE-----/);
  for (const r of c.resources.filter((x) => x.custom)) {
    const pkg = r.type.startsWith('pulumi:providers:') ? r.type.slice(17) : r.type.split(':')[0];
    const realizer = MODULES[pkg]?.[r.type];
    assert.ok(realizer, `a realizer for ${r.type}`);
    refuseUnknown(r.key, r.inputs, realizer.fields);
  }
});

test('a field no realizer knows stops the realization with the resource and the field named', () => {
  const container = MODULES.docker['docker:index/container:Container'];
  assert.throws(
    () => refuseUnknown('container c1', { name: 'c1', image: 'x', privileged: true, healthcheck: { tests: ['CMD', 'true'], startInterval: '1s' } }, container.fields),
    /^Error: realize: container c1: input field\(s\) not realized: privileged, healthcheck\.startInterval$/,
  );
  assert.throws(() => refuseUnknown('container c1', { ports: [{ internal: 1, hostname: 'h' }] }, container.fields), /ports\[0\]\.hostname/);
});

test('ordering refuses a cycle and a dependency the program did not declare', () => {
  const r = (key: string, dependencies: string[]) => ({ key, type: 't', name: key, custom: true, parent: '', dependencies, inputs: {}, secretInputs: [], outputs: {}, retainOnDelete: false });
  assert.throws(() => realizationOrder([r('a', ['b']), r('b', ['a'])]), /dependency cycle: a -> b -> a/);
  assert.throws(() => realizationOrder([r('a', ['ghost'])]), /a depends on ghost, which the program did not declare/);
  assert.deepEqual(realizationOrder([r('c', ['b']), r('b', ['a']), r('a', [])]).map((x) => x.key), ['a', 'b', 'c']);
});

test('tokens are replaced wherever they flowed, also inside strings; unknown ones remain visible', () => {
  const t = tokenMaker();
  const role = t.make('role', 'roleId');
  const other = t.make('other', 'id');
  const value = { envs: [`ROLE=${role}`], nested: { yaml: `a: ${role}\nb: ${other}` } };
  const out = substitute(value, new Map([[role, 'r-123']]));
  assert.deepEqual(out, { envs: ['ROLE=r-123'], nested: { yaml: `a: r-123\nb: ${other}` } });
  assert.deepEqual(tokensIn(out), [other]);
});

test('upload archives: one regular file per upload at its absolute path, long paths split into the ustar prefix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'realize-tar-'));
  try {
    const long = `/etc/${'d'.repeat(90)}/${'f'.repeat(60)}.pem`;
    writeFileSync(join(dir, 'a.tar'), tarFiles([{ path: '/etc/kes/config.yaml', content: Buffer.from('address: 0.0.0.0:7373\n'), mode: 0o644 }, { path: long, content: Buffer.from('x'), mode: 0o744 }]));
    assert.deepEqual(execFileSync('tar', ['-tvf', join(dir, 'a.tar')], { encoding: 'utf8' }).trim().split('\n').map((l) => `${l.split(/\s+/)[0]} ${l.split(/\s+/).at(-1)}`), [
      '-rw-r--r-- etc/kes/config.yaml',
      `-rwxr--r-- ${long.slice(1)}`,
    ]);
    execFileSync('tar', ['-xf', join(dir, 'a.tar'), '-C', dir]);
    assert.equal(readFileSync(join(dir, 'etc/kes/config.yaml'), 'utf8'), 'address: 0.0.0.0:7373\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('container inputs become the Engine API create body field by field, with the provider defaults', () => {
  assert.equal(nanoseconds('1m30s'), 90e9);
  assert.equal(nanoseconds('500ms'), 5e8);
  assert.throws(() => nanoseconds('5 seconds'), /not a duration/);
  const body = containerCreateBody({
    name: 'c',
    image: 'img',
    command: ['server'],
    envs: ['A=1'],
    ports: [{ internal: 9000, external: 19000, ip: '127.0.0.1' }, { internal: 9001 }],
    capabilities: { drops: ['ALL'] },
    healthcheck: { tests: ['CMD', 'true'], interval: '2s', timeout: '5s', retries: 3, startPeriod: '1s' },
    volumes: [{ volumeName: 'v1', containerPath: '/data' }],
    networksAdvanced: [{ name: 'net', aliases: ['svc'] }],
  }) as any;
  assert.deepEqual(body.ExposedPorts, { '9000/tcp': {}, '9001/tcp': {} });
  assert.deepEqual(body.HostConfig.PortBindings, { '9000/tcp': [{ HostIp: '127.0.0.1', HostPort: '19000' }], '9001/tcp': [{ HostIp: '0.0.0.0', HostPort: '' }] });
  assert.deepEqual(body.HostConfig.RestartPolicy, { Name: 'no' });
  assert.deepEqual(body.HostConfig.CapDrop, ['ALL']);
  assert.deepEqual(body.HostConfig.Binds, ['v1:/data']);
  assert.deepEqual(body.Healthcheck, { Test: ['CMD', 'true'], Interval: 2e9, Timeout: 5e9, Retries: 3, StartPeriod: 1e9 });
  assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: { net: { Aliases: ['svc'] } } });
  assert.equal(body.HostConfig.ReadonlyRootfs, false);
});
