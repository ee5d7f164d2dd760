/**
 * The primary's relay and the workers' links wired through in-memory channels: log lines reach
 * the subscribers of every worker, metrics add up, a key deleted through one worker is dropped by
 * all others, and neither side ever waits on a backed-up or silent peer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedSender, type ClusterMessage, type SendFn } from '../../src/cluster/messages.ts';
import { ClusterRelay } from '../../src/cluster/relay.ts';
import { WorkerLink } from '../../src/cluster/worker-link.ts';
import { LogHub, type LogSink } from '../../src/log/hub.ts';
import { Metrics, sumSnapshots } from '../../src/metrics/metrics.ts';

/** A subscriber that records what it is sent. */
function sink(): LogSink & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (c) => (lines.push(c.replace(/\n$/, '')), true), once: () => undefined };
}

interface Node {
  readonly id: number;
  readonly hubs: { error: LogHub; audit: LogHub };
  readonly metrics: Metrics;
  /** Key names this worker was told to drop from its cache. */
  readonly evicted: string[];
  readonly link: WorkerLink;
}

/**
 * A relay with `n` workers; messages are delivered asynchronously, as over IPC. `silent` workers
 * never see the primary's questions (metrics and eviction polls).
 */
function cluster(n: number, opts: { silent?: Set<number>; metricsTimeoutMs?: number; evictTimeoutMs?: number } = {}): { relay: ClusterRelay; nodes: Node[] } {
  const relay = new ClusterRelay({ metricsTimeoutMs: opts.metricsTimeoutMs ?? 200, evictTimeoutMs: opts.evictTimeoutMs ?? 200 });
  const nodes: Node[] = [];
  for (let id = 1; id <= n; id++) {
    const hubs = { error: new LogHub(), audit: new LogHub() };
    const metrics = new Metrics();
    const toPrimary: SendFn = (msg, done) => setImmediate(() => (relay.receive(id, structuredClone(msg)), done(null)));
    relay.add(id, (msg, done) =>
      setImmediate(() => {
        const poll = msg.t === 'kes-metrics-poll' || msg.t === 'kes-evict-poll';
        if (!opts.silent?.has(id) || !poll) node.link.receive(structuredClone(msg));
        done(null);
      }),
    );
    const evicted: string[] = [];
    const link = new WorkerLink({
      send: toPrimary,
      hubs,
      snapshot: () => metrics.snapshot(1000 * id),
      evict: (name) => evicted.push(name),
      metricsTimeoutMs: 300,
      evictTimeoutMs: 300,
    });
    const node: Node = { id, hubs, metrics, evicted, link };
    nodes.push(node);
  }
  return { relay, nodes };
}

/**
 * Lets `ms` pass, then enough event-loop turns for any chain of in-flight deliveries to finish:
 * each hop is one setImmediate, and on a loaded machine the timer alone can fire mid-chain.
 */
async function settle(ms = 20): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  for (let i = 0; i < 32; i++) await new Promise((r) => setImmediate(r));
}

test('a line made on one worker reaches the subscribers of the others, each line once', async () => {
  const { nodes } = cluster(3);
  const [a, b, c] = nodes;
  const subA = sink();
  const subC = sink();
  a.hubs.audit.subscribe(subA);
  c.hubs.audit.subscribe(subC);
  await settle();
  assert.equal(b.hubs.audit.wanted, true, 'b knows others listen');
  assert.equal(b.hubs.error.wanted, false, 'nobody listens to the error stream');
  b.hubs.audit.emit('from-b');
  a.hubs.audit.emit('from-a');
  await settle();
  assert.deepEqual(subA.lines, ['from-a', 'from-b']);
  assert.deepEqual(subC.lines, ['from-b', 'from-a']);
});

test('interest follows subscribe and unsubscribe; nothing is forwarded without subscribers', async () => {
  const { nodes } = cluster(2);
  const [a, b] = nodes;
  const forwarded: ClusterMessage[] = [];
  const off = a.hubs.error.subscribe(sink());
  await settle();
  assert.equal(b.hubs.error.wanted, true);
  assert.equal(a.hubs.error.wanted, true, 'a has a local subscriber');
  off();
  await settle();
  assert.equal(b.hubs.error.wanted, false);
  assert.equal(a.hubs.error.wanted, false);
  // With no subscriber anywhere, a hub forwards nothing.
  const hub = new LogHub();
  hub.link({ forward: (line) => forwarded.push({ t: 'kes-log', stream: 'error', line }), subscribers: () => {} });
  hub.emit('x');
  assert.deepEqual(forwarded, []);
});

