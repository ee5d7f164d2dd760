/** Live server settings from a validated configuration: TLS files read, key store connected. */
import { KeyCache } from '../cache/key-cache.ts';
import { connectKeyStore, type ServerConfig } from '../config/index.ts';
import { loadTlsMaterial } from '../http/tls-material.ts';
import type { ServerSettings } from '../server.ts';

/**
 * Reads the TLS material and connects the key store behind a new KeyCache; `onKeystoreError`
 * receives the key store's background failures (see `connectKeyStore`).
 * @throws the TLS or key-store error; nothing is left open on failure.
 */
export async function settingsFromConfig(config: ServerConfig, onKeystoreError?: (err: Error) => void): Promise<ServerSettings> {
  const tls = await loadTlsMaterial(config.tls);
  const store = await connectKeyStore(config.keystore, onKeystoreError);
  return {
    admin: config.admin,
    policies: config.policies,
    api: config.api,
    cache: new KeyCache(store, config.cache),
    keys: config.keys,
    tls,
    log: config.log,
    reloadTls: () => loadTlsMaterial(config.tls),
  };
}
