/** The validated, typed configuration (docs/protocol.md#configuration-file) that the server is built from. */
import type { VaultOptions } from '../keystore/vault/options.ts';

export interface PolicyConfig {
  readonly allow: string[];
  readonly deny: string[];
  readonly identities: string[];
}

export interface ApiRouteConfig {
  readonly skipAuth: boolean;
  /** Route timeout override in ms; 0 keeps the route's default. */
  readonly timeoutMs: number;
}

export type KeystoreConfig =
  | { readonly kind: 'fs'; readonly path: string }
  | { readonly kind: 'vault'; readonly options: VaultOptions }
  /** Only produced by dev mode; never by a config file. */
  | { readonly kind: 'mem' };

export interface TlsConfig {
  readonly key: string;
  readonly cert: string;
  readonly password: string;
  /** `tls.auth: on`: client certificates must be verified (docs/protocol.md#client-certificates). */
  readonly auth: boolean;
  readonly ca: string;
  readonly proxy: { readonly identities: string[]; readonly header: string };
}

export interface ServerConfig {
  /** Listen address `ip:port`. */
  readonly address: string;
  /** Admin identity (may be a placeholder that disables admin access). */
  readonly admin: string;
  readonly tls: TlsConfig;
  readonly policies: Map<string, PolicyConfig>;
  /** Cache expiry in ms with defaults applied (docs/protocol.md#config-cache); 0 disables a timer. */
  readonly cache: { readonly anyMs: number; readonly unusedMs: number; readonly offlineMs: number };
  /** Route overrides keyed by route path as `/v1/api` reports it (e.g. `/v1/key/create/`). */
  readonly api: Map<string, ApiRouteConfig>;
  /** slog levels: DEBUG -4, INFO 0, WARN 4, ERROR 8, off 9. */
  readonly log: { readonly error: number; readonly audit: number };
  /** Keys created at start-up (docs/protocol.md#config-keys). */
  readonly keys: string[];
  readonly keystore: KeystoreConfig;
}
