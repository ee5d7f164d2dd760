/**
 * The Vault/OpenBao keystore (spec §7): `await VaultKeyStore.connect(options)`.
 *
 * - `store.ts`: key operations on K/V v1/v2 (§7.3), status, sealed fast-fail;
 * - `client.ts`: transport (timeouts, body caps, retries, TLS);
 * - `auth.ts`: AppRole/Kubernetes login (§7.1) and token renewal (§7.2);
 * - `health.ts`: health probe and seal monitor (§7.4); `transit.ts`: transit wrapping (§7.7).
 */
export { VaultKeyStore, type VaultConnectOptions } from './store.ts';
export type { VaultOptions } from './options.ts';
export { type Clock, type RenewalTiming, defaultRenewalTiming, planRenewal, loginNamespace } from './auth.ts';
export { joinPath } from './path.ts';
