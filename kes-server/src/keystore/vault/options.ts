/**
 * Validated options of `keystore.vault` (docs/protocol.md#config-keystore, #vault-keystore), produced by config/ from the YAML and
 * consumed by `VaultKeyStore.connect`. Defaults are already applied; paths are as written.
 */
export interface VaultOptions {
  readonly endpoint: string;
  /** K/V mount path. Default `kv`. */
  readonly engine: string;
  /** K/V engine version. Default `v1`. */
  readonly version: 'v1' | 'v2';
  /** Namespace sent as `X-Vault-Namespace` on K/V and transit calls; "" for none. */
  readonly namespace: string;
  /** Folder inside the engine where keys live; "" for none. */
  readonly prefix: string;
  readonly approle?: {
    readonly engine: string; // default `approle`
    /** Login namespace: "" inherits `namespace`, "/" is the root namespace (no header). */
    readonly namespace: string;
    readonly id: string;
    readonly secret: string;
  };
  readonly kubernetes?: {
    readonly engine: string; // default `kubernetes`
    readonly namespace: string;
    readonly role: string;
    /** The JWT itself, or (when it contains a path separator) a file re-read at each login. */
    readonly jwt: string;
  };
  readonly transit?: {
    readonly engine: string; // default `transit`
    readonly key: string;
  };
  readonly tls: {
    readonly key: string; // client key file for mTLS to Vault; "" for none
    readonly cert: string; // client cert file; "" for none
    readonly ca: string; // CA file or directory; "" = system roots
  };
  /** Health probe / seal monitor interval in ms. Default 15000. */
  readonly statusPingMs: number;
}
