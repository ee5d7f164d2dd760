/** What the error log and the audit log share: a console level and writer, and a hub of subscribers. */
import { LogHub } from './hub.ts';

export interface LogOptions {
  /** Minimum slog level printed to the console; LevelOff or more prints nothing. */
  readonly level: number;
  /** Console writer; defaults to the log's own stream (stderr or stdout). */
  readonly console?: (line: string) => void;
  /** Called with the number of lines written to subscribers (metrics). */
  readonly onEvent?: (n: number) => void;
}

export class LogStream {
  readonly hub = new LogHub();
  #level: number;
  protected readonly print: (line: string) => void;

  constructor(opts: LogOptions, defaultConsole: (line: string) => void) {
    this.#level = opts.level;
    this.print = opts.console ?? defaultConsole;
    if (opts.onEvent) this.hub.setOnWritten(opts.onEvent);
  }

  get level(): number {
    return this.#level;
  }

  /** Changes the level (config reload). */
  setLevel(level: number): void {
    this.#level = level;
  }

  /** Sets the callback run with the number of subscriber lines written (metrics). */
  setOnEvent(onEvent: (n: number) => void): void {
    this.hub.setOnWritten(onEvent);
  }
}
