import { KesError } from '../errors.ts';

/** Stable codes callers branch on; never branch on message text. */
export type KeyStoreErrorCode =
  | 'KEY_EXISTS'
  | 'KEY_NOT_FOUND'
  | 'UNREACHABLE'
  | 'UNAVAILABLE'
  | 'INVALID_NAME'
  | 'FAILED';

/**
 * The one error type keystores throw. Messages start with the backend (`fs:`, `vault:`) and
 * say what was attempted on what; they never contain key material, tokens or secret ids.
 */
export class KeyStoreError extends KesError {
  readonly code: KeyStoreErrorCode;

  constructor(code: KeyStoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

export function isKeyStoreError(err: unknown, code?: KeyStoreErrorCode): err is KeyStoreError {
  return err instanceof KeyStoreError && (code === undefined || err.code === code);
}

/** True when the store could not be reached at all (network, sealed, timeout). */
export function isUnreachable(err: unknown): boolean {
  return isKeyStoreError(err, 'UNREACHABLE');
}
