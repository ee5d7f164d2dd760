/**
 * Pulumi.ci.yaml realized on the real engine (OpenBao dev container, one KES, one MinIO), checked
 * end to end from the machine through the published loopback ports: SSE-KMS objects small and
 * multipart, no plaintext on the MinIO volume, a hardened KES, restarts that lose nothing, a
 * second stack side by side, and a teardown that leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { destroy } from '../../realize/index.ts';
import { containersOf, docker, dockerTry, healthOf, leftovers, mcFor, realize, realizeEnv, runId, stackFile, waitHealthy } from './helpers.ts';
import type { RealizedStack } from './helpers.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Host ports the stack's containers publish. */
function publishedPorts(prefix: string): string[] {
  return containersOf(prefix).flatMap((n) => docker('port', n).split('\n').filter(Boolean).map((l) => l.split(' -> ')[1]));
}

const roleAndPolicy = (s: RealizedStack) => {
  const of = (type: string) => s.capture.resources.find((r) => r.type === type)!.inputs;
  return [of('vault:appRole/authBackendRole:AuthBackendRole').roleName, of('vault:index/policy:Policy').name];
};

test('Pulumi.ci.yaml on the real engine: encrypted objects, hardened KES, restarts, a second stack beside it, clean teardown', async (t) => {
  const env = realizeEnv();
  const work = mkdtempSync(join(tmpdir(), 'mskes-ci-'));
  let first: RealizedStack | undefined;
  let second: RealizedStack | undefined;
  t.after(async () => {
    for (const s of [second, first]) if (s) await destroy(s.state, env).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  const stack = `${runId}-ci`;
  first = await realize({ configFile: stackFile('Pulumi.ci.yaml'), stack }, env);
  const s = first;
  const mc = mcFor(s);
  t.after(() => mc.remove());
  const bucket = 's/ci-bucket';

  // Small, multipart (mc uploads objects of 16 MiB and more in parts) and a plaintext marker.
  const marker = Buffer.from(`PLAINTEXT-MARKER-${runId}-`.repeat(2048));
  const objects: Record<string, Buffer> = { small: randomBytes(4096), multipart: randomBytes(20 << 20), marker };
  for (const [name, data] of Object.entries(objects)) {
    writeFileSync(join(work, name), data);
    mc.run('cp', '--quiet', join(work, name), `${bucket}/${name}`);
  }

  await t.test('every container is healthy', () => {
    const h = healthOf(s.prefix);
    assert.deepEqual(Object.keys(h).sort(), [`${s.prefix}-kes-0`, `${s.prefix}-minio-1`, `${s.prefix}-openbao`]);
    assert.deepEqual(new Set(Object.values(h)), new Set(['healthy']));
  });

  await t.test('GET returns what was PUT (SHA-256), and mc stat shows SSE-KMS with the bucket key', () => {
    for (const [name, data] of Object.entries(objects)) {
      mc.run('cp', '--quiet', `${bucket}/${name}`, join(work, `${name}.back`));
      assert.equal(sha256(readFileSync(join(work, `${name}.back`))), sha256(data), name);
      assert.match(mc.run('stat', `${bucket}/${name}`), /Encryption: SSE-KMS \(arn:aws:kms:ci-bucket-key\)/, name);
    }
    const etag = (JSON.parse(mc.run('stat', '--json', `${bucket}/multipart`)) as { etag: string }).etag;
    assert.match(etag, /-2$/, 'uploaded in two parts');
    assert.match(mc.run('encrypt', 'info', 's/ci-bucket'), /sse-kms.*ci-bucket-key/);
  });

  await t.test('the MinIO volume holds the objects but not their plaintext', () => {
    const volume = docker('volume', 'inspect', '-f', '{{.Mountpoint}}', `${s.prefix}-minio-1-data1`);
    const stored = files(volume);
    assert.ok(stored.some((f) => f.includes(join('ci-bucket', 'marker'))), 'the marker object is on this volume');
    const needle = Buffer.from(`PLAINTEXT-MARKER-${runId}-`);
    const holding = stored.filter((f) => statSync(f).size > 0 && readFileSync(f).includes(needle));
    assert.deepEqual(holding, []);
  });

  await t.test('KES runs as uid 1000 with a read-only root file system and no capabilities', async () => {
    const kes = `${s.prefix}-kes-0`;
    const host = JSON.parse(docker('inspect', '-f', '{{json .HostConfig}}', kes)) as { ReadonlyRootfs: boolean; CapDrop: string[]; CapAdd: string[] | null; Privileged: boolean };
    assert.deepEqual([host.ReadonlyRootfs, host.CapDrop, host.CapAdd, host.Privileged], [true, ['ALL'], null, false]);
    const status = docker('exec', kes, 'cat', '/proc/1/status');
    assert.match(status, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    assert.match(status, /^CapEff:\s+0000000000000000$/m);
    assert.match(status, /^CapPrm:\s+0000000000000000$/m);
    const write = await dockerTry('exec', kes, 'touch', '/app/x');
    assert.notEqual(write.code, 0);
    assert.match(write.out, /Read-only file system/);
  });

  await t.test('docker restart of KES and MinIO loses no object', async () => {
    // Not the dev OpenBao: it keeps everything in memory, so its restart empties the CI keystore by design.
    const names = containersOf(s.prefix).filter((n) => !n.endsWith('-openbao'));
    assert.equal(names.length, 2);
    const started = names.map((n) => docker('inspect', '-f', '{{.State.StartedAt}}', n));
    docker('restart', ...names);
    assert.notDeepEqual(names.map((n) => docker('inspect', '-f', '{{.State.StartedAt}}', n)), started);
    await waitHealthy(s.prefix);
    for (const [name, data] of Object.entries(objects)) {
      mc.run('cp', '--quiet', `${bucket}/${name}`, join(work, `${name}.again`));
      assert.equal(sha256(readFileSync(join(work, `${name}.again`))), sha256(data), name);
    }
  });

  await t.test('a second stack beside it shares no name, port, network, role or policy; its teardown leaves the first intact', async () => {
    second = await realize({ configFile: stackFile('Pulumi.ci.yaml'), stack: `${runId}-ci2` }, env);
    const names = (p: string) => Object.keys(healthOf(p));
    assert.equal(names(second.prefix).filter((n) => names(s.prefix).includes(n)).length, 0);
    assert.equal(names(second.prefix).length, 3);
    const ports = publishedPorts(s.prefix);
    const ports2 = publishedPorts(second.prefix);
    assert.equal(ports.length, 3);
    assert.deepEqual(ports2.filter((p) => ports.includes(p)), []);
    const [role, policy] = roleAndPolicy(s);
    const [role2, policy2] = roleAndPolicy(second);
    assert.ok(role !== role2 && policy !== policy2, `${role}/${policy} vs ${role2}/${policy2}`);
    const mc2 = mcFor(second);
    try {
      writeFileSync(join(work, 'other'), 'second stack');
      mc2.run('cp', '--quiet', join(work, 'other'), 's/ci-bucket/other');
      assert.match(mc2.run('stat', 's/ci-bucket/other'), /SSE-KMS/);
      assert.notEqual((await mc.runTry('stat', `${bucket}/other`)).code, 0, 'the first stack does not see it');
      mc2.run('rm', '--quiet', 's/ci-bucket/other');
    } finally {
      mc2.remove();
    }
    await destroy(second.state, env);
    assert.deepEqual(leftovers(second.prefix), []);
    second = undefined;
    mc.run('cp', '--quiet', `${bucket}/small`, join(work, 'small.after'));
    assert.equal(sha256(readFileSync(join(work, 'small.after'))), sha256(objects.small));
  });

  await t.test('teardown removes every container, network and volume of the stack (it retains none), objects and all', async () => {
    assert.deepEqual(s.state.resources.filter((r) => r.retainOnDelete).map((r) => r.key), []);
    // The CI bucket is declared with forceDestroy: its objects do not stop the teardown.
    assert.ok(mc.run('ls', '--recursive', bucket).includes('multipart'));
    await destroy(s.state, env);
    first = undefined;
    assert.deepEqual(s.state.resources, []);
    assert.deepEqual(leftovers(s.prefix), []);
  });
});
