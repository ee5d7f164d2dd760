/**
 * Realizers for the Linux stack's resources: `@pulumi/command` over SSH (realize/command.ts), the
 * Vault resources through OpenBao's HTTP API, buckets and their SSE-KMS default through `mc`.
 * Each refuses input fields it does not know. Field meanings follow the providers' docs:
 * - `vault:index/mount:Mount`: `path`, `type`, `options`, `description` → `POST sys/mounts/<path>`.
 * - `vault:index/authBackend:AuthBackend`: `type`, `path` → `POST sys/auth/<path>`.
 * - `vault:index/policy:Policy`: `name`, `policy` → `PUT sys/policies/acl/<name>`.
 * - `vault:appRole/authBackendRole:AuthBackendRole`: `backend`, `roleName`, `token*`, `bindSecretId`,
 *   `secretId*` → `POST auth/<backend>/role/<roleName>` (snake_case fields); output `roleId`.
 * - `vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId`: `backend`, `roleName`,
 *   `metadata` (JSON text) → `POST …/secret-id`; outputs `secretId`, `accessor`.
 * - `minio:index/s3Bucket:S3Bucket`: `bucket`, `forceDestroy` → `mc mb`.
 * - `minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption`: `bucket`,
 *   `encryptionType` (`aws:kms`), `kmsKeyId` → `mc encrypt set sse-kms`.
 * A changed input of a Vault or MinIO resource is refused (these runs never change them).
 */
import { isDeepStrictEqual } from 'node:util';
import { Mc, describeError } from '../../sandbox/mc.ts';
import { realizeCopyToRemote, realizeRemoteCommand } from '../../realize/command.ts';
import type { Realization, Realizer } from './stack-run.ts';

function only(r: Realization, fields: readonly string[]): void {
  for (const [k, v] of Object.entries(r.inputs)) {
    if (v !== undefined && !fields.includes(k)) throw new Error(`${r.type} ${r.name}: field [${k}] is not supported by this realization`);
  }
}

/** Unchanged: keep; changed: refuse; new: realize. */
async function once(r: Realization, fields: readonly string[], create: () => Promise<Record<string, unknown>>) {
  only(r, fields);
  if (r.prior) {
    if (isDeepStrictEqual(r.prior.inputs, r.inputs)) return { outputs: r.prior.outputs, operation: 'none' as const };
    throw new Error(`${r.type} ${r.name}: changing its inputs is not supported by this realization`);
  }
  return { outputs: { ...r.inputs, ...(await create()) }, operation: 'create' as const };
}

async function vault(r: Realization, method: string, path: string, body?: unknown): Promise<any> {
  const p = r.provider;
  if (!p || typeof p.address !== 'string' || typeof p.token !== 'string') throw new Error(`${r.type} ${r.name}: no Vault provider with address and token`);
  const res = await fetch(`${p.address}/v1/${path}`, { method, headers: { 'X-Vault-Token': p.token, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${r.type} ${r.name}: ${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

const ROLE_FIELDS: Record<string, string> = {
  tokenPolicies: 'token_policies',
  tokenPeriod: 'token_period',
  tokenTtl: 'token_ttl',
  tokenMaxTtl: 'token_max_ttl',
  tokenNumUses: 'token_num_uses',
  tokenType: 'token_type',
  bindSecretId: 'bind_secret_id',
  secretIdNumUses: 'secret_id_num_uses',
  secretIdTtl: 'secret_id_ttl',
};

/** `resolve` maps an address the program uses (e.g. `minio1:9000`) to one reachable from here. */
export function linuxStackRealizers(mcConfigDir: string, resolve: (hostPort: string) => string): Record<string, Realizer> {
  const mc = new Mc(mcConfigDir);
  const alias = async (r: Realization): Promise<string> => {
    const p = r.provider;
    if (!p || typeof p.minioServer !== 'string') throw new Error(`${r.type} ${r.name}: no MinIO provider`);
    if (p.minioSsl === true) throw new Error(`${r.type} ${r.name}: minioSsl is not supported by this realization`);
    await mc.aliasSet('stack', `http://${resolve(p.minioServer)}`, String(p.minioUser), String(p.minioPassword));
    return 'stack';
  };
  return {
    'command:remote:Command': (r) => realizeRemoteCommand(r.name, r.inputs, r.prior),
    'command:remote:CopyToRemote': (r) => realizeCopyToRemote(r.name, r.inputs, r.prior),
    'vault:index/mount:Mount': (r) =>
      once(r, ['path', 'type', 'options', 'description'], async () => {
        await vault(r, 'POST', `sys/mounts/${r.inputs.path}`, { type: r.inputs.type, options: r.inputs.options, description: r.inputs.description });
        return {};
      }),
    'vault:index/authBackend:AuthBackend': (r) =>
      once(r, ['type', 'path'], async () => {
        await vault(r, 'POST', `sys/auth/${r.inputs.path}`, { type: r.inputs.type });
        return {};
      }),
    'vault:index/policy:Policy': (r) =>
      once(r, ['name', 'policy'], async () => {
        await vault(r, 'PUT', `sys/policies/acl/${r.inputs.name}`, { policy: r.inputs.policy });
        return {};
      }),
    'vault:appRole/authBackendRole:AuthBackendRole': (r) =>
      once(r, ['backend', 'roleName', ...Object.keys(ROLE_FIELDS)], async () => {
        const body = Object.fromEntries(Object.entries(ROLE_FIELDS).filter(([k]) => r.inputs[k] !== undefined).map(([k, v]) => [v, r.inputs[k]]));
        const base = `auth/${r.inputs.backend}/role/${r.inputs.roleName}`;
        await vault(r, 'POST', base, body);
        return { roleId: (await vault(r, 'GET', `${base}/role-id`)).data.role_id };
      }),
    'vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId': (r) =>
      once(r, ['backend', 'roleName', 'metadata'], async () => {
        const res = await vault(r, 'POST', `auth/${r.inputs.backend}/role/${r.inputs.roleName}/secret-id`, { metadata: r.inputs.metadata });
        return { secretId: res.data.secret_id, accessor: res.data.secret_id_accessor };
      }),
    'minio:index/s3Bucket:S3Bucket': (r) =>
      once(r, ['bucket', 'forceDestroy'], async () => {
        await mc.ok(['mb', `${await alias(r)}/${r.inputs.bucket}`]);
        return { id: r.inputs.bucket };
      }),
    'minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption': (r) =>
      once(r, ['bucket', 'encryptionType', 'kmsKeyId'], async () => {
        if (r.inputs.encryptionType !== 'aws:kms') throw new Error(`${r.type} ${r.name}: encryptionType ${String(r.inputs.encryptionType)} is not supported`);
        const res = await mc.run(['encrypt', 'set', 'sse-kms', String(r.inputs.kmsKeyId), `${await alias(r)}/${r.inputs.bucket}`]);
        if (res.code !== 0) throw new Error(`${r.type} ${r.name}: mc encrypt set failed: ${describeError(res)}`);
        return {};
      }),
  };
}
