/** The one error type of the configuration layer. */
import { KesError } from '../errors.ts';

/**
 * An invalid configuration. The message has the form `kesconf: invalid <section>: <what>` and
 * names the field (as a dotted path) and, when known, its line. It never contains the value of
 * a field that may hold a secret.
 */
export class ConfigError extends KesError {
  readonly code = 'INVALID_CONFIG';
  readonly section: string;
  readonly line: number | undefined;

  constructor(section: string, what: string, line?: number, options?: ErrorOptions) {
    super(`kesconf: invalid ${section}: ${what}${line === undefined ? '' : ` (line ${line})`}`, options);
    this.section = section;
    this.line = line;
  }
}
