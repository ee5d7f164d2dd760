/**
 * VaultKesBackend: everything KES needs in Vault/OpenBao — an optional namespace and K/V mount, an
 * AppRole auth backend (new or existing), the least-privilege policy, the role and one secret id.
 */
import * as pulumi from '@pulumi/pulumi';
import * as vault from '@pulumi/vault';
import { appRoleRoleParameters, kesAppRoleName, kesVaultPolicyName, kvMountOptions, renderKesVaultPolicy } from './render/vault.ts';
import { rethrowAsResourceError } from './errors.ts';
import { requireOneOf, requirePresent, requireVaultName, requireVaultPath } from './render/validate.ts';

/** Arguments of `VaultKesBackend`. */
export interface VaultKesBackendArgs {
  /** K/V mount path; default `kv`. */
  readonly engine?: string;
  /** K/V version; default `v1` (recommended by KES). */
  readonly version?: 'v1' | 'v2';
  /** Folder inside the engine where keys live; default `""`. */
  readonly prefix?: string;
  /** Mount the K/V engine (false: it exists already); default true. */
  readonly createMount?: boolean;
  /**
   * Keep the K/V mount, and with it every key, when the stack is destroyed (Pulumi forgets it
   * instead of unmounting); default true. Only with `createMount`.
   */
  readonly retainMount?: boolean;
  /** AppRole auth mount path; default `approle`. */
  readonly approlePath?: string;
  /** Enable the AppRole backend (false: reuse an existing one at `approlePath`); default true. */
  readonly createAuthBackend?: boolean;
  /** Namespace (Vault Enterprise, OpenBao ≥ 2.3) for every resource; default none. */
  readonly namespace?: string;
  /** Create `namespace` (false: it exists); default false. */
  readonly createNamespace?: boolean;
  /** Role and policy names; default `kes`. */
  readonly roleName?: string;
  readonly policyName?: string;
  /** Token period of the role in seconds; default 300. */
  readonly tokenPeriodSeconds?: number;
}

/** Every check of `VaultKesBackendArgs`; throws `RenderError` naming the argument. */
export function validateVaultKesBackendArgs(a: VaultKesBackendArgs): void {
  if (a.createNamespace) requirePresent('namespace', a.namespace, 'createNamespace needs a namespace');
  if (a.version !== undefined) requireOneOf('version', a.version, ['v1', 'v2']);
  requireVaultPath('engine', a.engine ?? 'kv');
  requireVaultPath('approlePath', a.approlePath ?? 'approle');
  const policyName = a.policyName ?? kesVaultPolicyName;
  requireVaultName('roleName', a.roleName ?? kesAppRoleName);
  requireVaultName('policyName', policyName);
  renderKesVaultPolicy({ engine: a.engine ?? 'kv', version: a.version ?? 'v1', prefix: a.prefix ?? '' });
  appRoleRoleParameters({ policies: [policyName], tokenPeriodSeconds: a.tokenPeriodSeconds });
}

/** Vault side of KES. `roleId` is public, `secretId` is a secret. */
export class VaultKesBackend extends pulumi.ComponentResource {
  /** AppRole role id KES logs in with. */
  public readonly roleId: pulumi.Output<string>;
  /** AppRole secret id (secret). */
  public readonly secretId: pulumi.Output<string>;
  /** Name of the least-privilege policy. */
  public readonly policyName: pulumi.Output<string>;
  /** K/V mount path. */
  public readonly engine: string;
  /** K/V version. */
  public readonly version: 'v1' | 'v2';
  /** Folder inside the engine where keys live. */
  public readonly prefix: string;
  /** AppRole auth mount path. */
  public readonly approlePath: string;
  /** Namespace of every resource, if any. */
  public readonly namespace: pulumi.Output<string | undefined>;

  constructor(name: string, args: VaultKesBackendArgs, opts?: pulumi.ComponentResourceOptions) {
    super('minio-sse-kes:index:VaultKesBackend', name, {}, opts);
    this.engine = args.engine ?? 'kv';
    this.version = args.version ?? 'v1';
    this.prefix = args.prefix ?? '';
    this.approlePath = args.approlePath ?? 'approle';
    const roleName = args.roleName ?? kesAppRoleName;
    const policyName = args.policyName ?? kesVaultPolicyName;
    let policyText = '';
    let role: ReturnType<typeof appRoleRoleParameters>;
    let mount: ReturnType<typeof kvMountOptions>;
    try {
      validateVaultKesBackendArgs(args);
      policyText = renderKesVaultPolicy({ engine: this.engine, version: this.version, prefix: this.prefix });
      role = appRoleRoleParameters({ policies: [policyName], tokenPeriodSeconds: args.tokenPeriodSeconds });
      mount = kvMountOptions({ version: this.version });
    } catch (e) {
      rethrowAsResourceError('VaultKesBackend', e, this);
    }
    const parent = { parent: this };

    let namespace: pulumi.Output<string | undefined> = pulumi.output(args.namespace);
    if (args.createNamespace) {
      const ns = new vault.Namespace(`${name}-namespace`, { path: args.namespace as string }, parent);
      namespace = ns.path.apply((p) => p as string | undefined);
    }
    const nsArg = { namespace: namespace as pulumi.Input<string> | undefined };
    const deps: pulumi.Resource[] = [];
    if (args.createMount ?? true) {
      deps.push(
        new vault.Mount(
          `${name}-kv`,
          { path: this.engine, type: mount.type, options: mount.options, description: 'KES keys', ...nsArg },
          { parent: this, retainOnDelete: args.retainMount ?? true },
        ),
      );
    }
    const authDeps: pulumi.Resource[] = [];
    if (args.createAuthBackend ?? true) {
      authDeps.push(new vault.AuthBackend(`${name}-approle`, { type: 'approle', path: this.approlePath, ...nsArg }, parent));
    }
    const policy = new vault.Policy(`${name}-policy`, { name: policyName, policy: policyText, ...nsArg }, parent);
    const appRole = new vault.approle.AuthBackendRole(
      `${name}-role`,
      {
        backend: this.approlePath,
        roleName,
        tokenPolicies: role.token_policies,
        tokenPeriod: role.token_period,
        tokenTtl: role.token_ttl,
        tokenMaxTtl: role.token_max_ttl,
        tokenNumUses: role.token_num_uses,
        tokenType: role.token_type,
        bindSecretId: role.bind_secret_id,
        secretIdNumUses: role.secret_id_num_uses,
        secretIdTtl: role.secret_id_ttl,
        ...nsArg,
      },
      { parent: this, dependsOn: [...authDeps, policy, ...deps] },
    );
    const secretId = new vault.approle.AuthBackendRoleSecretId(
      `${name}-secret-id`,
      { backend: this.approlePath, roleName: appRole.roleName, metadata: JSON.stringify({ purpose: 'kes' }), ...nsArg },
      parent,
    );
    this.roleId = appRole.roleId;
    // The provider marks secretId secret; wrap it anyway so it stays secret wherever it flows.
    this.secretId = pulumi.secret(secretId.secretId);
    this.policyName = policy.name;
    this.namespace = namespace;
    this.registerOutputs({ roleId: this.roleId, secretId: this.secretId, policyName: this.policyName, namespace: this.namespace });
  }
}
