import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderKesUnit, renderMinioUnit } from '../../components/render/systemd.ts';
import { isRenderError } from '../../components/render/validate.ts';

/** Runs `systemd-analyze verify` on unit files; fails the test clearly when the tool is missing. */
function verify(files: string[]): { status: number | null; output: string } {
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...files], { encoding: 'utf8' });
  if (r.error) throw new Error(`systemd-analyze is not available (${r.error.message}): run scripts/install-systemd-tools.sh`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function fixture(t: { after: (fn: () => void) => void }): { dir: string; node: string; minio: string } {
  const dir = mkdtempSync(join(tmpdir(), 'units-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // verify checks that ExecStart binaries exist and are executable.
  const node = join(dir, 'node');
  const minio = join(dir, 'minio');
  for (const f of [node, minio]) {
    writeFileSync(f, '#!/bin/sh\nexit 0\n');
    chmodSync(f, 0o755);
  }
  return { dir, node, minio };
}

const kesArgs = (node: string) => ({
  user: 'kes',
  group: 'kes',
  environmentFile: '/etc/default/kes',
  readWritePaths: [],
  nodeBinary: node,
  serverEntry: '/opt/kes-server/src/cli/main.ts',
  configFile: '/etc/kes/config.yaml',
});
const minioArgs = (minio: string) => ({
  user: 'minio-user',
  group: 'minio-user',
  environmentFile: '/etc/default/minio',
  readWritePaths: ['/mnt/data2', '/mnt/data1'],
  minioBinary: minio,
});

test('rendered kes.service and minio.service pass systemd-analyze verify without warnings', (t) => {
  const { dir, node, minio } = fixture(t);
  writeFileSync(join(dir, 'kes.service'), renderKesUnit(kesArgs(node)));
  writeFileSync(join(dir, 'minio.service'), renderMinioUnit(minioArgs(minio)));
  const r = verify([join(dir, 'kes.service'), join(dir, 'minio.service')]);
  assert.equal(r.output, '');
  assert.equal(r.status, 0);
});

test('the checker rejects a broken unit (bad Type, missing binary)', (t) => {
  const { dir, node } = fixture(t);
  const broken = renderKesUnit(kesArgs(node)).replace('Type=simple', 'Type=bogus').replace(`ExecStart=${node}`, 'ExecStart=/nonexistent/node');
  writeFileSync(join(dir, 'broken.service'), broken);
  const r = verify([join(dir, 'broken.service')]);
  assert.notEqual(r.status, 0);
  assert.match(r.output, /service type/);
  assert.match(r.output, /not executable/);
});

test('units carry the settings the deployment relies on', (t) => {
  const { node, minio } = fixture(t);
  const kes = renderKesUnit(kesArgs(node)).split('\n');
  for (const line of [`ExecStart=${node} /opt/kes-server/src/cli/main.ts server --config /etc/kes/config.yaml`, 'User=kes', 'EnvironmentFile=/etc/default/kes', 'Restart=always', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes']) {
    assert.ok(kes.includes(line), line);
  }
  const m = renderMinioUnit(minioArgs(minio)).split('\n');
  for (const line of ['Type=notify', `ExecStart=${minio} server $MINIO_OPTS $MINIO_VOLUMES`, 'ReadWritePaths=/mnt/data1 /mnt/data2', 'LimitNOFILE=1048576', 'User=minio-user']) {
    assert.ok(m.includes(line), line);
  }
});

test('unit renderers reject unsafe arguments, naming them', () => {
  assert.throws(() => renderKesUnit({ ...kesArgs('/usr/bin/node'), configFile: 'relative.yaml' }), (e: unknown) => isRenderError(e) && e.field === 'configFile');
  assert.throws(() => renderKesUnit({ ...kesArgs('/usr/bin/node'), user: 'Root User' }), (e: unknown) => isRenderError(e) && e.field === 'user');
  assert.throws(() => renderMinioUnit({ ...minioArgs('/usr/bin/minio'), readWritePaths: [] }), (e: unknown) => isRenderError(e) && e.field === 'readWritePaths');
  assert.throws(() => renderMinioUnit({ ...minioArgs('/usr/bin/minio'), readWritePaths: ['/data with space'] }), (e: unknown) => isRenderError(e) && e.field === 'readWritePaths[0]');
});
