/**
 * Configuration: YAML text → validated `ServerConfig` (pure, `parseConfig`) → live keystore
 * (`connectKeyStore`). The server itself never sees YAML.
 */
import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { sep } from 'node:path';
import { errorCode } from '../errors.ts';
import { FsKeyStore } from '../keystore/fs.ts';
import type { KeyStore } from '../keystore/keystore.ts';
import { MemKeyStore } from '../keystore/mem.ts';
import { ConfigError } from './errors.ts';
import { readKeystore } from './keystore.ts';
import {
  readAddress,
  readAdmin,
  readApi,
  readCache,
  readKeys,
  readLog,
  readPolicies,
  readTls,
  readVersion,
} from './server.ts';
import type { KeystoreConfig, ServerConfig } from './types.ts';
import { parseYaml } from './yaml-node.ts';
import type { Env } from './yaml-node.ts';

export { ConfigError } from './errors.ts';
export { DEFAULT_ADDRESS } from './server.ts';
export type { KeystoreConfig, ServerConfig } from './types.ts';
export type { Env } from './yaml-node.ts';

/**
 * Parses and validates a config file's text (docs/protocol.md#configuration-file), substituting `${VAR}` from `env`.
 * Pure: reads no files. Throws `ConfigError` (`kesconf: invalid <section>: …`, naming the field
 * and line) on YAML errors, unset variables and every validation failure of docs/protocol.md#configuration-file.
 */
export function parseConfig(text: string, env: Env): ServerConfig {
  const root = parseYaml(text, env);
  readVersion(root);
  const address = readAddress(root);
  const admin = readAdmin(root);
  const tls = readTls(root, admin);
  const policies = readPolicies(root, admin, tls.proxy.identities);
  const cache = readCache(root);
  const api = readApi(root);
  const log = readLog(root);
  const keys = readKeys(root);
  const keystore = readKeystore(root);
  return { address, admin, tls, policies, cache, api, log, keys, keystore };
}

/**
 * Reads and parses the config file at `path`; also checks that a Kubernetes JWT given as a file
 * path is readable (docs/protocol.md#config-keystore). Throws `ConfigError` if the file cannot be read or is invalid.
 */
export async function loadConfig(path: string, env: Env = process.env): Promise<ServerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = errorCode(err) ?? 'error';
    throw new ConfigError('config', `cannot read config file '${path}': ${code}`, undefined, { cause: err });
  }
  const config = parseConfig(text, env);
  const jwt = config.keystore.kind === 'vault' ? config.keystore.options.kubernetes?.jwt : undefined;
  if (jwt !== undefined && (jwt.includes('/') || jwt.includes(sep))) {
    try {
      await access(jwt, constants.R_OK);
    } catch (err) {
      throw new ConfigError('keystore', `'keystore.vault.kubernetes.jwt': the JWT file is not readable`, undefined, { cause: err });
    }
  }
  return config;
}

/**
 * Connects the configured keystore: fs → `FsKeyStore` (directory created if missing), vault →
 * `VaultKeyStore.connect` (logs in), mem → a new `MemKeyStore`. Rejects with the backend's
 * error (a `KeyStoreError`, or the Vault module's login error). `onError` receives the failures
 * of background work (Vault token renewal and re-login); their messages carry no secret.
 */
export async function connectKeyStore(desc: KeystoreConfig, onError?: (err: Error) => void): Promise<KeyStore> {
  switch (desc.kind) {
    case 'fs':
      return FsKeyStore.open(desc.path);
    case 'vault': {
      // Loaded on demand: only Vault deployments need the Vault client.
      const { VaultKeyStore } = await import('../keystore/vault/index.ts');
      return VaultKeyStore.connect(desc.options, onError ? { onError } : {});
    }
    case 'mem':
      return new MemKeyStore();
    default: {
      const unknown: never = desc;
      throw new ConfigError('keystore', `unknown keystore kind ${String((unknown as { kind: unknown }).kind)}`);
    }
  }
}
