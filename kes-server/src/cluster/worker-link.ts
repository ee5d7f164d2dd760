/**
 * A worker's side of a multi-worker server: connects its error and audit log hubs and its
 * metrics to the primary's relay (`relay.ts`).
 */
import type { LogHub } from '../log/hub.ts';
import type { MetricsSnapshot } from '../metrics/metrics.ts';
import { BoundedSender, isClusterMessage, type LogStream, type SendFn } from './messages.ts';

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

export interface WorkerLinkOptions {
  readonly send: SendFn;
  readonly hubs: Readonly<Record<LogStream, LogHub>>;
  /** This worker's counters. */
  readonly snapshot: () => MetricsSnapshot;
  /** How long `collect` waits for the primary before answering with this worker alone. Default 2 s. */
  readonly metricsTimeoutMs?: number;
  /** Queue bound of the channel (messages). Default 1024. */
  readonly queueLimit?: number;
}

export class WorkerLink {
  readonly #sender: BoundedSender;
  readonly #hubs: Readonly<Record<LogStream, LogHub>>;
  readonly #snapshot: () => MetricsSnapshot;
  readonly #timeoutMs: number;
  readonly #asks = new Map<number, (snaps: readonly MetricsSnapshot[] | undefined) => void>();
  #nextId = 1;

  constructor(opts: WorkerLinkOptions) {
    this.#sender = new BoundedSender(opts.send, opts.queueLimit ?? 1024);
    this.#hubs = opts.hubs;
    this.#snapshot = opts.snapshot;
    this.#timeoutMs = opts.metricsTimeoutMs ?? 2000;
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
      case 'kes-metrics':
        this.#asks.get(msg.id)?.(msg.snapshots);
        return;
      default:
        return;
    }
  }

  /**
   * The counters of every worker that answered the primary in time. Falls back to this worker's
   * alone (`complete: false`) when the primary does not answer within the timeout.
   */
  collect(): Promise<{ snapshots: readonly MetricsSnapshot[]; complete: boolean }> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const settle = (snaps: readonly MetricsSnapshot[] | undefined): void => {
        clearTimeout(timer);
        this.#asks.delete(id);
        if (snaps && snaps.length > 0) resolve({ snapshots: snaps, complete: true });
        else resolve({ snapshots: [this.#snapshot()], complete: false });
      };
      const timer = setTimeout(() => settle(undefined), this.#timeoutMs);
      timer.unref();
      this.#asks.set(id, settle);
      if (!this.#sender.send({ t: 'kes-metrics-ask', id })) settle(undefined);
    });
  }
}
