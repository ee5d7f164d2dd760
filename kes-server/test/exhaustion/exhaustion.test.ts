/**
 * CI smoke of the exhaustion attacks (attacks.ts, SMOKE sizes) on this server: slowloris, idle
 * TLS connections, an HTTP/2 stream flood and reset flood, audit subscribers that never read.
 * During and after each, every probe request for a data key succeeds and the resident set stays
 * within RSS_BOUND_MIB of where it started. `npm run exhaust` runs the full sizes against this
 * server and minio/kes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call } from '../support/client.ts';
import { makePki } from '../support/pki.ts';
import { startSideBySide } from '../support/side-by-side.ts';
import { runAll, SMOKE } from './attacks.ts';

const RSS_BOUND_MIB = 128;

test('exhaustion smoke: normal requests keep succeeding during and after each attack; RSS bounded', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const servers = await startSideBySide(t, pki, { admin: admin.identity, policies: {}, probe: admin, implementations: ['ts'] });
  const s = servers.get('ts')!;
  assert.equal((await call({ port: s.port, ca: pki.caCert, client: admin, method: 'PUT', path: '/v1/key/create/probe-key' })).status, 200);
  const outcomes = await runAll({ port: s.port, ca: pki.caCert, client: admin, pid: s.process.process!.pid, key: 'probe-key' }, SMOKE);
  for (const o of outcomes) {
    console.log(`${o.attack}: ${o.detail}; probe during ${o.probeDuring.ok}/${o.probeDuring.total} (p50 ${o.probeDuring.p50Ms.toFixed(0)} ms), after ${o.probeAfter.ok}/${o.probeAfter.total}; RSS ${o.rssBeforeMiB.toFixed(0)} → ${o.rssPeakMiB.toFixed(0)} → ${o.rssAfterMiB.toFixed(0)} MiB`);
    assert.ok(o.probeDuring.total > 0, `${o.attack}: no probe ran`);
    assert.equal(o.probeDuring.ok, o.probeDuring.total, `${o.attack}: probes failed during the attack`);
    assert.equal(o.probeAfter.ok, o.probeAfter.total, `${o.attack}: probes failed after the attack`);
    assert.ok(o.rssPeakMiB - o.rssBeforeMiB < RSS_BOUND_MIB, `${o.attack}: RSS grew by ${(o.rssPeakMiB - o.rssBeforeMiB).toFixed(0)} MiB`);
  }
  assert.equal(s.process.running, true);
});
