/** Go `time.ParseDuration` syntax, as the config file uses it for timeouts and expiries. */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /^([0-9]*(?:\.[0-9]*)?)([a-zµμ]+)/;

/**
 * Parses a Go duration (`300ms`, `1h30m`, `5m0s`, `1.5s`, `-2s`, `0`) into milliseconds
 * (possibly fractional, possibly negative). Throws a SyntaxError for anything else, including
 * numbers without unit (except `0`) and unknown units.
 */
export function parseGoDuration(text: string): number {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s[0] === '-' ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new SyntaxError(`invalid duration "${text}"`);
  let total = 0;
  while (s !== '') {
    const m = PART.exec(s);
    if (!m || m[1] === '' || m[1] === '.') throw new SyntaxError(`invalid duration "${text}"`);
    const unit = UNIT_MS[m[2]];
    if (unit === undefined) throw new SyntaxError(`unknown unit "${m[2]}" in duration "${text}"`);
    total += Number(m[1]) * unit;
    s = s.slice(m[0].length);
  }
  if (!Number.isFinite(total)) throw new SyntaxError(`invalid duration "${text}"`);
  return sign * total;
}
