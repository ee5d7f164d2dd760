/**
 * Messages between the worker processes and the primary of a multi-worker server, sent over the
 * `node:cluster` IPC channel. Every message carries `t`, starting with `kes-`; anything else on the
 * channel is ignored.
 */
import type { MetricsSnapshot } from '../metrics/metrics.ts';

export type LogStream = 'error' | 'audit';

export const LOG_STREAMS: readonly LogStream[] = ['error', 'audit'];

export type ClusterMessage =
  /** worker → primary: the worker's local subscriber count of a stream changed. */
  | { readonly t: 'kes-subs'; readonly stream: LogStream; readonly count: number }
  /** primary → worker: whether other workers have subscribers of a stream. */
  | { readonly t: 'kes-interest'; readonly stream: LogStream; readonly on: boolean }
  /** both ways: one log line (worker → primary: made there; primary → worker: to deliver). */
  | { readonly t: 'kes-log'; readonly stream: LogStream; readonly line: string }
  /** worker → primary: a `/v1/metrics` request wants every worker's counters. */
  | { readonly t: 'kes-metrics-ask'; readonly id: number }
  /** primary → worker: send your counters. */
  | { readonly t: 'kes-metrics-poll'; readonly id: number }
  /** worker → primary: the counters of this worker. */
  | { readonly t: 'kes-metrics-snap'; readonly id: number; readonly snapshot: MetricsSnapshot }
  /** primary → worker: the counters of all workers that answered in time. */
  | { readonly t: 'kes-metrics'; readonly id: number; readonly snapshots: readonly MetricsSnapshot[] }
  /** worker → primary: this worker deleted key `name`; the other workers must drop it from their caches. */
  | { readonly t: 'kes-evict-ask'; readonly id: number; readonly name: string }
  /** primary → worker: drop key `name` from your cache, then confirm. */
  | { readonly t: 'kes-evict-poll'; readonly id: number; readonly name: string }
  /** worker → primary: the key of that poll is no longer cached here. */
  | { readonly t: 'kes-evict-ack'; readonly id: number }
  /** primary → worker: every other worker confirmed (`complete`), or some did not in time. */
  | { readonly t: 'kes-evict-done'; readonly id: number; readonly complete: boolean };

const TYPES = new Set([
  'kes-subs',
  'kes-interest',
  'kes-log',
  'kes-metrics-ask',
  'kes-metrics-poll',
  'kes-metrics-snap',
  'kes-metrics',
  'kes-evict-ask',
  'kes-evict-poll',
  'kes-evict-ack',
  'kes-evict-done',
]);

/** True for a message of this protocol (the channel may carry others). */
export function isClusterMessage(msg: unknown): msg is ClusterMessage {
  return typeof msg === 'object' && msg !== null && TYPES.has((msg as { t?: unknown }).t as string);
}

/** One end of an IPC channel: `send` calls `done` once the message left (or failed). */
export type SendFn = (msg: ClusterMessage, done: (err: Error | null) => void) => void;

/**
 * Sends without ever queueing more than `limit` messages: beyond that, messages are dropped and
 * counted. Log lines are best effort, like a backed-up subscriber (docs/protocol.md#logs); the producer never waits.
 */
export class BoundedSender {
  readonly #send: SendFn;
  readonly #limit: number;
  #pending = 0;
  #dropped = 0;

  constructor(send: SendFn, limit = 1024) {
    this.#send = send;
    this.#limit = limit;
  }

  /** Messages sent and not yet written to the channel. */
  get pending(): number {
    return this.#pending;
  }

  /** Messages dropped because the channel was backed up or closed. */
  get dropped(): number {
    return this.#dropped;
  }

  /** @returns false when the message was dropped. */
  send(msg: ClusterMessage): boolean {
    if (this.#pending >= this.#limit) {
      this.#dropped++;
      return false;
    }
    this.#pending++;
    let settled = false;
    const done = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      this.#pending--;
      if (err) this.#dropped++;
    };
    try {
      this.#send(msg, done);
    } catch {
      done(new Error('channel closed'));
      return false;
    }
    return true;
  }
}
