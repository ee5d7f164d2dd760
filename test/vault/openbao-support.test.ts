/**
 * The OpenBao test server helper (sandbox/openbao.ts) that other suites reuse: it starts on
 * loopback, serves its API, and stop() ends the process and removes its files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { redactDevSecrets, startOpenBao } from '../../sandbox/openbao.ts';

for (const tls of [false, true]) {
  test(`startOpenBao({ tls: ${tls} }) serves, then stop() cleans up`, async (t) => {
    const bao = await startOpenBao({ tls });
    t.after(() => bao.stop());
    assert.match(bao.address, tls ? /^https:\/\/127\.0\.0\.1:\d+$/ : /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(bao.rootToken, 'root');
    assert.equal(bao.caFile !== '', tls);
    const health = await bao.requestOk('GET', 'sys/health', undefined, { token: null });
    assert.equal(health.body.sealed, false);
    assert.equal((await bao.request('GET', 'sys/mounts', undefined, { token: 'wrong' })).status, 403);
    await bao.requestOk('POST', 'sys/namespaces/helper-ns', {});
    await bao.requestOk('POST', 'sys/mounts/kv', { type: 'kv', options: { version: '1' } }, { namespace: 'helper-ns' });
    await assert.rejects(bao.requestOk('GET', 'kv/missing', undefined, { namespace: 'helper-ns' }), /answered 404/);
    const caFile = bao.caFile;
    await bao.stop();
    assert.equal(bao.running(), false);
    if (tls) assert.equal(existsSync(caFile), false, 'temporary CA removed');
    await assert.rejects(bao.request('GET', 'sys/health'), /ECONNREFUSED/);
  });
}

test('the dev server output kept for diagnostics carries neither the unseal key nor the root token', async (t) => {
  const rootToken = `t-${randomBytes(12).toString('hex')}`;
  const bao = await startOpenBao({ rootToken });
  t.after(() => bao.stop());
  assert.equal((await bao.requestOk('GET', 'auth/token/lookup-self', undefined, { token: rootToken })).body.data.id, rootToken);
  // the banner may follow the first healthy answer by a moment
  for (let i = 0; i < 50 && !/^Root Token:/m.test(bao.output()); i++) await new Promise((r) => setTimeout(r, 100));
  const output = bao.output();
  assert.match(output, /^Unseal Key: <redacted>$/m);
  assert.match(output, /^Root Token: <redacted>$/m);
  assert.equal(output.includes(rootToken), false, 'root token in the output');
});

test('redactDevSecrets cuts the value of the unseal key and root token lines only', () => {
  const text = 'core: vault is unsealed\nUnseal Key: c2VjcmV0LXVuc2VhbC1rZXk=\n  Root Token: s.abc123\nRoot Token is shown below\n';
  assert.equal(
    redactDevSecrets(text),
    'core: vault is unsealed\nUnseal Key: <redacted>\n  Root Token: <redacted>\nRoot Token is shown below\n',
  );
});
