/**
 * The TypeScript `kes-server` as a child process with `keystore.vault`, configured the way the
 * stack configures it: the config file from `renderKesConfig` (AppRole credentials by
 * environment variable) and a PKI from `sandbox/deployment.ts`. Requests go over mTLS as the KES
 * admin; answers are parsed so tests can compare statuses and exact bodies.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { KES_VAULT_ROLE_ID_ENV, KES_VAULT_SECRET_ID_ENV, renderKesConfig } from '../../components/render/kes-config.ts';
import type { KesVaultLayout } from '../../components/render/vault.ts';
import type { AppRoleCredentials, Pki } from '../../sandbox/deployment.ts';
import { KesProcess, kesRequest } from '../../sandbox/kes-process.ts';
import { freePort } from '../../sandbox/process.ts';

export interface VaultKesOptions {
  /** Working folder for the config file and the process log. */
  readonly dir: string;
  readonly pki: Pki;
  /** Process name; also names the config and log files. */
  readonly name: string;
  readonly vaultAddress: string;
  readonly credentials: AppRoleCredentials;
  readonly layout: KesVaultLayout;
  /** Vault namespace of the K/V engine and of the AppRole login ("" = root). */
  readonly namespace?: string;
  /** Cache expiry in milliseconds (`cache.expiry.*`). */
  readonly cache?: { readonly anyMs?: number; readonly unusedMs?: number; readonly offlineMs?: number };
  /** `--workers N`; default: the server's own (one). Each worker has its own key cache. */
  readonly workers?: number;
  /** `upstream` runs the pinned minio/kes binary on the same config; default this server. */
  readonly implementation?: 'ts' | 'upstream';
}

export interface KesAnswer {
  readonly status: number;
  /** The raw body. */
  readonly text: string;
  /** The parsed JSON body, or `undefined` for an empty one. */
  readonly json: any;
}

/** Writes the config and starts the server; resolves when `/v1/ready` answers 200. */
export async function startVaultKes(o: VaultKesOptions): Promise<KesProcess> {
  const port = await freePort();
  const configFile = join(o.dir, `${o.name}.yml`);
  writeFileSync(
    configFile,
    renderKesConfig({
      address: `127.0.0.1:${port}`,
      adminIdentity: o.pki.admin.identity,
      tls: { keyFile: o.pki.server.keyFile, certFile: o.pki.server.certFile },
      minioIdentity: o.pki.minio.identity,
      cache: o.cache,
      log: { error: 'INFO', audit: 'off' },
      keystore: {
        kind: 'vault',
        endpoint: o.vaultAddress,
        engine: o.layout.engine,
        version: o.layout.version,
        ...(o.layout.prefix ? { prefix: o.layout.prefix } : {}),
        ...(o.namespace ? { namespace: o.namespace } : {}),
      },
    }),
  );
  return KesProcess.start({
    name: o.name,
    configFile,
    port,
    logDir: o.dir,
    ca: o.pki.caPem,
    clientCert: o.pki.admin.certPem,
    clientKey: o.pki.admin.keyPem,
    ...(o.workers !== undefined ? { workers: o.workers } : {}),
    ...(o.implementation !== undefined ? { implementation: o.implementation } : {}),
    env: { [KES_VAULT_ROLE_ID_ENV]: o.credentials.roleId, [KES_VAULT_SECRET_ID_ENV]: o.credentials.secretId },
  });
}

/** One request to `kes` as the admin identity of `pki`. */
export async function asAdmin(kes: KesProcess, pki: Pki, method: string, path: string, body?: unknown): Promise<KesAnswer> {
  const res = await kesRequest(kes.url, path, {
    method,
    ca: pki.caPem,
    cert: pki.admin.certPem,
    key: pki.admin.keyPem,
    body: body === undefined ? undefined : JSON.stringify(body),
    timeoutMs: 20_000,
  });
  let json: unknown;
  if (res.body.trim() !== '') {
    try {
      json = JSON.parse(res.body);
    } catch {
      json = undefined;
    }
  }
  return { status: res.status, text: res.body, json };
}

/** Vault path of the secret holding key `name` (K/V v2: the `data` path). */
export function secretPath(layout: KesVaultLayout, name: string): string {
  return [layout.engine, ...(layout.version === 'v2' ? ['data'] : []), ...layout.prefix.split('/'), name].filter((s) => s !== '').join('/');
}

/** The fields of a secret read with the root token (K/V v2: `data.data`, v1: `data`). */
export function storedFields(layout: KesVaultLayout, body: any): Record<string, unknown> {
  return layout.version === 'v2' ? body?.data?.data : body?.data;
}

export const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
