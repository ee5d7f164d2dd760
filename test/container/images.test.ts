/**
 * The locally built images (scripts/images.sh): the Node base equals what package.json pins, the
 * KES image builds from the `kes-server/` folder of the packed package (what a project that installs
 * it has) and keeps a build-time npm CA out of its final stage, and runs
 * read-only without capabilities as uid 1000 with its health check on a non-default port and an
 * `fs` keystore in its own data folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificate } from '../../kes-server/src/tls/x509.ts';
import { npmBuildCaCerts } from '../../components/targets/docker/kes.ts';
import { docker, localImages, repoRoot, runId } from './helpers.ts';

const images = localImages();
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

/** Whether the file system of `image` contains `needle` anywhere (streams `docker export`). */
async function imageContains(image: string, needle: Buffer): Promise<boolean> {
  const id = docker('create', image);
  try {
    const p = spawn('docker', ['export', id]);
    let tail = Buffer.alloc(0);
    let found = false;
    for await (const chunk of p.stdout as AsyncIterable<Buffer>) {
      const window = Buffer.concat([tail, chunk]);
      if (window.includes(needle)) found = true;
      tail = window.subarray(Math.max(0, window.length - needle.length));
    }
    return found;
  } finally {
    docker('rm', id);
  }
}

test('Debian and Node bases: bookworm minbase; the pinned Node, its npm and a node user of uid/gid 1000', () => {
  assert.match(docker('run', '--rm', images.debian, 'cat', '/etc/os-release'), /^VERSION_CODENAME=bookworm$/m);
  assert.ok(Number(docker('image', 'inspect', '-f', '{{.Size}}', images.debian)) < 100e6, 'a slim root file system');
  assert.equal(docker('run', '--rm', images.node, 'node', '--version'), `v${pkg.devDependencies.node}`);
  assert.match(docker('run', '--rm', images.node, 'npm', '--version'), /^\d+\.\d+\.\d+$/);
  assert.equal(docker('run', '--rm', images.node, 'id', 'node'), 'uid=1000(node) gid=1000(node) groups=1000(node)');
  assert.equal(docker('image', 'inspect', '-f', '{{.Id}}', 'node:24-slim'), docker('image', 'inspect', '-f', '{{.Id}}', images.node));
});

/** The `kes-server/` folder of the package as `npm pack` ships it, unpacked under `dir`. */
function packedKesServer(dir: string): string {
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: repoRoot, encoding: 'utf8' });
  const [{ filename }] = JSON.parse(out.slice(out.indexOf('['))) as Array<{ filename: string }>;
  execFileSync('tar', ['-xzf', join(dir, filename), '-C', dir]);
  return join(dir, 'package', 'kes-server');
}

test('KES image: builds from the packed package; an npm CA given to the build stays out of the final image and its history', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mskes-packed-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const context = packedKesServer(dir);
  assert.equal(existsSync(join(dir, 'package', 'package-lock.json')), false, 'npm ships no repository lockfile');
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const marker = createCertificate({ commonName: `build CA ${runId}`, publicKey: createPublicKey(key), signingKey: key, notAfter: new Date(Date.now() + 3_600_000), isCA: true });
  const tag = `local/${runId}-kes-ca-check`;
  t.after(() => execFileSync('docker', ['rmi', '-f', tag], { stdio: 'ignore' }));
  // The machine's own extra CAs (if any) keep npm working; the marker is one more.
  const ca = [npmBuildCaCerts(), marker].filter(Boolean).join('\n');
  execFileSync('docker', ['build', '-q', '--build-arg', `NODE_IMAGE=${images.node}`, '--build-arg', `NPM_CA_CERTS=${ca}`, '-t', tag, context], {
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
    stdio: 'ignore',
  });
  const body = Buffer.from(marker.split('\n')[2]);
  assert.equal(await imageContains(tag, body), false);
  assert.ok(!docker('history', '--no-trunc', tag).includes(marker.split('\n')[2]));
  assert.ok(!docker('image', 'inspect', tag).includes(marker.split('\n')[2]));
  // The check sees what is there: the image's own sources are found the same way.
  assert.equal(await imageContains(tag, Buffer.from('Container health probe: `GET /v1/ready`')), true);
});

test('KES image: read-only, no capabilities, uid 1000; healthy on a non-default port; fs keystore in /var/lib/kes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mskes-kes-image-'));
  const name = `${runId}-kes-image`;
  t.after(() => {
    execFileSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
    execFileSync('docker', ['volume', 'rm', '-f', `${name}-data`], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  writeFileSync(join(dir, 'server.key'), key.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'server.crt'), createCertificate({ commonName: 'kes', publicKey: createPublicKey(key), signingKey: key, notAfter: new Date(Date.now() + 3_600_000), dnsNames: ['localhost'], extKeyUsage: ['serverAuth'] }));
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'address: 0.0.0.0:7400',
      `admin: { identity: ${randomBytes(32).toString('hex')} }`,
      'tls: { key: /etc/kes/server.key, cert: /etc/kes/server.crt }',
      'api: { /v1/ready: { skip_auth: true, timeout: 15s } }',
      'keystore: { fs: { path: /var/lib/kes } }',
      'keys: [ { name: startup-key } ]',
      '',
    ].join('\n'),
  );
  // Mounted files only need to be readable by uid 1000.
  for (const f of ['server.key', 'server.crt', 'config.yml']) chmodSync(join(dir, f), 0o644);
  chmodSync(dir, 0o755);
  // A new volume on /var/lib/kes starts out owned by the image's node user: keys persist there.
  docker('run', '-d', '--name', name, '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '-v', `${dir}:/etc/kes:ro`, '-v', `${name}-data:/var/lib/kes`, images.kes, 'server', '--config', '/etc/kes/config.yml');
  const deadline = Date.now() + 90_000;
  let health = '';
  while (Date.now() < deadline && (health = docker('inspect', '-f', '{{.State.Health.Status}}', name)) !== 'healthy') await new Promise((r) => setTimeout(r, 1000));
  assert.equal(health, 'healthy', docker('logs', '--tail', '20', name));
  assert.match(docker('exec', name, 'cat', '/proc/1/status'), /^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
  assert.equal(docker('exec', name, 'ls', '/var/lib/kes'), 'startup-key');
});
