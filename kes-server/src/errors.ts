/** The base of the server's own errors, and the message of anything thrown. */

/**
 * Every error class of this server extends KesError: its `name` is the class's own name (so logs
 * and failed assertions say which kind it is) and a `cause` is kept as the platform keeps it.
 */
export class KesError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The message of a thrown value, which need not be an Error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The `code` of a thrown value (`ENOENT`, `ERR_PARSE_ARGS_UNKNOWN_OPTION`, …), if it has one. */
export function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
