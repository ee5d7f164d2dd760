/** Log levels of the `log` section (docs/protocol.md#config-log), in slog numbering. */

export const LEVEL_DEBUG = -4;
export const LEVEL_INFO = 0;
export const LEVEL_WARN = 4;
export const LEVEL_ERROR = 8;
/** `off`: one above ERROR, so nothing is printed. */
export const LEVEL_OFF = LEVEL_ERROR + 1;

const NAMES: Record<string, number> = { DEBUG: LEVEL_DEBUG, INFO: LEVEL_INFO, WARN: LEVEL_WARN, ERROR: LEVEL_ERROR };

/**
 * Parses `""`/`on` (INFO), `off`, `DEBUG`/`INFO`/`WARN`/`ERROR` with an optional `+N`/`-N`
 * offset, or a plain integer; case-insensitive. Throws a SyntaxError for anything else.
 */
export function parseLogLevel(text: string): number {
  const s = text.trim().toUpperCase();
  if (s === '' || s === 'ON') return LEVEL_INFO;
  if (s === 'OFF') return LEVEL_OFF;
  if (/^[+-]?\d+$/.test(s)) return Number(s);
  const m = /^(DEBUG|INFO|WARN|ERROR)(?:([+-]\d+))?$/.exec(s);
  if (!m) throw new SyntaxError(`invalid log level "${text}"`);
  return NAMES[m[1]] + (m[2] ? Number(m[2]) : 0);
}
