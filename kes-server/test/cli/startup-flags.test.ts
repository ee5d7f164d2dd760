/** The Node options the command restarts with, and the settings of an operator that win over them. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { OpenSslConfig, startupFlags } from '../../src/cli/startup-flags.ts';

const ours = ['--max-semi-space-size=16', `--openssl-config=${OpenSslConfig}`];

test('startupFlags: both flags for a plain start, none once they are present (no restart loop)', () => {
  assert.deepEqual(startupFlags([], {}), ours);
  assert.deepEqual(startupFlags(ours, {}), []);
  assert.deepEqual(startupFlags(['--inspect', ...ours], { NODE_OPTIONS: '' }), []);
});

test('startupFlags: a young-generation size of the operator is kept, in either spelling or in NODE_OPTIONS', () => {
  for (const given of [['--max-semi-space-size=64'], ['--max_semi_space_size=8'], ['--max-semi-space-size', '32']]) {
    assert.deepEqual(startupFlags(given, {}), [ours[1]], given.join(' '));
  }
  assert.deepEqual(startupFlags([], { NODE_OPTIONS: '--trace-gc --max-semi-space-size=4' }), [ours[1]]);
  // A different flag with the same beginning is not the setting.
  assert.deepEqual(startupFlags(['--max-semi-space-size-x=1'], {}), ours);
});

test('startupFlags: an OpenSSL config of the operator (flag, NODE_OPTIONS or OPENSSL_CONF) replaces ours', () => {
  assert.deepEqual(startupFlags(['--openssl-config=/etc/fips.cnf'], {}), [ours[0]]);
  assert.deepEqual(startupFlags([], { NODE_OPTIONS: '--openssl-config=/etc/fips.cnf' }), [ours[0]]);
  assert.deepEqual(startupFlags([], { OPENSSL_CONF: '/etc/ssl/openssl.cnf' }), [ours[0]]);
});

test('openssl.cnf: read by Node (nodejs_conf) and with --openssl-shared-config (openssl_conf); one ticket', () => {
  const text = readFileSync(OpenSslConfig, 'utf8');
  assert.match(text, /^nodejs_conf = kes_server$/m);
  assert.match(text, /^openssl_conf = kes_server$/m);
  assert.match(text, /^NumTickets = 1$/m);
});
