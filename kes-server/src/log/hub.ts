/**
 * Fan-out of log lines to streaming subscribers (`/v1/log/error`, `/v1/log/audit`). A subscriber
 * never blocks the producer: while its stream is backed up, lines for it are dropped.
 *
 * With several worker processes a hub is linked to the cluster (see `cluster/worker-link.ts`):
 * lines made here also go to the subscribers of the other workers, and theirs come in through
 * `deliver`, so a subscriber sees the events of every worker.
 */

/** The part of an HTTP response a subscriber needs. */
export interface LogSink {
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

interface Subscriber {
  readonly sink: LogSink;
  blocked: boolean;
}

/** How a hub reaches the other workers of a cluster. */
interface HubLink {
  /** Called with every line made in this process while other workers have subscribers. */
  forward(line: string): void;
  /** Called with the local subscriber count whenever it changes. */
  subscribers(count: number): void;
}

export class LogHub {
  readonly #subscribers = new Set<Subscriber>();
  #onWritten: (n: number) => void = () => {};
  #link: HubLink | undefined;
  #remote = false;

  /** Adds a subscriber; returns the function that removes it (call it on disconnect). */
  subscribe(sink: LogSink): () => void {
    const sub: Subscriber = { sink, blocked: false };
    this.#subscribers.add(sub);
    this.#link?.subscribers(this.#subscribers.size);
    return () => {
      if (this.#subscribers.delete(sub)) this.#link?.subscribers(this.#subscribers.size);
    };
  }

  /** Local subscribers. */
  get size(): number {
    return this.#subscribers.size;
  }

  /** True when a line would reach anyone: a local subscriber, or one of another worker. */
  get wanted(): boolean {
    return this.#subscribers.size > 0 || this.#remote;
  }

  /** Sets the callback run with the number of subscriber lines written (metrics). */
  setOnWritten(onWritten: (n: number) => void): void {
    this.#onWritten = onWritten;
  }

  /** Connects the hub to the other workers of a cluster. */
  link(link: HubLink): void {
    this.#link = link;
    link.subscribers(this.#subscribers.size);
  }

  /** Whether other workers currently have subscribers (set by the cluster link). */
  setRemote(on: boolean): void {
    this.#remote = on;
  }

  /** A line made in this process: to the local subscribers and, if wanted, to the other workers. */
  emit(line: string): number {
    if (this.#remote) this.#link?.forward(line);
    return this.publish(line);
  }

  /** A line from another worker: to the local subscribers only. */
  deliver(line: string): number {
    return this.publish(line);
  }

  /** Writes `line` + `\n` to every local subscriber that is not backed up; returns how many got it. */
  publish(line: string): number {
    let written = 0;
    for (const sub of this.#subscribers) {
      if (sub.blocked) continue;
      try {
        if (!sub.sink.write(line + '\n')) {
          sub.blocked = true;
          sub.sink.once('drain', () => {
            sub.blocked = false;
          });
        }
        written++;
      } catch {
        this.#subscribers.delete(sub);
        this.#link?.subscribers(this.#subscribers.size);
      }
    }
    if (written > 0) this.#onWritten(written);
    return written;
  }
}
