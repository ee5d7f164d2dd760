/**
 * `@pulumi/vault` resources through the Vault/OpenBao HTTP API, field by field as the provider
 * documents them. The provider resource holds the address and token the others use.
 */
import type { Pending, ProviderModule, Realized, TypeRealizer } from './types.ts';
import { registerVaultExchange } from '../sandbox/log-sweep.ts';

async function vaultCall(what: string, p: Record<string, any> | undefined, method: string, path: string, namespace: string | undefined, body?: unknown): Promise<any> {
  if (!p?.address || !p.token) throw new Error(`realize: ${what}: no vault provider with an address and token`);
  const headers: Record<string, string> = { 'X-Vault-Token': p.token };
  if (namespace ?? p.namespace) headers['X-Vault-Namespace'] = namespace ?? p.namespace;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${String(p.address).replace(/\/+$/, '')}/v1/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok && !(method === 'DELETE' && res.status === 404)) {
    // Vault's errors name the path and the reason, never a submitted value.
    throw new Error(`realize: ${what}: ${method} /v1/${path} answered ${res.status}: ${text.trim().slice(0, 300)}`);
  }
  const answer = text ? JSON.parse(text) : undefined;
  registerVaultExchange(p.token, answer);
  return answer;
}

const provider: TypeRealizer = {
  fields: { address: true, token: true, namespace: true, skipChildToken: true, skipGetVaultVersion: true, maxLeaseTtlSeconds: true, maxRetries: true, version: true },
  async create(r) {
    // The token must be valid; the provider also checks it at start-up.
    await vaultCall(`vault provider ${r.name}`, r.inputs, 'GET', 'auth/token/lookup-self', undefined);
    return { id: r.name };
  },
  async delete() {},
};

const ns = (r: Pending) => r.inputs.namespace as string | undefined;

const mount: TypeRealizer = {
  fields: { path: true, type: true, options: true, description: true, namespace: true },
  async create(r) {
    const i = r.inputs;
    await vaultCall(`mount ${r.name}`, r.provider, 'POST', `sys/mounts/${i.path}`, ns(r), { type: i.type, description: i.description ?? '', options: i.options ?? {} });
    return { id: i.path, path: i.path };
  },
  async delete(r) {
    await vaultCall(`mount ${r.name}`, r.provider, 'DELETE', `sys/mounts/${r.inputs.path}`, ns(r));
  },
};

const authBackend: TypeRealizer = {
  fields: { type: true, path: true, description: true, namespace: true },
  async create(r) {
    const i = r.inputs;
    const path = i.path ?? i.type;
    await vaultCall(`auth backend ${r.name}`, r.provider, 'POST', `sys/auth/${path}`, ns(r), { type: i.type, description: i.description ?? '' });
    return { id: path, path };
  },
  async delete(r) {
    await vaultCall(`auth backend ${r.name}`, r.provider, 'DELETE', `sys/auth/${r.outputs.path}`, ns(r));
  },
};

const policy: TypeRealizer = {
  fields: { name: true, policy: true, namespace: true },
  async create(r) {
    await vaultCall(`policy ${r.name}`, r.provider, 'PUT', `sys/policies/acl/${r.inputs.name}`, ns(r), { policy: r.inputs.policy });
    return { id: r.inputs.name, name: r.inputs.name };
  },
  async delete(r) {
    await vaultCall(`policy ${r.name}`, r.provider, 'DELETE', `sys/policies/acl/${r.inputs.name}`, ns(r));
  },
};

/** Role fields in the provider's camelCase and the API's snake_case. */
const ROLE_PARAMS: Record<string, string> = {
  tokenPolicies: 'token_policies',
  tokenPeriod: 'token_period',
  tokenTtl: 'token_ttl',
  tokenMaxTtl: 'token_max_ttl',
  tokenNumUses: 'token_num_uses',
  tokenType: 'token_type',
  tokenBoundCidrs: 'token_bound_cidrs',
  bindSecretId: 'bind_secret_id',
  secretIdNumUses: 'secret_id_num_uses',
  secretIdTtl: 'secret_id_ttl',
  secretIdBoundCidrs: 'secret_id_bound_cidrs',
};

const role: TypeRealizer = {
  fields: { backend: true, roleName: true, namespace: true, ...Object.fromEntries(Object.keys(ROLE_PARAMS).map((k) => [k, true])) },
  async create(r) {
    const i = r.inputs;
    const body = Object.fromEntries(Object.entries(ROLE_PARAMS).filter(([k]) => i[k] !== undefined).map(([k, api]) => [api, i[k]]));
    const path = `auth/${i.backend ?? 'approle'}/role/${i.roleName}`;
    await vaultCall(`approle role ${r.name}`, r.provider, 'POST', path, ns(r), body);
    const got = await vaultCall(`approle role ${r.name}`, r.provider, 'GET', `${path}/role-id`, ns(r));
    return { id: path, roleId: got.data.role_id };
  },
  async delete(r) {
    await vaultCall(`approle role ${r.name}`, r.provider, 'DELETE', r.outputs.id, ns(r));
  },
};

const secretId: TypeRealizer = {
  fields: { backend: true, roleName: true, metadata: true, namespace: true },
  async create(r) {
    const i = r.inputs;
    const base = `auth/${i.backend ?? 'approle'}/role/${i.roleName}`;
    // `metadata` is a JSON object encoded as a string, as the API takes it.
    const got = await vaultCall(`approle secret id ${r.name}`, r.provider, 'POST', `${base}/secret-id`, ns(r), i.metadata === undefined ? {} : { metadata: i.metadata });
    return { id: got.data.secret_id_accessor, secretId: got.data.secret_id, accessor: got.data.secret_id_accessor };
  },
  async delete(r: Realized) {
    const base = `auth/${r.inputs.backend ?? 'approle'}/role/${r.inputs.roleName}`;
    await vaultCall(`approle secret id ${r.name}`, r.provider, 'POST', `${base}/secret-id-accessor/destroy`, ns(r), { secret_id_accessor: r.outputs.accessor }).catch((e: Error) => {
      // The role (and with it every secret id) may be gone already.
      if (!/answered 40[04]/.test(e.message)) throw e;
    });
  },
};

const namespace: TypeRealizer = {
  fields: { path: true, namespace: true },
  async create(r) {
    await vaultCall(`namespace ${r.name}`, r.provider, 'POST', `sys/namespaces/${r.inputs.path}`, ns(r), {});
    return { id: r.inputs.path, path: r.inputs.path };
  },
  async delete(r) {
    await vaultCall(`namespace ${r.name}`, r.provider, 'DELETE', `sys/namespaces/${r.inputs.path}`, ns(r));
  },
};

export const vault: ProviderModule = {
  'pulumi:providers:vault': provider,
  'vault:index/mount:Mount': mount,
  'vault:index/authBackend:AuthBackend': authBackend,
  'vault:index/policy:Policy': policy,
  'vault:appRole/authBackendRole:AuthBackendRole': role,
  'vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId': secretId,
  'vault:index/namespace:Namespace': namespace,
};
