/**
 * A KesServer that is one of several workers, its IPC channel played by a scripted primary: a
 * delete is answered only after the primary confirmed that the other workers dropped the key
 * (also when the store fails), and an eviction poll empties this worker's cache of that key.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterMessage } from '../../src/cluster/messages.ts';
import type { ClusterChannel } from '../../src/cluster/worker-link.ts';
import { call } from '../support/client.ts';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';

/** The worker's channel; `answer` decides the primary's reply to each eviction question. */
function primary(answer: (ask: Extract<ClusterMessage, { t: 'kes-evict-ask' }>) => { complete: boolean; afterMs: number }) {
  const events: string[] = [];
  const sent: ClusterMessage[] = [];
  let deliver: (msg: unknown) => void = () => {};
  const channel: ClusterChannel = {
    send: (msg, done) => {
      sent.push(msg);
      done(null);
      if (msg.t !== 'kes-evict-ask') return;
      const { complete, afterMs } = answer(msg);
      setTimeout(() => {
        events.push(`done ${msg.name}`);
        deliver({ t: 'kes-evict-done', id: msg.id, complete });
      }, afterMs);
    },
    onMessage: (listener) => void (deliver = listener),
  };
  return { channel, events, sent, toWorker: (msg: ClusterMessage) => deliver(msg) };
}

test('a delete waits for the other workers, also when the store fails, and warns when one did not confirm', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const p = primary((ask) => ({ complete: ask.name !== 'unconfirmed', afterMs: 150 }));
  const s = await startKes(t, pki, { admin: admin.identity, extra: { cluster: p.channel } });
  const c = (method: string, path: string) => call({ port: s.port, ca: pki.caCert, client: admin, method, path });

  const cases = [
    { name: 'present', create: true, status: 200, warned: false },
    { name: 'absent', create: false, status: 404, warned: false },
    { name: 'unconfirmed', create: true, status: 200, warned: true },
  ];
  for (const k of cases) {
    if (k.create) assert.equal((await c('POST', `/v1/key/create/${k.name}`)).status, 200);
    const t0 = performance.now();
    const r = await c('DELETE', `/v1/key/delete/${k.name}`);
    p.events.push(`answer ${k.name}`);
    assert.equal(r.status, k.status, k.name);
    assert.ok(performance.now() - t0 >= 140, `${k.name}: answered after the primary's confirmation`);
    const warning = s.errorLines.some((l) => l.includes(`deleted key '${k.name}'`));
    assert.equal(warning, k.warned, `${k.name}: warning`);
  }
  assert.deepEqual(p.events, ['done present', 'answer present', 'done absent', 'answer absent', 'done unconfirmed', 'answer unconfirmed']);
  const asks = p.sent.filter((m) => m.t === 'kes-evict-ask');
  assert.deepEqual(
    asks.map((m) => m.name),
    cases.map((k) => k.name),
  );
});

test('an eviction poll from the primary drops the key from this worker and is acknowledged', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const p = primary(() => ({ complete: true, afterMs: 0 }));
  const s = await startKes(t, pki, { admin: admin.identity, extra: { cluster: p.channel } });
  const c = (method: string, path: string) => call({ port: s.port, ca: pki.caCert, client: admin, method, path });
  for (const name of ['kept', 'dropped']) {
    assert.equal((await c('POST', `/v1/key/create/${name}`)).status, 200);
    assert.equal((await c('GET', `/v1/key/describe/${name}`)).status, 200);
  }
  assert.equal(s.server.state.cache.size, 2);
  // Deleted through another worker: the store no longer has it, this cache still does.
  await s.store.delete('dropped');
  assert.equal((await c('GET', `/v1/key/describe/dropped`)).status, 200, 'served from the cache before the poll');
  p.toWorker({ t: 'kes-evict-poll', id: 41, name: 'dropped' });
  assert.equal(s.server.state.cache.size, 1);
  const described = await c('GET', `/v1/key/describe/dropped`);
  assert.deepEqual([described.status, described.text], [404, '{"message":"key does not exist"\n}']);
  assert.equal((await c('GET', `/v1/key/describe/kept`)).status, 200);
  assert.deepEqual(
    p.sent.filter((m) => m.t === 'kes-evict-ack'),
    [{ t: 'kes-evict-ack', id: 41 }],
  );
});
