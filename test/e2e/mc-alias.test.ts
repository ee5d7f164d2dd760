/** `Mc.aliasSet` passes credentials as operands, so a secret that begins with '-' is not read as an option. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Mc } from '../../sandbox/mc.ts';

test('an mc alias keeps a secret key that begins with a dash', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mc-alias-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const mc = new Mc(dir);
  await mc.aliasSet('dash', 'http://127.0.0.1:9', '-user', '-secret-Xy_9');
  const alias = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).aliases.dash;
  assert.deepEqual([alias.url, alias.accessKey, alias.secretKey, alias.api, alias.path], ['http://127.0.0.1:9', '-user', '-secret-Xy_9', 'S3v4', 'on']);
});
