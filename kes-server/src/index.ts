/**
 * The public surface of kes-server: run a server from a config file or in dev mode, derive
 * identities and API keys, and plug in or implement a keystore. Everything else is internal.
 */

// The server and its settings.
export { KesServer } from './server.ts';
export type { KesServerOptions, ServerSettings } from './server.ts';
export { settingsFromConfig } from './cli/settings.ts';
export { devSettings } from './cli/dev.ts';
export type { DevSetup } from './cli/dev.ts';
export { ErrorLog } from './log/error-log.ts';
export type { ErrorLogOptions } from './log/error-log.ts';
export { AuditLog } from './log/audit-log.ts';
export type { AuditLogOptions, AuditRecord } from './log/audit-log.ts';

// The config file (the minio/kes YAML schema).
export { ConfigError, connectKeyStore, loadConfig, parseConfig } from './config/index.ts';
export type { Env, KeystoreConfig, ServerConfig } from './config/index.ts';

// Identities and API keys.
export { identityOfCertificate, identityOfPublicKey } from './auth/identity.ts';
export { ApiKeyError, generateApiKey, parseApiKey } from './auth/api-key.ts';
export type { ApiKey } from './auth/api-key.ts';

// Keystores: the contract, its listing rule, and the backends.
export { byteOrder, listPage } from './keystore/keystore.ts';
export type { KeyPage, KeyStore, KeyStoreStatus } from './keystore/keystore.ts';
export { KeyStoreError, isKeyStoreError } from './keystore/errors.ts';
export type { KeyStoreErrorCode } from './keystore/errors.ts';
export { MemKeyStore } from './keystore/mem.ts';
export { FsKeyStore } from './keystore/fs.ts';
export { VaultKeyStore } from './keystore/vault/index.ts';
export type { RenewalTiming, VaultConnectOptions, VaultOptions } from './keystore/vault/index.ts';

// The wire errors (status and exact message, as clients match them).
export { ApiError } from './http/errors.ts';
