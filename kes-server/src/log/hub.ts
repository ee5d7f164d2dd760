/**
 * Fan-out of log lines to streaming subscribers (`/v1/log/error`, `/v1/log/audit`). A subscriber
 * never blocks the producer: while its stream is backed up, lines for it are dropped.
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

export class LogHub {
  readonly #subscribers = new Set<Subscriber>();

  /** Adds a subscriber; returns the function that removes it (call it on disconnect). */
  subscribe(sink: LogSink): () => void {
    const sub: Subscriber = { sink, blocked: false };
    this.#subscribers.add(sub);
    return () => {
      this.#subscribers.delete(sub);
    };
  }

  get size(): number {
    return this.#subscribers.size;
  }

  /** Writes `line` + `\n` to every subscriber that is not backed up; returns how many got it. */
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
      }
    }
    return written;
  }
}
