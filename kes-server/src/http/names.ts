/** Name and list-pattern grammar of docs/protocol.md#names-and-patterns. */

const NAME = /^[0-9A-Za-z_-]{1,80}$/;

/** Valid key, policy and identity names: 1-80 of `[0-9A-Za-z_-]`, no leading/trailing `-`, not `_`. */
export function isValidName(name: string): boolean {
  return NAME.test(name) && name !== '_' && !name.startsWith('-') && !name.endsWith('-');
}

/**
 * Valid list patterns: like names, but may be empty, and may end in one `*` (`*` alone is valid).
 */
export function isValidPattern(pattern: string): boolean {
  if (pattern.length > 80) return false;
  const body = pattern.endsWith('*') ? pattern.slice(0, -1) : pattern;
  if (body === '') return true;
  if (pattern === '_') return false;
  return /^[0-9A-Za-z_-]+$/.test(body) && !body.startsWith('-') && !pattern.endsWith('-');
}

/** The name prefix a valid pattern selects: one trailing `*` stripped. */
export function patternPrefix(pattern: string): string {
  return pattern.endsWith('*') ? pattern.slice(0, -1) : pattern;
}
