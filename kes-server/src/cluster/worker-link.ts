/**
 * A worker's side of a multi-worker server: connects its error and audit log hubs, its metrics
 * and its key cache to the primary's relay (`relay.ts`).
 */
import type { LogHub } from '../log/hub.ts';
import type { MetricsSnapshot } from '../metrics/metrics.ts';
import { BoundedSender, type ClusterMessage, isClusterMessage, type LogStream, type SendFn } from './messages.ts';

/** The worker's end of the IPC channel to the primary. */
export interface ClusterChannel {
  readonly send: SendFn;
  onMessage(listener: (msg: unknown) => void): void;
}

/** The channel of a `node:cluster` worker process (`process.send`). */
export function processChannel(proc: NodeJS.Process = process): ClusterChannel {
  return {
    send: (msg, done) => {
      if (!proc.send) throw new Error('cluster: this process has no IPC channel');
      proc.send(msg, undefined, undefined, done);
    },
    onMessage: (listener) => void proc.on('message', listener),
  };
}

interface WorkerLinkOptions {
  readonly send: SendFn;
  readonly hubs: Readonly<Record<LogStream, LogHub>>;
  /** This worker's counters. */
  readonly snapshot: () => MetricsSnapshot;
  /** Drops key `name` from this worker's cache (it was deleted through another worker). */
  readonly evict: (name: string) => void;
  /** How long `collect` waits for the primary before answering with this worker alone. Default 2 s. */
  readonly metricsTimeoutMs?: number;
  /** How long `evictOthers` waits for the primary's confirmation. Default 2 s. */
  readonly evictTimeoutMs?: number;
  /** Queue bound of the channel (messages). Default 1024. */
  readonly queueLimit?: number;
}

export class WorkerLink {
  readonly #sender: BoundedSender;
  readonly #hubs: Readonly<Record<LogStream, LogHub>>;
  readonly #snapshot: () => MetricsSnapshot;
  readonly #evict: (name: string) => void;
  readonly #metricsTimeoutMs: number;
  readonly #evictTimeoutMs: number;
  /** Questions to the primary by id, each settled by its answer or (undefined) its timeout. */
  readonly #asks = new Map<number, (reply: ClusterMessage | undefined) => void>();
  #nextId = 1;

  constructor(opts: WorkerLinkOptions) {
    this.#sender = new BoundedSender(opts.send, opts.queueLimit ?? 1024);
    this.#hubs = opts.hubs;
    this.#snapshot = opts.snapshot;
    this.#evict = opts.evict;
    this.#metricsTimeoutMs = opts.metricsTimeoutMs ?? 2000;
    this.#evictTimeoutMs = opts.evictTimeoutMs ?? 2000;
    for (const stream of ['error', 'audit'] as const) {
      opts.hubs[stream].link({
        forward: (line) => void this.#sender.send({ t: 'kes-log', stream, line }),
        subscribers: (count) => void this.#sender.send({ t: 'kes-subs', stream, count }),
      });
    }
  }

  /** Messages dropped so far because the channel was backed up. */
  get dropped(): number {
    return this.#sender.dropped;
  }

  /** A message from the primary. */
  receive(msg: unknown): void {
    if (!isClusterMessage(msg)) return;
    switch (msg.t) {
      case 'kes-interest':
        this.#hubs[msg.stream].setRemote(msg.on);
        return;
      case 'kes-log':
        this.#hubs[msg.stream].deliver(msg.line);
        return;
      case 'kes-metrics-poll':
        this.#sender.send({ t: 'kes-metrics-snap', id: msg.id, snapshot: this.#snapshot() });
        return;
      case 'kes-evict-poll':
        this.#evict(msg.name);
        this.#sender.send({ t: 'kes-evict-ack', id: msg.id });
        return;
      case 'kes-metrics':
      case 'kes-evict-done':
        this.#asks.get(msg.id)?.(msg);
        return;
      default:
        return;
    }
  }

  /**
   * The counters of every worker that answered the primary in time. Falls back to this worker's
   * alone (`complete: false`) when the primary does not answer within the timeout.
   */
  async collect(): Promise<{ snapshots: readonly MetricsSnapshot[]; complete: boolean }> {
    const reply = await this.#ask((id) => ({ t: 'kes-metrics-ask', id }), this.#metricsTimeoutMs);
    if (reply?.t === 'kes-metrics' && reply.snapshots.length > 0) return { snapshots: reply.snapshots, complete: true };
    return { snapshots: [this.#snapshot()], complete: false };
  }

  /**
   * Has key `name` dropped from the caches of all other workers (this worker evicts its own).
   * Resolves true once the primary confirms that every other worker did; false when some did not
   * answer in time or the primary did not. Never rejects.
   */
  async evictOthers(name: string): Promise<boolean> {
    const reply = await this.#ask((id) => ({ t: 'kes-evict-ask', id, name }), this.#evictTimeoutMs);
    return reply?.t === 'kes-evict-done' && reply.complete;
  }

  /** Sends the question `make(id)`; resolves with the primary's answer, or undefined on timeout. */
  #ask(make: (id: number) => ClusterMessage, timeoutMs: number): Promise<ClusterMessage | undefined> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const settle = (reply: ClusterMessage | undefined): void => {
        clearTimeout(timer);
        this.#asks.delete(id);
        resolve(reply);
      };
      const timer = setTimeout(() => settle(undefined), timeoutMs);
      timer.unref();
      this.#asks.set(id, settle);
      if (!this.#sender.send(make(id))) settle(undefined);
    });
  }
}
