/**
 * The audit log (docs/protocol.md#audit-log): one record per successful key create, import or delete, printed
 * to stdout as slog text (level INFO, filtered by the configured audit level) and sent to
 * `/v1/log/audit` subscribers as a JSON line.
 */
import { formatTime } from '../http/json.ts';
import { formatRecord, LevelInfo } from './slog.ts';
import { LogStream, type LogOptions } from './stream.ts';

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

export type AuditLogOptions = LogOptions;

export class AuditLog extends LogStream {
  constructor(opts: AuditLogOptions) {
    super(opts, (line) => process.stdout.write(line + '\n'));
  }

  record(r: AuditRecord): void {
    if (LevelInfo >= this.level) {
      this.print(
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
