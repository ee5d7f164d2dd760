/** The one time source of the server's timers and background loops; tests pass their own. */

/** A repeating timer; `stop` ends it. */
export interface Repeat {
  stop(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. Never keeps the process alive. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Calls `fn` every `ms` until stopped. Never keeps the process alive. */
  every(ms: number, fn: () => void): Repeat;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      timer.unref();
      signal.addEventListener('abort', done, { once: true });
    }),
  every: (ms, fn) => {
    const timer = setInterval(fn, ms).unref();
    return { stop: () => clearInterval(timer) };
  },
};