test('a worker that leaves no longer counts as a listener', async () => {
  const { relay, nodes } = cluster(2);
  const [a, b] = nodes;
  a.hubs.audit.subscribe(sink());
  await settle();
  assert.equal(b.hubs.audit.wanted, true);
  relay.remove(a.id);
  await settle();
  assert.equal(b.hubs.audit.wanted, false);
});

test('metrics: every worker asked gets the counters of all workers', async () => {
  const { nodes } = cluster(3);
  nodes[0].metrics.observe(200, 0.02);
  nodes[1].metrics.observe(200, 0.02);
  nodes[1].metrics.observe(404, 0.2);
  nodes[2].metrics.observe(502, 2);
  nodes[2].metrics.auditEvents(4);
  for (const node of nodes) {
    const { snapshots, complete } = await node.link.collect();
    assert.equal(complete, true);
    assert.equal(snapshots.length, 3);
    const total = sumSnapshots(snapshots);
    assert.deepEqual(new Map(total.success), new Map([[200, 2]]));
    assert.deepEqual(new Map(total.error), new Map([[404, 1]]));
    assert.deepEqual(new Map(total.failure), new Map([[502, 1]]));
    assert.equal(total.count, 4);
    assert.equal(total.auditEvents, 4);
    assert.equal(total.heapUsed, 1000 + 2000 + 3000);
    // Cumulative buckets: 0.05 holds the two 20 ms requests, 0.25 also the 200 ms one.
    assert.equal(total.buckets[1], 2);
    assert.equal(total.buckets[3], 3);
    assert.equal(total.buckets[9], 4);
  }
});

test('metrics: a worker that does not answer is left out after the timeout', async () => {
  const { nodes } = cluster(2, { silent: new Set([2]), metricsTimeoutMs: 100 });
  nodes[0].metrics.observe(200, 0.01);
  nodes[1].metrics.observe(200, 0.01);
  const t0 = performance.now();
  const { snapshots, complete } = await nodes[0].link.collect();
  assert.equal(complete, true);
  assert.equal(snapshots.length, 1);
  assert.ok(performance.now() - t0 >= 90, 'waited for the silent worker');
});

test('metrics: without an answer from the primary a worker reports itself alone', async () => {
  const hubs = { error: new LogHub(), audit: new LogHub() };
  const metrics = new Metrics();
  metrics.observe(200, 0.01);
  const link = new WorkerLink({ send: (_m, done) => done(null), hubs, snapshot: () => metrics.snapshot(5), evict: () => {}, metricsTimeoutMs: 50 });
  const { snapshots, complete } = await link.collect();
  assert.equal(complete, false);
  assert.deepEqual(snapshots.map((s) => s.count), [1]);
});

test('BoundedSender drops beyond its limit instead of queueing, and counts failures', () => {
  const waiting: Array<(err: Error | null) => void> = [];
  const sent: ClusterMessage[] = [];
  const s = new BoundedSender((msg, done) => (sent.push(msg), waiting.push(done)), 2);
  const msg: ClusterMessage = { t: 'kes-log', stream: 'audit', line: 'l' };
  assert.equal(s.send(msg), true);
  assert.equal(s.send(msg), true);
  assert.equal(s.send(msg), false);
  assert.equal(s.pending, 2);
  assert.equal(s.dropped, 1);
  waiting.shift()!(null);
  assert.equal(s.send(msg), true);
  waiting.shift()!(new Error('closed'));
  assert.equal(s.pending, 1);
  assert.equal(s.dropped, 2);
  assert.equal(sent.length, 3);
  const throwing = new BoundedSender(() => {
    throw new Error('channel closed');
  });
  assert.equal(throwing.send(msg), false);
  assert.equal(throwing.pending, 0);
  assert.equal(throwing.dropped, 1);
});

test('the relay ignores foreign messages and messages of unknown workers', async () => {
  const { relay, nodes } = cluster(2);
  const sub = sink();
  nodes[1].hubs.audit.subscribe(sub);
  await settle();
  relay.receive(99, { t: 'kes-log', stream: 'audit', line: 'ghost' });
  relay.receive(1, { t: 'other', line: 'x' });
  relay.receive(1, 'text');
  relay.receive(1, { t: 'kes-log', stream: 'audit', line: 'real' });
  await settle();
  assert.deepEqual(sub.lines, ['real']);
});

test('evictions: a key deleted through one worker is dropped by every other worker before the answer', async () => {
  const { nodes } = cluster(3);
  const [a, b, c] = nodes;
  assert.equal(await b.link.evictOthers('deleted-key'), true);
  // Resolved means confirmed: no settling wait before looking.
  assert.deepEqual([a.evicted, b.evicted, c.evicted], [['deleted-key'], [], ['deleted-key']], 'the deleting worker evicts its own');
  const both = await Promise.all([a.link.evictOthers('x'), c.link.evictOthers('y')]);
  assert.deepEqual(both, [true, true]);
  assert.deepEqual([a.evicted, b.evicted, c.evicted], [['deleted-key', 'y'], ['x', 'y'], ['deleted-key', 'x']]);
});

