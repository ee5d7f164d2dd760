/**
 * Formatting of log records like Go's `log/slog` text handler (docs/protocol.md#logs):
 * `time=<RFC 3339 ms> level=<LEVEL> msg=<text> key=value ...`, one line per record.
 */

/** The log levels, in slog's numbering (the config's `log` levels use the same scale). */
export const LevelDebug = -4;
export const LevelInfo = 0;
export const LevelWarn = 4;
export const LevelError = 8;
/** `off`: one above ERROR, so a stream at this level prints nothing. */
export const LevelOff = LevelError + 1;

export type Attr = readonly [key: string, value: string | number | boolean];

/** `INFO`, `WARN+2`, `DEBUG-1` … as slog prints levels. */
function levelName(level: number): string {
  const base = level >= LevelError ? ['ERROR', LevelError] : level >= LevelWarn ? ['WARN', LevelWarn] : level >= LevelInfo ? ['INFO', LevelInfo] : ['DEBUG', LevelDebug];
  const delta = level - (base[1] as number);
  return delta === 0 ? (base[0] as string) : `${base[0]}${delta > 0 ? '+' : ''}${delta}`;
}

function needsQuoting(s: string): boolean {
  if (s === '') return true;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c <= 0x20 || c === 0x7f || ch === '=' || ch === '"' || c === 0xfffd) return true;
  }
  return false;
}

function quote(s: string): string {
  // JSON string escaping is close enough to Go's strconv.Quote for log readers.
  return JSON.stringify(s);
}

function value(v: string | number | boolean): string {
  const s = String(v);
  return needsQuoting(s) ? quote(s) : s;
}

/** Go slog time format: millisecond precision, `Z` for UTC. */
function slogTime(date: Date): string {
  return date.toISOString();
}

/** One text line without the trailing newline. */
export function formatRecord(time: Date, level: number, msg: string, attrs: readonly Attr[]): string {
  const parts = [`time=${slogTime(time)}`, `level=${levelName(level)}`, `msg=${value(msg)}`];
  for (const [k, v] of attrs) parts.push(`${k}=${value(v)}`);
  return parts.join(' ');
}
