/**
 * The primary's side of a multi-worker server: it serves no requests, it only relays. Log lines
 * a worker makes go to every other worker that has subscribers of that stream, a `/v1/metrics`
 * request on one worker is answered with the counters of all workers, and a key deleted through
 * one worker is dropped from the caches of all others before that delete is answered, so that N
 * workers behind one port look like one server (docs/protocol.md#server-routes, `/v1/metrics`).
 */
import type { MetricsSnapshot } from '../metrics/metrics.ts';
import { BoundedSender, type ClusterMessage, isClusterMessage, LOG_STREAMS, type LogStream, type SendFn } from './messages.ts';

interface Member {
  readonly sender: BoundedSender;
  readonly subs: Record<LogStream, number>;
  /** What this worker was last told about the other workers' subscribers. */
  readonly interest: Record<LogStream, boolean>;
}

/** One question of a worker to the others: counters to gather, or a key to evict. */
interface Round {
  readonly kind: 'metrics' | 'evict';
  readonly asker: number;
  readonly askId: number;
  readonly waiting: Set<number>;
  readonly snapshots: MetricsSnapshot[];
  readonly timer: NodeJS.Timeout;
  /** A worker could not be asked (its channel was backed up or closed). */
  missed: boolean;
}

interface RelayOptions {
  /** How long a metrics request waits for the workers; late answers are left out. Default 1 s. */
  readonly metricsTimeoutMs?: number;
  /** How long an eviction waits for the other workers' confirmations. Default 1 s. */
  readonly evictTimeoutMs?: number;
  /** Queue bound per worker channel (messages). Default 1024. */
  readonly queueLimit?: number;
}

export class ClusterRelay {
  readonly #members = new Map<number, Member>();
  readonly #rounds = new Map<number, Round>();
  readonly #timeoutMs: Record<Round['kind'], number>;
  readonly #queueLimit: number;
  #nextId = 1;

  constructor(opts: RelayOptions = {}) {
    this.#timeoutMs = { metrics: opts.metricsTimeoutMs ?? 1000, evict: opts.evictTimeoutMs ?? 1000 };
    this.#queueLimit = opts.queueLimit ?? 1024;
  }

  /** A worker joined; `send` writes to its channel. */
  add(id: number, send: SendFn): void {
    this.#members.set(id, {
      sender: new BoundedSender(send, this.#queueLimit),
      subs: { error: 0, audit: 0 },
      interest: { error: false, audit: false },
    });
    for (const stream of LOG_STREAMS) this.#updateInterest(stream);
  }

  /**
   * A worker left: its subscribers are gone, and pending rounds stop waiting for it (a worker
   * that is gone caches nothing).
   */
  remove(id: number): void {
    if (!this.#members.delete(id)) return;
    for (const stream of LOG_STREAMS) this.#updateInterest(stream);
    for (const [rid, r] of this.#rounds) {
      if (r.asker === id) {
        clearTimeout(r.timer);
        this.#rounds.delete(rid);
      } else if (r.waiting.delete(id) && r.waiting.size === 0) {
        this.#finish(rid);
      }
    }
  }

  /** Messages dropped so far because a worker's channel was backed up. */
  get dropped(): number {
    let n = 0;
    for (const m of this.#members.values()) n += m.sender.dropped;
    return n;
  }

  /** A message from worker `id`. */
  receive(id: number, msg: unknown): void {
    const from = this.#members.get(id);
    if (!from || !isClusterMessage(msg)) return;
    switch (msg.t) {
      case 'kes-subs':
        from.subs[msg.stream] = msg.count;
        this.#updateInterest(msg.stream);
        return;
      case 'kes-log':
        for (const [other, m] of this.#members) {
          if (other !== id && m.subs[msg.stream] > 0) m.sender.send(msg);
        }
        return;
      case 'kes-metrics-ask':
        this.#start('metrics', id, msg.id, [...this.#members.keys()], (rid) => ({ t: 'kes-metrics-poll', id: rid }));
        return;
      case 'kes-metrics-snap':
        this.#answered(id, msg.id, 'metrics', (r) => r.snapshots.push(msg.snapshot));
        return;
      case 'kes-evict-ask': {
        const others = [...this.#members.keys()].filter((w) => w !== id);
        this.#start('evict', id, msg.id, others, (rid) => ({ t: 'kes-evict-poll', id: rid, name: msg.name }));
        return;
      }
      case 'kes-evict-ack':
        this.#answered(id, msg.id, 'evict');
        return;
      default:
        return;
    }
  }

  /** Tells each worker whether some other worker has subscribers of `stream`, when that changed. */
  #updateInterest(stream: LogStream): void {
    let total = 0;
    for (const m of this.#members.values()) total += m.subs[stream];
    for (const m of this.#members.values()) {
      const on = total - m.subs[stream] > 0;
      if (m.interest[stream] === on) continue;
      m.interest[stream] = on;
      m.sender.send({ t: 'kes-interest', stream, on });
    }
  }

  /** Sends `poll` to each of `targets`; the asker is answered once all replied or on timeout. */
  #start(kind: Round['kind'], asker: number, askId: number, targets: readonly number[], poll: (id: number) => ClusterMessage): void {
    const id = this.#nextId++;
    const timer = setTimeout(() => this.#finish(id), this.#timeoutMs[kind]);
    timer.unref();
    const r: Round = { kind, asker, askId, waiting: new Set(targets), snapshots: [], timer, missed: false };
    this.#rounds.set(id, r);
    const msg = poll(id);
    for (const wid of targets) {
      if (this.#members.get(wid)?.sender.send(msg)) continue;
      r.waiting.delete(wid);
      r.missed = true;
    }
    if (r.waiting.size === 0) this.#finish(id);
  }

  /** Worker `from` answered round `id`; `record` keeps what it sent, if the answer was awaited. */
  #answered(from: number, id: number, kind: Round['kind'], record: (r: Round) => void = () => {}): void {
    const r = this.#rounds.get(id);
    if (!r || r.kind !== kind || !r.waiting.delete(from)) return;
    record(r);
    if (r.waiting.size === 0) this.#finish(id);
  }

  #finish(id: number): void {
    const r = this.#rounds.get(id);
    if (!r) return;
    clearTimeout(r.timer);
    this.#rounds.delete(id);
    const reply: ClusterMessage =
      r.kind === 'metrics'
        ? { t: 'kes-metrics', id: r.askId, snapshots: r.snapshots }
        : { t: 'kes-evict-done', id: r.askId, complete: !r.missed && r.waiting.size === 0 };
    this.#members.get(r.asker)?.sender.send(reply);
  }
}
