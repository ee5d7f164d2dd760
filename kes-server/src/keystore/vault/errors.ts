import type { VaultResponse } from './client.ts';

/**
 * Short description of a failed Vault answer: the status and Vault's own error strings (which
 * name the problem, e.g. `permission denied`, and never echo tokens or request bodies).
 */
export function vaultErrorText(res: VaultResponse): string {
  const errors: unknown = res.body?.errors;
  const list = Array.isArray(errors)
    ? errors
        .filter((e): e is string => typeof e === 'string')
        .map((e) => e.replace(/\s+/g, ' ').replace(/^\d+ errors? occurred: \* /, '').trim())
        .filter((e) => e !== '')
    : [];
  return `HTTP ${res.status}${list.length > 0 ? `: ${list.join('; ')}` : ''}`;
}
