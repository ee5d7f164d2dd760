/** The `log` section's level syntax (docs/protocol.md#config-log); the levels are slog's (log/slog.ts). */
import { LevelDebug, LevelError, LevelInfo, LevelOff, LevelWarn } from '../log/slog.ts';

const NAMES: Record<string, number> = { DEBUG: LevelDebug, INFO: LevelInfo, WARN: LevelWarn, ERROR: LevelError };

/**
 * Parses `""`/`on` (INFO), `off`, `DEBUG`/`INFO`/`WARN`/`ERROR` with an optional `+N`/`-N`
 * offset, or a plain integer; case-insensitive. Throws a SyntaxError for anything else.
 */
export function parseLogLevel(text: string): number {
  const s = text.trim().toUpperCase();
  if (s === '' || s === 'ON') return LevelInfo;
  if (s === 'OFF') return LevelOff;
  if (/^[+-]?\d+$/.test(s)) return Number(s);
  const m = /^(DEBUG|INFO|WARN|ERROR)(?:([+-]\d+))?$/.exec(s);
  if (!m) throw new SyntaxError(`invalid log level "${text}"`);
  return NAMES[m[1]] + (m[2] ? Number(m[2]) : 0);
}
