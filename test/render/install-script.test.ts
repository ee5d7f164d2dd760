import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderInstallScript } from '../../components/render/install-script.ts';
import { isRenderError } from '../../components/render/validate.ts';

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
  assert.match(script, /systemctl enable kes\.service && systemctl restart kes\.service/);
  assert.match(script, /useradd --system/);
});

test('the install script rejects unsafe paths and modes', () => {
  const ok = { user: 'kes', service: 'kes.service', files: [] as Array<{ path: string; content: string; mode: string }> };
  assert.throws(() => renderInstallScript({ ...ok, files: [{ path: '/etc/$(x)', content: 'a', mode: '0600' }] }), (e: unknown) => isRenderError(e) && e.field === 'files[0].path');
  assert.throws(() => renderInstallScript({ ...ok, files: [{ path: '/etc/a', content: 'a', mode: '777' }] }), (e: unknown) => isRenderError(e) && e.field === 'files[0].mode');
  assert.throws(() => renderInstallScript({ ...ok, service: 'kes; rm' }), (e: unknown) => isRenderError(e) && e.field === 'service');
});