test('evictions: a lone worker has nothing to wait for', async () => {
  const { nodes } = cluster(1);
  const t0 = performance.now();
  assert.equal(await nodes[0].link.evictOthers('k'), true);
  assert.ok(performance.now() - t0 < 150, 'answered without waiting for the relay timeout');
  assert.deepEqual(nodes[0].evicted, []);
});

test('evictions: a silent worker makes the round incomplete after the relay timeout; the others still evict', async () => {
  const { nodes } = cluster(3, { silent: new Set([3]), evictTimeoutMs: 100 });
  const t0 = performance.now();
  assert.equal(await nodes[0].link.evictOthers('k'), false);
  assert.ok(performance.now() - t0 >= 90, 'waited for the silent worker');
  assert.deepEqual(nodes.map((n) => n.evicted), [[], ['k'], []]);
});

test('evictions: a worker that leaves is not waited for (it caches nothing any more)', async () => {
  const { relay, nodes } = cluster(2, { silent: new Set([2]), evictTimeoutMs: 5_000 });
  const asking = nodes[0].link.evictOthers('k');
  await settle();
  relay.remove(2);
  const t0 = performance.now();
  assert.equal(await asking, true);
  assert.ok(performance.now() - t0 < 1_000, 'answered when the worker left, not at the timeout');
});

test('evictions: without an answer from the primary the link gives up after its timeout', async () => {
  const hubs = { error: new LogHub(), audit: new LogHub() };
  const sent: ClusterMessage[] = [];
  const link = new WorkerLink({ send: (m, done) => (sent.push(m), done(null)), hubs, snapshot: () => new Metrics().snapshot(0), evict: () => {}, evictTimeoutMs: 50 });
  const t0 = performance.now();
  assert.equal(await link.evictOthers('k'), false);
  assert.ok(performance.now() - t0 >= 40);
  // The question names the key and nothing else.
  assert.deepEqual(
    sent.filter((m) => m.t !== 'kes-subs'),
    [{ t: 'kes-evict-ask', id: 1, name: 'k' }],
  );
});

test('evictions: a backed-up worker channel drops the poll and the round is answered incomplete at once', async () => {
  const relay = new ClusterRelay({ queueLimit: 1, evictTimeoutMs: 5_000 });
  const toAsker: ClusterMessage[] = [];
  const toStuck: ClusterMessage[] = [];
  relay.add(1, (msg, done) => (toAsker.push(msg), done(null)));
  relay.add(2, (msg) => void toStuck.push(msg)); // never written: the channel stays backed up
  relay.receive(1, { t: 'kes-evict-ask', id: 7, name: 'first' });
  relay.receive(1, { t: 'kes-evict-ask', id: 8, name: 'second' });
  assert.deepEqual(toStuck, [{ t: 'kes-evict-poll', id: 1, name: 'first' }]);
  assert.deepEqual(toAsker, [{ t: 'kes-evict-done', id: 8, complete: false }], 'the second is answered without waiting');
  relay.receive(2, { t: 'kes-evict-ack', id: 1 });
  assert.deepEqual(toAsker.at(-1), { t: 'kes-evict-done', id: 7, complete: true });
  assert.equal(relay.dropped, 1);
});

test('evictions: acknowledgements of unknown rounds, foreign workers or metrics rounds are ignored', async () => {
  const relay = new ClusterRelay({ evictTimeoutMs: 5_000, metricsTimeoutMs: 5_000 });
  const to: Record<number, ClusterMessage[]> = { 1: [], 2: [] };
  for (const id of [1, 2]) relay.add(id, (msg, done) => (to[id].push(msg), done(null)));
  relay.receive(1, { t: 'kes-metrics-ask', id: 1 });
  relay.receive(2, { t: 'kes-evict-ack', id: 1 }); // round 1 gathers metrics
  relay.receive(1, { t: 'kes-evict-ask', id: 2, name: 'k' });
  assert.deepEqual(to[2].at(-1), { t: 'kes-evict-poll', id: 2, name: 'k' });
  relay.receive(1, { t: 'kes-evict-ack', id: 2 }); // the asker is not polled
  relay.receive(2, { t: 'kes-evict-ack', id: 99 });
  assert.deepEqual(to[1].filter((m) => m.t === 'kes-evict-done' || m.t === 'kes-metrics'), []);
  relay.receive(2, { t: 'kes-evict-ack', id: 2 });
  assert.deepEqual(to[1].at(-1), { t: 'kes-evict-done', id: 2, complete: true });
  relay.remove(1);
  relay.remove(2);
});
