/**
 * The audit log (docs/protocol.md#audit-log): one record per successful key create, import or delete, printed
 * to stdout as slog text (level INFO, filtered by the configured audit level) and sent to
 * `/v1/log/audit` subscribers as a JSON line.
 */
import { formatTime } from '../http/json.ts';
import { LogHub } from './hub.ts';
import { formatRecord, LevelInfo } from './slog.ts';

export interface AuditRecord {
  readonly time: Date;
  readonly method: string;
  /** The decoded URL path, e.g. `/v1/key/create/my-key`. */
  readonly path: string;
  readonly ip: string;
  readonly identity: string;
  readonly code: number;
  readonly durationMs: number;
  /** A short message naming what happened, e.g. `secret key 'my-key' created`. */
  readonly msg: string;
}

export interface AuditLogOptions {
  readonly level: number;
  readonly console?: (line: string) => void;
  readonly onEvent?: (n: number) => void;
}

export class AuditLog {
  readonly hub = new LogHub();
  #level: number;
  readonly #console: (line: string) => void;

  constructor(opts: AuditLogOptions) {
    this.#level = opts.level;
    this.#console = opts.console ?? ((line) => process.stdout.write(line + '\n'));
    if (opts.onEvent) this.hub.setOnWritten(opts.onEvent);
  }

  /** Sets the callback run with the number of subscriber lines written (metrics). */
  setOnEvent(onEvent: (n: number) => void): void {
    this.hub.setOnWritten(onEvent);
  }

  setLevel(level: number): void {
    this.#level = level;
  }

  record(r: AuditRecord): void {
    if (LevelInfo >= this.#level) {
      this.#console(
        formatRecord(r.time, LevelInfo, r.msg, [
          ['req.method', r.method],
          ['req.path', r.path],
          ['req.ip', r.ip],
          ['req.identity', r.identity],
          ['res.code', r.code],
          ['res.time', `${r.durationMs}ms`],
        ]),
      );
    }
    if (!this.hub.wanted) return;
    const request: Record<string, string> = {};
    if (r.ip !== '') request.ip = r.ip;
    request.path = r.path;
    if (r.identity !== '') request.identity = r.identity;
    const line = JSON.stringify({
      time: formatTime(r.time),
      request,
      response: { code: r.code, time: Math.round(r.durationMs) },
    });
    this.hub.emit(line);
  }
}
