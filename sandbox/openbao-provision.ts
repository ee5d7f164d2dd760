/**
 * Provisions a real OpenBao for a KES server exactly as the Vault components declare it: the K/V
 * mount, the least-privilege policy and the AppRole role from `components/render/vault.ts`, then
 * reads the role id and issues a secret id. Returns ready-to-use `VaultOptions`.
 */
import type { VaultOptions } from '../kes-server/src/keystore/vault/options.ts';
import {
  appRoleRoleParameters,
  kvMountOptions,
  renderKesVaultPolicy,
  type KesVaultLayout,
} from '../components/render/vault.ts';
import type { OpenBao } from './openbao.ts';

/**
 * What provisioning needs of an OpenBao: its address and an administrative client (the dev
 * server of `openbao.ts` and the raft server of `openbao-raft.ts` both have them).
 */
export type VaultAdmin = Pick<OpenBao, 'address' | 'request' | 'requestOk'> & { readonly caFile?: string };

export interface ProvisionArgs {
  readonly layout: KesVaultLayout;
  /** Namespace to create (if missing) and provision inside; "" for the root namespace. */
  readonly namespace?: string;
  /** Policy and role name. Default `kes`. */
  readonly name?: string;
  readonly tokenPeriodSeconds?: number;
  /** Skip mounting the K/V engine (it already exists). */
  readonly mountExists?: boolean;
}

export interface Provisioned {
  readonly roleId: string;
  readonly secretId: string;
  readonly policy: string;
  /** Options for `VaultKeyStore.connect` with AppRole login. */
  readonly options: VaultOptions;
}

/** Creates a namespace unless it exists. */
export async function ensureNamespace(bao: VaultAdmin, namespace: string): Promise<void> {
  const res = await bao.request('GET', `sys/namespaces/${namespace}`);
  if (res.status === 200) return;
  await bao.requestOk('POST', `sys/namespaces/${namespace}`, {});
}

/** Enables an auth method at `path` unless something is mounted there already. */
export async function ensureAuth(bao: VaultAdmin, path: string, type: string, namespace = ''): Promise<void> {
  const mounts = await bao.requestOk('GET', 'sys/auth', undefined, { namespace });
  if (mounts.body.data?.[`${path}/`]) return;
  await bao.requestOk('POST', `sys/auth/${path}`, { type }, { namespace });
}

export async function provisionKes(bao: VaultAdmin, args: ProvisionArgs): Promise<Provisioned> {
  const namespace = args.namespace ?? '';
  const name = args.name ?? 'kes';
  const ns = { namespace };
  if (namespace) await ensureNamespace(bao, namespace);
  if (!args.mountExists) await bao.requestOk('POST', `sys/mounts/${args.layout.engine}`, kvMountOptions(args.layout), ns);
  const policy = renderKesVaultPolicy(args.layout);
  await bao.requestOk('PUT', `sys/policies/acl/${name}`, { policy }, ns);
  await ensureAuth(bao, 'approle', 'approle', namespace);
  await bao.requestOk(
    'POST',
    `auth/approle/role/${name}`,
    appRoleRoleParameters({
      policies: [name],
      ...(args.tokenPeriodSeconds !== undefined ? { tokenPeriodSeconds: args.tokenPeriodSeconds } : {}),
    }),
    ns,
  );
  const roleId: string = (await bao.requestOk('GET', `auth/approle/role/${name}/role-id`, undefined, ns)).body.data.role_id;
  const secretId: string = (await bao.requestOk('POST', `auth/approle/role/${name}/secret-id`, {}, ns)).body.data.secret_id;
  return {
    roleId,
    secretId,
    policy,
    options: {
      endpoint: bao.address,
      engine: args.layout.engine,
      version: args.layout.version,
      namespace,
      prefix: args.layout.prefix,
      approle: { engine: 'approle', namespace: '', id: roleId, secret: secretId },
      tls: { key: '', cert: '', ca: bao.caFile ?? '' },
      statusPingMs: 15_000,
    },
  };
}
