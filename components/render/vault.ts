/**
 * The Vault/OpenBao side of a KES deployment, as plain data: the least-privilege ACL policy of
 * the KES server, the AppRole role parameters and the K/V mount options. No Pulumi import here;
 * the Vault components declare exactly what these functions return, and the integration tests
 * apply the same values to a real OpenBao (test/vault/).
 *
 * Paths follow the KES Vault keystore layout (docs/protocol.md#vault-layout): with K/V v1 a key `N` lives at
 * `<engine>/<prefix>/N`; with K/V v2 at `<engine>/data/<prefix>/N` (read/create) and
 * `<engine>/metadata/<prefix>/N` (delete, list).
 */

/** Where KES keeps its keys. */
export interface KesVaultLayout {
  /** K/V mount path, e.g. `kv` (no leading/trailing slash). */
  readonly engine: string;
  /** K/V engine version. */
  readonly version: 'v1' | 'v2';
  /** Folder inside the engine; "" for the engine root. */
  readonly prefix: string;
  /** Optional transit wrapping (docs/protocol.md#vault-transit): the policy then also allows encrypt/decrypt with `key`. */
  readonly transit?: { readonly engine: string; readonly key: string };
}

/** Default name of the KES policy. */
export const kesVaultPolicyName = 'kes';

/** Default name of the KES AppRole role. */
export const kesAppRoleName = 'kes';

/** Default token period of the KES AppRole: KES renews at 80 % of it (docs/protocol.md#vault-token-renewal). */
export const defaultTokenPeriodSeconds = 300;

const segmentPattern = /^[A-Za-z0-9._-]+$/;

/** Splits a mount or folder path into segments, rejecting anything that is not a plain path. */
function segments(what: string, path: string, allowEmpty: boolean): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0 && !allowEmpty) {
    throw new Error(`vault layout: invalid [${what}]: must not be empty`);
  }
  for (const p of parts) {
    if (!segmentPattern.test(p) || p === '.' || p === '..') {
      throw new Error(`vault layout: invalid [${what}]: '${path}' has a segment other than letters, digits, '.', '_' or '-'`);
    }
  }
  return parts;
}

/** Path of the folder holding the keys for the given sub-tree (`data`/`metadata` on v2, none on v1). */
function folder(engine: string[], sub: string | undefined, prefix: string[]): string {
  return [...engine, ...(sub ? [sub] : []), ...prefix].join('/');
}

function block(path: string, capabilities: readonly string[]): string {
  return `path "${path}" {\n  capabilities = [${capabilities.map((c) => `"${c}"`).join(', ')}]\n}\n`;
}

/**
 * Renders the least-privilege HCL policy for KES.
 *
 * - v1: `create`, `read`, `delete` on `<engine>/<prefix>/*`; `list` on the folder itself.
 *   No `update`: KES never overwrites a key, so Vault refuses to replace an existing one.
 * - v2: `create`, `read` on `<engine>/data/<prefix>/*`; `delete` on `<engine>/metadata/<prefix>/*`
 *   (delete removes all versions and the metadata); `list` on `<engine>/metadata/<prefix>/`.
 * - transit (optional): `update` on `<transit>/encrypt/<key>` and `<transit>/decrypt/<key>`.
 *
 * Token renewal and lookup of its own token come from OpenBao's `default` policy, which the
 * AppRole token keeps. Throws an Error naming the field when a path is malformed.
 */
export function renderKesVaultPolicy(layout: KesVaultLayout): string {
  const engine = segments('engine', layout.engine, false);
  const prefix = segments('prefix', layout.prefix, true);
  const blocks: string[] = [];
  switch (layout.version) {
    case 'v1': {
      const dir = folder(engine, undefined, prefix);
      blocks.push(block(`${dir}/*`, ['create', 'read', 'delete']));
      blocks.push(block(`${dir}/`, ['list']));
      break;
    }
    case 'v2': {
      const data = folder(engine, 'data', prefix);
      const meta = folder(engine, 'metadata', prefix);
      blocks.push(block(`${data}/*`, ['create', 'read']));
      blocks.push(block(`${meta}/*`, ['delete']));
      blocks.push(block(`${meta}/`, ['list']));
      break;
    }
    default: {
      const never: never = layout.version;
      throw new Error(`vault layout: invalid [version]: '${String(never)}' (expected v1 or v2)`);
    }
  }
  if (layout.transit) {
    const transit = segments('transit.engine', layout.transit.engine, false).join('/');
    const key = segments('transit.key', layout.transit.key, false);
    if (key.length !== 1) throw new Error(`vault layout: invalid [transit.key]: must be a single name`);
    blocks.push(block(`${transit}/encrypt/${key[0]}`, ['update']));
    blocks.push(block(`${transit}/decrypt/${key[0]}`, ['update']));
  }
  return blocks.join('\n');
}

/** Vault API body of `POST auth/<approle>/role/<name>` (snake_case, as Vault takes it). */
export interface AppRoleRoleParameters {
  readonly token_policies: string[];
  readonly token_period: number;
  readonly token_ttl: number;
  readonly token_max_ttl: number;
  readonly token_num_uses: number;
  readonly token_type: 'service';
  readonly bind_secret_id: true;
  readonly secret_id_num_uses: number;
  readonly secret_id_ttl: number;
}

/**
 * The AppRole role for KES: a periodic, renewable service token (KES renews it at 80 % of the
 * period and logs in again with the same secret id when renewal fails, docs/protocol.md#vault-token-renewal), so the token
 * has no use limit and no max TTL, and the secret id has neither a use limit nor an expiry.
 */
export function appRoleRoleParameters(args: {
  readonly policies: readonly string[];
  readonly tokenPeriodSeconds?: number;
}): AppRoleRoleParameters {
  const period = args.tokenPeriodSeconds ?? defaultTokenPeriodSeconds;
  if (!Number.isInteger(period) || period <= 0) {
    throw new Error(`vault approle: invalid [tokenPeriodSeconds]: ${period} (expected a positive integer)`);
  }
  if (args.policies.length === 0) {
    throw new Error('vault approle: invalid [policies]: at least one policy is required');
  }
  return {
    token_policies: [...args.policies],
    token_period: period,
    token_ttl: 0,
    token_max_ttl: 0,
    token_num_uses: 0,
    token_type: 'service',
    bind_secret_id: true,
    secret_id_num_uses: 0,
    secret_id_ttl: 0,
  };
}

/** Vault API body of `POST sys/mounts/<engine>` for the K/V engine of a layout. */
export function kvMountOptions(layout: Pick<KesVaultLayout, 'version'>): {
  type: 'kv';
  options: { version: '1' | '2' };
} {
  switch (layout.version) {
    case 'v1':
      return { type: 'kv', options: { version: '1' } };
    case 'v2':
      return { type: 'kv', options: { version: '2' } };
    default: {
      const never: never = layout.version;
      throw new Error(`vault layout: invalid [version]: '${String(never)}' (expected v1 or v2)`);
    }
  }
}
