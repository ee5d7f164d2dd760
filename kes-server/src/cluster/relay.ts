/**
 * The primary's side of a multi-worker server: it serves no requests, it only relays. Log lines
 * a worker makes go to every other worker that has subscribers of that stream, and a
 * `/v1/metrics` request on one worker is answered with the counters of all workers, so that N
 * workers behind one port look like one server (issue item 9).
 */
import type { MetricsSnapshot } from '../metrics/metrics.ts';
import { BoundedSender, type ClusterMessage, isClusterMessage, LOG_STREAMS, type LogStream, type SendFn } from './messages.ts';

interface Member {
  readonly sender: BoundedSender;
  readonly subs: Record<LogStream, number>;
  /** What this worker was last told about the other workers' subscribers. */
  readonly interest: Record<LogStream, boolean>;
}

interface Gathering {
  readonly asker: number;
  readonly askId: number;
  readonly waiting: Set<number>;
  readonly snapshots: MetricsSnapshot[];
  readonly timer: NodeJS.Timeout;
}

export interface RelayOptions {
  /** How long a metrics request waits for the workers; late answers are left out. Default 1 s. */
  readonly metricsTimeoutMs?: number;
  /** Queue bound per worker channel (messages). Default 1024. */
  readonly queueLimit?: number;
}

export class ClusterRelay {
  readonly #members = new Map<number, Member>();
  readonly #gatherings = new Map<number, Gathering>();
  readonly #timeoutMs: number;
  readonly #queueLimit: number;
  #nextId = 1;

  constructor(opts: RelayOptions = {}) {
    this.#timeoutMs = opts.metricsTimeoutMs ?? 1000;
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

  /** A worker left: its subscribers are gone and pending metrics requests stop waiting for it. */
  remove(id: number): void {
    if (!this.#members.delete(id)) return;
    for (const stream of LOG_STREAMS) this.#updateInterest(stream);
    for (const [gid, g] of this.#gatherings) {
      if (g.asker === id) {
        clearTimeout(g.timer);
        this.#gatherings.delete(gid);
      } else if (g.waiting.delete(id) && g.waiting.size === 0) {
        this.#finish(gid);
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
        this.#gather(id, msg.id);
        return;
      case 'kes-metrics-snap': {
        const g = this.#gatherings.get(msg.id);
        if (!g || !g.waiting.delete(id)) return;
        g.snapshots.push(msg.snapshot);
        if (g.waiting.size === 0) this.#finish(msg.id);
        return;
      }
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

  #gather(asker: number, askId: number): void {
    const id = this.#nextId++;
    const timer = setTimeout(() => this.#finish(id), this.#timeoutMs);
    timer.unref();
    const g: Gathering = { asker, askId, waiting: new Set(this.#members.keys()), snapshots: [], timer };
    this.#gatherings.set(id, g);
    const poll: ClusterMessage = { t: 'kes-metrics-poll', id };
    for (const [wid, m] of this.#members) if (!m.sender.send(poll)) g.waiting.delete(wid);
    if (g.waiting.size === 0) this.#finish(id);
  }

  #finish(id: number): void {
    const g = this.#gatherings.get(id);
    if (!g) return;
    clearTimeout(g.timer);
    this.#gatherings.delete(id);
    this.#members.get(g.asker)?.sender.send({ t: 'kes-metrics', id: g.askId, snapshots: g.snapshots });
  }
}
