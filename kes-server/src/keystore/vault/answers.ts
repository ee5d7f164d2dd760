/**
 * The JSON answers of Vault this keystore reads (docs/protocol.md#vault-keystore), as far as it
 * reads them. Vault's JSON is not validated on arrival: every leaf is `unknown` and is checked
 * where it is used.
 */

/** Any failed answer: `{"errors": ["…"]}`. */
export interface ErrorAnswer {
  readonly errors?: unknown;
}

/** A K/V v1 secret: `data` holds the fields. */
export interface KvV1Secret {
  readonly data?: unknown;
}

/** A K/V v2 secret: `data.data` holds the fields. */
export interface KvV2Secret {
  readonly data?: { readonly data?: unknown };
}

/** A LIST answer: the entries of a folder. */
export interface KvList {
  readonly data?: { readonly keys?: unknown };
}

/** A login or `renew-self` answer. */
export interface AuthAnswer {
  readonly auth?: {
    readonly client_token?: unknown;
    readonly lease_duration?: unknown;
    readonly renewable?: unknown;
  };
}

/** `sys/health`. */
export interface HealthAnswer {
  readonly initialized?: unknown;
  readonly sealed?: unknown;
}

/** Transit `encrypt` / `decrypt`. */
export interface TransitAnswer {
  readonly data?: { readonly ciphertext?: unknown; readonly plaintext?: unknown };
}
