/**
 * The stack program run for `Pulumi.kubernetes.yaml` under mocks whose `newResource` realizes what
 * it is handed: Kubernetes objects on the local cluster (server-side apply, strict validation,
 * awaited like the provider), Vault resources through OpenBao's HTTP API, MinIO buckets through
 * `mc`. The engine registers a resource only once what it depends on is registered, so this is the
 * resource graph's order, and the outputs dependents read (AppRole ids, live objects) are real.
 * Certificates, keys and random values are the mocks' own (real PEM, generated here).
 */
import * as pulumi from '@pulumi/pulumi';
import { readFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { parse } from 'yaml';
import { defaultOutputs, plain } from '../../components/testing/index.ts';
import { computed } from '../components/mocks.ts';
import { PROJECT } from '../../stacks/config.ts';
import { realizeKubernetes } from '../../realize/kubernetes.ts';
import type { KubeApi } from '../../realize/kubernetes.ts';
import { Mc } from '../../sandbox/mc.ts';
import { NODE_IP } from './cluster.ts';

/** One realized resource, in registration order. */
export interface Realized {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  readonly outputs: Record<string, any>;
}

/** The config of `stacks/<file>` as the engine hands it to the program, with `overrides` on top. */
export function stackConfig(file: string, overrides: Record<string, string>): Record<string, string> {
  const doc = parse(readFileSync(new URL(`../../stacks/${file}`, import.meta.url), 'utf8')) as { config: Record<string, unknown> };
  const config = Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  for (const [k, v] of Object.entries(overrides)) config[`${PROJECT}:${k}`] = v;
  return config;
}

/** Cluster DNS from the machine: asks the cluster's DNS server only, never the machine's resolver. */
export async function resolveInCluster(host: string): Promise<string> {
  const r = new Resolver({ timeout: 2000, tries: 2 });
  r.setServers([NODE_IP]);
  const [ip] = await r.resolve4(host);
  return ip;
}

type Providers = Map<string, Record<string, any>>;

async function vaultCall(provider: Record<string, any>, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${provider.address}/v1/${path}`, {
    method,
    headers: { 'x-vault-token': provider.token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`Vault ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : {};
}

/** Vault resources, field by field as `@pulumi/vault` documents them; an unknown input fails. */
async function realizeVault(type: string, inputs: Record<string, any>, provider: Record<string, any>): Promise<Record<string, unknown>> {
  const known = (fields: string[]) => {
    const extra = Object.keys(inputs).filter((k) => !fields.includes(k));
    if (extra.length > 0) throw new Error(`${type}: unknown input field(s) ${extra.join(', ')}`);
  };
  switch (type) {
    case 'vault:index/mount:Mount':
      known(['path', 'type', 'description', 'options']);
      await vaultCall(provider, 'POST', `sys/mounts/${inputs.path}`, { type: inputs.type, description: inputs.description, options: inputs.options });
      return {};
    case 'vault:index/authBackend:AuthBackend':
      known(['path', 'type', 'description']);
      await vaultCall(provider, 'POST', `sys/auth/${inputs.path ?? inputs.type}`, { type: inputs.type, description: inputs.description });
      return {};
    case 'vault:index/policy:Policy':
      known(['name', 'policy']);
      await vaultCall(provider, 'PUT', `sys/policies/acl/${inputs.name}`, { policy: inputs.policy });
      return {};
    case 'vault:appRole/authBackendRole:AuthBackendRole': {
      const fields: Record<string, string> = {
        bindSecretId: 'bind_secret_id', secretIdNumUses: 'secret_id_num_uses', secretIdTtl: 'secret_id_ttl', tokenMaxTtl: 'token_max_ttl',
        tokenNumUses: 'token_num_uses', tokenPeriod: 'token_period', tokenPolicies: 'token_policies', tokenTtl: 'token_ttl', tokenType: 'token_type',
      };
      known(['backend', 'roleName', ...Object.keys(fields)]);
      const body = Object.fromEntries(Object.entries(fields).filter(([k]) => inputs[k] !== undefined).map(([k, f]) => [f, inputs[k]]));
      await vaultCall(provider, 'POST', `auth/${inputs.backend}/role/${inputs.roleName}`, body);
      const id = await vaultCall(provider, 'GET', `auth/${inputs.backend}/role/${inputs.roleName}/role-id`);
      return { roleId: id.data.role_id };
    }
    case 'vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId': {
      known(['backend', 'roleName', 'metadata']);
      const s = await vaultCall(provider, 'POST', `auth/${inputs.backend}/role/${inputs.roleName}/secret-id`, { metadata: inputs.metadata });
      return { secretId: s.data.secret_id, accessor: s.data.secret_id_accessor };
    }
    default:
      throw new Error(`no realization for ${type}`);
  }
}

/** MinIO resources through mc, MinIO's endpoint resolved by the cluster's DNS. */
async function realizeMinio(type: string, inputs: Record<string, any>, provider: Record<string, any>, mc: Mc): Promise<Record<string, unknown>> {
  const [host, port] = String(provider.minioServer).split(':');
  const alias = 'stack';
  await mc.aliasSet(alias, `http://${await resolveInCluster(host)}:${port}`, provider.minioUser, provider.minioPassword);
  switch (type) {
    case 'minio:index/s3Bucket:S3Bucket':
      await mc.ok(['mb', '--ignore-existing', `${alias}/${inputs.bucket}`]);
      return {};
    case 'minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption':
      if (inputs.encryptionType !== 'aws:kms') throw new Error(`${type}: encryptionType ${inputs.encryptionType} is not realized here`);
      await mc.ok(['encrypt', 'set', 'sse-kms', inputs.kmsKeyId, `${alias}/${inputs.bucket}`]);
      return {};
    default:
      throw new Error(`no realization for ${type}`);
  }
}

/**
 * Runs `stacks/index.ts` with `config`, realizing each resource as it is registered. `only`
 * restricts real work to the resources it accepts (the rest keep the mocks' outputs). Resolves
 * once every registration has been realized; rejects with the first failure.
 */
export async function realizeStack(a: {
  label: string;
  config: Record<string, string>;
  secretKeys: string[];
  api: KubeApi;
  mc: Mc;
  only?: (type: string, name: string) => boolean;
}): Promise<{ realized: Realized[]; program: Record<string, any> }> {
  const realized: Realized[] = [];
  const providers: Providers = new Map();
  let pending = 0;
  let failure: unknown;
  const providerOf = (ref: string | undefined) => {
    const name = ref?.split('::')[3];
    const p = name === undefined ? undefined : providers.get(name);
    if (!p) throw new Error(`no provider ${ref}`);
    return p;
  };
  await pulumi.runtime.setMocks(
    {
      async newResource(args: pulumi.runtime.MockResourceArgs) {
        pending++;
        try {
          const inputs = plain(args.inputs) as Record<string, any>;
          let outputs: Record<string, unknown> = { ...defaultOutputs(args.type, args.name, args.inputs), ...computed(args.type, args.name, args.inputs) };
          const real = a.only?.(args.type, args.name) ?? true;
          if (args.type.startsWith('pulumi:providers:')) providers.set(args.name, inputs);
          else if (real && args.type.startsWith('kubernetes:')) outputs = (await realizeKubernetes(a.api, args.type, inputs)) ?? {};
          else if (real && args.type.startsWith('vault:')) outputs = await realizeVault(args.type, inputs, providerOf(args.provider));
          else if (real && args.type.startsWith('minio:')) outputs = await realizeMinio(args.type, inputs, providerOf(args.provider), a.mc);
          const state = { ...args.inputs, ...outputs };
          realized.push({ type: args.type, name: args.name, inputs, outputs: state });
          return { id: args.custom === false ? undefined : `${args.name}-id`, state };
        } catch (e) {
          failure ??= new Error(`realizing ${args.type} ${args.name}: ${(e as Error).message}`);
          throw e;
        } finally {
          pending--;
        }
      },
      call(args: pulumi.runtime.MockCallArgs) {
        throw new Error(`unexpected invoke ${args.token}`);
      },
    },
    PROJECT,
    a.label,
    false,
  );
  pulumi.runtime.setAllConfig(a.config, a.secretKeys);
  const url = new URL('../../stacks/index.ts', import.meta.url);
  url.searchParams.set('run', a.label);
  const program = (await import(url.href)) as Record<string, any>;
  // Registration continues after the import returns; wait until nothing is in flight for a while.
  for (let quiet = 0; quiet < 40; ) {
    if (failure) throw failure;
    await new Promise((r) => setTimeout(r, 50));
    quiet = pending === 0 ? quiet + 1 : 0;
  }
  if (failure) throw failure;
  return { realized, program };
}
