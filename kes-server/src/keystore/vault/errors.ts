import { errorMessage } from '../../errors.ts';
import { KeyStoreError, isKeyStoreError, type KeyStoreErrorCode } from '../errors.ts';
import type { VaultResponse } from './client.ts';

/**
 * A failure of the Vault keystore. The message is `vault: <reason>`; `reason` is kept apart so
 * that a caller can say what it was doing in front of it (`rewrap`) without editing the text.
 */
export class VaultError extends KeyStoreError {
  readonly reason: string;

  constructor(code: KeyStoreErrorCode, reason: string, options?: ErrorOptions) {
    super(code, `vault: ${reason}`, options);
    this.reason = reason;
  }
}

/**
 * `err` as a VaultError whose reason is `<context>: <err's reason>`: its code is kept (FAILED for
 * anything that is no KeyStoreError) and `err` becomes the cause.
 */
export function rewrap(context: string, err: unknown): VaultError {
  const code = isKeyStoreError(err) ? err.code : 'FAILED';
  const reason = err instanceof VaultError ? err.reason : errorMessage(err);
  return new VaultError(code, `${context}: ${reason}`, { cause: err });
}

/** The code of a failed Vault answer: UNREACHABLE for a gateway failure, else FAILED. */
export function answerCode(res: VaultResponse): KeyStoreErrorCode {
  return res.status >= 502 && res.status <= 504 ? 'UNREACHABLE' : 'FAILED';
}

/**
 * Short description of a failed Vault answer: the status and Vault's own error strings (which
 * name the problem, e.g. `permission denied`, and never echo tokens or request bodies).
 */
export function vaultErrorText(res: VaultResponse): string {
  const errors = res.body?.errors;
  const list = Array.isArray(errors)
    ? errors
        .filter((e): e is string => typeof e === 'string')
        .map((e) => e.replace(/\s+/g, ' ').replace(/^\d+ errors? occurred: \* /, '').trim())
        .filter((e) => e !== '')
    : [];
  return `HTTP ${res.status}${list.length > 0 ? `: ${list.join('; ')}` : ''}`;
}
