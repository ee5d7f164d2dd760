/**
 * The Vault/OpenBao keystore (docs/protocol.md#vault-keystore): `await VaultKeyStore.connect(options)`.
 *
 * - `store.ts`: key operations on K/V v1/v2 (docs/protocol.md#vault-layout), status, sealed fast-fail;
 * - `client.ts`: transport (timeouts, body caps, retries, TLS);
 * - `auth.ts`: AppRole/Kubernetes login (docs/protocol.md#vault-login) and token renewal (docs/protocol.md#vault-token-renewal);
 * - `health.ts`: health probe and seal monitor (docs/protocol.md#vault-health); `transit.ts`: transit wrapping (docs/protocol.md#vault-transit).
 */
export { VaultKeyStore, type VaultConnectOptions } from './store.ts';
export type { VaultOptions } from './options.ts';
export type { RenewalTiming } from './auth.ts';
