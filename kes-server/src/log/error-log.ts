/**
 * The error log (docs/protocol.md#error-log): records at or above the configured level go to the console
 * (stderr) and, as `{"message":"<slog text line>"}` lines, to `/v1/log/error` subscribers.
 * Callers must never pass key material, plaintexts, tokens or API keys as message or attribute.
 */
import { systemClock, type Clock } from '../clock.ts';
import { LogHub } from './hub.ts';
import { type Attr, formatRecord, LevelDebug, LevelError, LevelInfo, LevelWarn } from './slog.ts';

export interface ErrorLogOptions {
  /** Minimum slog level; 9 or more disables the log. */
  readonly level: number;
  /** Console writer; defaults to stderr. */
  readonly console?: (line: string) => void;
  /** Called once per line written to a subscriber (metrics). */
  readonly onEvent?: (n: number) => void;
  readonly clock?: Clock;
}

export class ErrorLog {
  readonly hub = new LogHub();
  #level: number;
  readonly #console: (line: string) => void;
  readonly #clock: Clock;

  constructor(opts: ErrorLogOptions) {
    this.#level = opts.level;
    this.#console = opts.console ?? ((line) => process.stderr.write(line + '\n'));
    if (opts.onEvent) this.hub.setOnWritten(opts.onEvent);
    this.#clock = opts.clock ?? systemClock;
  }

  get level(): number {
    return this.#level;
  }

  /** Sets the callback run with the number of subscriber lines written (metrics). */
  setOnEvent(onEvent: (n: number) => void): void {
    this.hub.setOnWritten(onEvent);
  }

  /** Changes the level (config reload). */
  setLevel(level: number): void {
    this.#level = level;
  }

  log(level: number, msg: string, attrs: readonly Attr[] = []): void {
    if (level < this.#level) return;
    const line = formatRecord(new Date(this.#clock.now()), level, msg, attrs);
    this.#console(line);
    if (this.hub.wanted) this.hub.emit(JSON.stringify({ message: line }));
  }

  debug(msg: string, attrs?: readonly Attr[]): void {
    this.log(LevelDebug, msg, attrs);
  }
  info(msg: string, attrs?: readonly Attr[]): void {
    this.log(LevelInfo, msg, attrs);
  }
  warn(msg: string, attrs?: readonly Attr[]): void {
    this.log(LevelWarn, msg, attrs);
  }
  error(msg: string, attrs?: readonly Attr[]): void {
    this.log(LevelError, msg, attrs);
  }
}
