/**
 * The error log (docs/protocol.md#error-log): records at or above the configured level go to the console
 * (stderr) and, as `{"message":"<slog text line>"}` lines, to `/v1/log/error` subscribers.
 * Callers must never pass key material, plaintexts, tokens or API keys as message or attribute.
 */
import { systemClock, type Clock } from '../clock.ts';
import { type Attr, formatRecord, LevelDebug, LevelError, LevelInfo, LevelWarn } from './slog.ts';
import { LogStream, type LogOptions } from './stream.ts';

export interface ErrorLogOptions extends LogOptions {
  readonly clock?: Clock;
}

export class ErrorLog extends LogStream {
  readonly #clock: Clock;

  constructor(opts: ErrorLogOptions) {
    super(opts, (line) => process.stderr.write(line + '\n'));
    this.#clock = opts.clock ?? systemClock;
  }

  log(level: number, msg: string, attrs: readonly Attr[] = []): void {
    if (level < this.level) return;
    const line = formatRecord(new Date(this.#clock.now()), level, msg, attrs);
    this.print(line);
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
