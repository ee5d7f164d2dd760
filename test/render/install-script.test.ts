import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderInstallScript } from '../../components/render/install-script.ts';
import { isRenderError } from '../../components/render/validate.ts';
import { tarEntries } from '../../components/targets/linux/tar.ts';

test('the install script writes every file with its mode and content (run by sh under a root prefix)', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'install-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const tricky = "line 1\n'quoted' \"double\" $HOME `cmd` \\ end\n";
  const script = renderInstallScript({
    user: 'kes',
    service: 'kes.service',
    directories: ['/var/lib/kes'],
    files: [
      { path: '/etc/kes/config.yaml', content: 'address: 0.0.0.0:7373\n', mode: '0640', owner: 'root:kes' },
      { path: '/etc/default/kes', content: tricky, mode: '0600' },
    ],
  });
  execFileSync('/bin/sh', ['-s'], { input: script, env: { ROOT: root, SKIP_SYSTEM: '1', PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  assert.equal(readFileSync(join(root, 'etc/default/kes'), 'utf8'), tricky);
  assert.equal(readFileSync(join(root, 'etc/kes/config.yaml'), 'utf8'), 'address: 0.0.0.0:7373\n');
  assert.equal(statSync(join(root, 'etc/default/kes')).mode & 0o777, 0o600);
  assert.equal(statSync(join(root, 'etc/kes/config.yaml')).mode & 0o777, 0o640);
  assert.equal(statSync(join(root, 'var/lib/kes')).isDirectory(), true);
});

test('secrets do not appear in the script as plain text and system steps are present', () => {
  const script = renderInstallScript({ user: 'kes', service: 'kes.service', files: [{ path: '/etc/default/kes', content: 'SECRET=topsecret', mode: '0600' }] });
  assert.ok(!script.includes('topsecret'));
  assert.match(script, /sys systemctl enable --quiet kes\.service\n/);
  assert.match(script, /if \[ "\$changed" = 1 \]; then sys systemctl restart kes\.service;/);
  assert.match(script, /useradd --system/);
});

test('the install script rejects unsafe paths and modes', () => {
  const ok = { user: 'kes', service: 'kes.service', files: [] as Array<{ path: string; content: string; mode: string }> };
  assert.throws(() => renderInstallScript({ ...ok, files: [{ path: '/etc/$(x)', content: 'a', mode: '0600' }] }), (e: unknown) => isRenderError(e) && e.field === 'files[0].path');
  assert.throws(() => renderInstallScript({ ...ok, files: [{ path: '/etc/a', content: 'a', mode: '777' }] }), (e: unknown) => isRenderError(e) && e.field === 'files[0].mode');
  assert.throws(() => renderInstallScript({ ...ok, service: 'kes; rm' }), (e: unknown) => isRenderError(e) && e.field === 'service');
});

/** A root prefix and stand-ins for the system commands (each call logged), to run scripts for real. */
function sandboxHost(t: { after: (fn: () => void) => void }) {
  const root = mkdtempSync(join(tmpdir(), 'install-host-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const bin = join(root, '.bin');
  const log = join(root, '.log');
  mkdirSync(bin);
  for (const cmd of ['systemctl', 'chown', 'useradd', 'id', 'journalctl']) {
    writeFileSync(join(bin, cmd), `#!/bin/sh\necho "${cmd} $*" >> "${log}"\n`, { mode: 0o755 });
  }
  const run = (script: string) => {
    writeFileSync(log, '');
    const r = spawnSync('/bin/sh', ['-s'], { input: script, env: { ROOT: root, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` } });
    return { code: r.status, stderr: r.stderr.toString(), calls: readFileSync(log, 'utf8').trim().split('\n') };
  };
  return { root, run };
}

test('running the same install script twice changes nothing the second time; a changed file restarts the service', (t) => {
  const host = sandboxHost(t);
  const script = (config: string) =>
    renderInstallScript({ user: 'kes', service: 'kes.service', files: [{ path: '/etc/kes/config.yaml', content: config, mode: '0640', owner: 'root:kes' }] });
  const first = host.run(script('a: 1\n'));
  assert.equal(first.code, 0, first.stderr);
  assert.ok(first.calls.includes('systemctl restart kes.service'));
  const mtime = statSync(join(host.root, 'etc/kes/config.yaml')).mtimeMs;
  const again = host.run(script('a: 1\n'));
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.calls.some((c) => c.startsWith('systemctl restart')), false, again.calls.join('; '));
  assert.equal(statSync(join(host.root, 'etc/kes/config.yaml')).mtimeMs, mtime, 'the file was not rewritten');
  assert.equal(statSync(join(host.root, 'etc/kes')).mode & 0o777, 0o755, 'created parents stay traversable under umask 077');
  const changed = host.run(script('a: 2\n'));
  assert.ok(changed.calls.includes('systemctl restart kes.service'));
  assert.equal(readFileSync(join(host.root, 'etc/kes/config.yaml'), 'utf8'), 'a: 2\n');
});

test('a release is unpacked once, switched atomically, rolled back when the service is not healthy, and the old one pruned once it is', (t) => {
  const host = sandboxHost(t);
  const archive = (version: string) => {
    const gz = gzipSync(tarEntries([{ name: 'bin/server', data: Buffer.from(`#!/bin/sh\necho ${version}\n`), executable: true }]));
    const path = `/var/cache/test/server-${version}.tar.gz`;
    mkdirSync(join(host.root, 'var/cache/test'), { recursive: true });
    writeFileSync(join(host.root, path), gz);
    return { archive: path, sha256: createHash('sha256').update(gz).digest('hex'), into: 'app' };
  };
  const script = (id: string, healthy: boolean) =>
    renderInstallScript({
      user: 'kes',
      service: 'kes.service',
      files: [],
      release: { root: '/opt/srv', id, parts: [archive(id)] },
      health: { command: healthy ? 'true' : 'false', timeoutSeconds: 1 },
    });
  const current = () => readlinkSync(join(host.root, 'opt/srv/current'));
  assert.equal(host.run(script('v1', true)).code, 0);
  assert.equal(current(), 'releases/v1');
  assert.equal(readFileSync(join(host.root, 'opt/srv/current/app/bin/server'), 'utf8'), '#!/bin/sh\necho v1\n');
  assert.equal(statSync(join(host.root, 'opt/srv/current/app/bin/server')).mode & 0o777, 0o755);

  const failed = host.run(script('v2', false));
  assert.notEqual(failed.code, 0);
  assert.match(failed.stderr, /did not become healthy; rolled back to releases\/v1/);
  assert.equal(current(), 'releases/v1');
  assert.equal(failed.calls.filter((c) => c === 'systemctl restart kes.service').length, 2, 'restarted on v2, then on v1 again');

  const ok = host.run(script('v2', true));
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(current(), 'releases/v2');
  assert.deepEqual(readdirSync(join(host.root, 'opt/srv/releases')), ['v2'], 'the previous release is pruned once the new one is healthy');

  const tampered = archive('v3');
  writeFileSync(join(host.root, tampered.archive), 'not the archive');
  const r = host.run(renderInstallScript({ user: 'kes', service: 'kes.service', files: [], release: { root: '/opt/srv', id: 'v3', parts: [tampered] } }));
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /does not have SHA-256/);
  assert.equal(current(), 'releases/v2');
});
