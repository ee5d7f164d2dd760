/**
 * A complete MinIO → KES → Vault/OpenBao deployment on loopback, built exactly the way the stack
 * builds it: the Vault side from `components/render/vault.ts`, the PKI from the cert specs of
 * `components/render/pki.ts` issued by the X.509 builder of the KES server, the KES config from
 * `renderKesConfig` (AppRole credentials passed by environment variables) and MinIO's environment
 * from `renderMinioEnv`. Used by the end-to-end tests and by `scripts/sandbox.ts`.
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateApiKey } from '../kes-server/src/auth/api-key.ts';
import { createCertificate, createKeyPair } from '../kes-server/src/tls/x509.ts';
import type { KeyObject } from 'node:crypto';
import {
  KES_VAULT_ROLE_ID_ENV,
  KES_VAULT_SECRET_ID_ENV,
  renderKesConfig,
} from '../components/render/kes-config.ts';
import { renderMinioEnv } from '../components/render/minio-env.ts';
import {
  caCertSpec,
  clientCertSpec,
  kesIdentityOfPublicKeyPem,
  kesServerSans,
  serverCertSpec,
  x509Fields,
} from '../components/render/pki.ts';
import type { CertSpec } from '../components/render/pki.ts';
import { kesAppRoleName } from '../components/render/vault.ts';
import type { KesVaultLayout } from '../components/render/vault.ts';
import { KesProcess, kesRequest } from './kes-process.ts';
import { registerSecret } from './log-sweep.ts';
import { Minio } from './minio.ts';
import { provisionKes, type VaultAdmin } from './openbao-provision.ts';
import { freePort } from './process.ts';

/** AppRole login material for KES. Secrets: never log them. */
export interface AppRoleCredentials {
  readonly roleId: string;
  readonly secretId: string;
}

/** Where KES keeps its keys in Vault (K/V v1 under `kv/kes/`, as the stack defaults). */
export const defaultVaultLayout: KesVaultLayout = { engine: 'kv', version: 'v1', prefix: 'kes' };

/**
 * Applies the Vault side of a KES deployment (K/V mount, KES policy, AppRole auth and role) with
 * an administrative token, then fetches the role id and a secret id as the stack does.
 */
export async function applyVaultSetup(vault: VaultAdmin, layout: KesVaultLayout = defaultVaultLayout): Promise<AppRoleCredentials> {
  const { roleId, secretId } = await provisionKes(vault, { layout, name: kesAppRoleName });
  return { roleId, secretId };
}

/** A certificate, its private key (files and PEM) and its KES identity. */
export interface Credential {
  readonly certFile: string;
  readonly keyFile: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly identity: string;
}

/** The deployment's PKI: one CA, the KES server certificate and client certificates. */
export class Pki {
  readonly dir: string;
  readonly caFile: string;
  readonly caPem: string;
  /** KES server certificate (SANs 127.0.0.1 and localhost). */
  readonly server: Credential;
  /** KES admin client certificate. */
  readonly admin: Credential;
  /** MinIO's client certificate toward KES. */
  readonly minio: Credential;
  readonly #caKey: KeyObject;
  readonly #ca: X509Certificate;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    const pair = createKeyPair('ecdsa-p256');
    registerSecret('sandbox CA private key', pair.privateKeyPem);
    this.#caKey = pair.privateKey;
    this.caPem = createCertificate({ ...x509Fields(caCertSpec('minio-sse-kes sandbox CA'), backdated()), publicKey: pair.publicKey, signingKey: pair.privateKey });
    this.#ca = new X509Certificate(this.caPem);
    this.caFile = join(dir, 'ca.crt');
    writeFileSync(this.caFile, this.caPem);
    this.server = this.issue('kes-server', serverCertSpec('kes', kesServerSans({ target: 'linux', hosts: ['127.0.0.1'] })));
    this.admin = this.issue('kes-admin', clientCertSpec('kes-admin'));
    this.minio = this.issue('minio', clientCertSpec('minio'));
  }

  /** Issues a certificate from `spec` (default: a client certificate named `name`), signed by the CA. */
  issue(name: string, spec: CertSpec = clientCertSpec(name)): Credential {
    const pair = createKeyPair('ecdsa-p256');
    registerSecret(`sandbox ${name} private key`, pair.privateKeyPem);
    const certPem = createCertificate({ ...x509Fields(spec, backdated()), publicKey: pair.publicKey, signingKey: this.#caKey, issuer: this.#ca });
    const certFile = join(this.dir, `${name}.crt`);
    const keyFile = join(this.dir, `${name}.key`);
    writeFileSync(certFile, certPem);
    writeFileSync(keyFile, pair.privateKeyPem, { mode: 0o600 });
    return { certFile, keyFile, certPem, keyPem: pair.privateKeyPem, identity: kesIdentityOfPublicKeyPem(certPem) };
  }
}

// A minute of slack for clocks of the peers.
function backdated(): Date {
  return new Date(Date.now() - 60_000);
}

export interface DeploymentOptions {
  /** Working folder (config, PKI, drives, logs). The caller owns and removes it. */
  readonly dir: string;
  readonly vault: VaultAdmin;
  readonly credentials: AppRoleCredentials;
  readonly layout?: KesVaultLayout;
  /** KES replicas, all listed in `MINIO_KMS_KES_ENDPOINT`. Default 1. */
  readonly kesReplicas?: number;
  /** Worker processes per TypeScript KES replica (see `KesProcessOptions.workers`). */
  readonly kesWorkers?: number;
  readonly minioNodes?: number;
  readonly minioDrives?: number;
  /** How MinIO authenticates to KES: an mTLS client certificate (default) or a `kes:v1:` API key. */
  readonly minioAuth?: 'certificate' | 'api-key';
  /** When false, MinIO presents a CA-signed certificate whose identity no KES policy names. */
  readonly minioIdentityKnown?: boolean;
  /** `MINIO_KMS_KES_KEY_NAME`. Default `minio-default`. */
  readonly defaultKey?: string;
  /** Key patterns of MinIO's KES policy. Default `['*']`. */
  readonly keyPatterns?: readonly string[];
  readonly cache?: { readonly anyMs?: number; readonly unusedMs?: number; readonly offlineMs?: number };
  /** Start MinIO and wait for it (default true); false leaves `minio.launch()` to the caller. */
  readonly startMinio?: boolean;
  /**
   * `ts`: this repository's KES server; `upstream`: the pinned minio/kes binary. Default `ts`,
   * unless `KES_E2E_IMPLEMENTATION=upstream` is set to cross-check the suite against upstream.
   */
  readonly kesImplementation?: 'ts' | 'upstream';
}

/** A running deployment. `stop()` stops MinIO, then KES; the Vault belongs to the caller. */
export class Deployment {
  readonly dir: string;
  readonly pki: Pki;
  readonly kes: KesProcess[];
  readonly minio: Minio;
  readonly minioEnv: Record<string, string>;
  readonly defaultKey: string;
  /** Identity the KES policy grants MinIO's routes to. */
  readonly minioIdentity: string;

  private constructor(init: { dir: string; pki: Pki; kes: KesProcess[]; minio: Minio; minioEnv: Record<string, string>; defaultKey: string; minioIdentity: string }) {
    this.dir = init.dir;
    this.pki = init.pki;
    this.kes = init.kes;
    this.minio = init.minio;
    this.minioEnv = init.minioEnv;
    this.defaultKey = init.defaultKey;
    this.minioIdentity = init.minioIdentity;
  }

  static async start(options: DeploymentOptions): Promise<Deployment> {
    const dir = options.dir;
    const pki = new Pki(join(dir, 'pki'));
    const defaultKey = options.defaultKey ?? 'minio-default';
    const apiKey = options.minioAuth === 'api-key' ? generateApiKey() : undefined;
    registerSecret('sandbox API key', apiKey?.toString());
    const minioIdentity = apiKey?.identity ?? pki.minio.identity;
    const presented = options.minioIdentityKnown === false ? pki.issue('minio-unknown') : pki.minio;

    const implementation = options.kesImplementation ?? (process.env.KES_E2E_IMPLEMENTATION === 'upstream' ? 'upstream' : 'ts');
    const kes: KesProcess[] = [];
    const stopAll = async () => {
      await Promise.all(kes.map((k) => k.stop()));
    };
    try {
      for (let i = 1; i <= (options.kesReplicas ?? 1); i++) {
        const port = await freePort();
        const configFile = join(dir, `kes-${i}.yml`);
        writeFileSync(
          configFile,
          renderKesConfig({
            address: `127.0.0.1:${port}`,
            adminIdentity: pki.admin.identity,
            // Client certificates are verified against the sandbox CA, as the stack deploys
            // KES. minio/kes refuses API-key certificates when it verifies, so the upstream
            // reference server runs with verification off for an API-key MinIO.
            tls: { keyFile: pki.server.keyFile, certFile: pki.server.certFile, ...(implementation === 'upstream' && apiKey !== undefined ? {} : { clientCaFile: pki.caFile }) },
            minioIdentity,
            keyPatterns: options.keyPatterns,
            cache: options.cache,
            log: { error: 'INFO', audit: 'off' },
            keystore: { kind: 'vault', endpoint: options.vault.address, ...layoutArgs(options.layout ?? defaultVaultLayout) },
          }),
        );
        const replica = new KesProcess({
          name: `kes-${i}`,
          configFile,
          port,
          logDir: dir,
          ca: pki.caPem,
          env: { [KES_VAULT_ROLE_ID_ENV]: options.credentials.roleId, [KES_VAULT_SECRET_ID_ENV]: options.credentials.secretId },
          implementation,
          workers: options.kesWorkers,
        });
        kes.push(replica);
        await replica.start();
      }

      const minio = await Minio.create({ dir: join(dir, 'minio'), nodes: options.minioNodes, drives: options.minioDrives });
      const minioEnv = renderMinioEnv({
        kesEndpoints: kes.map((k) => k.url),
        defaultKeyName: defaultKey,
        ...(apiKey !== undefined ? { apiKey: apiKey.toString() } : { clientCertFile: presented.certFile, clientKeyFile: presented.keyFile }),
        kesCaPath: pki.caFile,
        rootUser: 'sandbox-admin',
        rootPassword: randomPassword(),
        volumes: minio.volumes,
      });
      const deployment = new Deployment({ dir, pki, kes, minio, minioEnv, defaultKey, minioIdentity });
      if (options.startMinio !== false) await minio.start(minioEnv);
      return deployment;
    } catch (error) {
      await stopAll();
      throw error;
    }
  }

  /** A request to the first KES replica as the KES admin. */
  kesAdmin(method: string, path: string, body?: unknown, replica = 0): Promise<{ status: number; body: string }> {
    return kesRequest(this.kes[replica].url, path, {
      method,
      ca: this.pki.caPem,
      cert: this.pki.admin.certPem,
      key: this.pki.admin.keyPem,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** Log tails of every process. */
  logTail(lines = 30): string {
    return [...this.kes.map((k) => k.logTail(lines)), this.minio.logTail(lines)].join('\n');
  }

  async stop(): Promise<void> {
    await this.minio.stop();
    await Promise.all(this.kes.map((k) => k.stop()));
  }
}

function layoutArgs(layout: KesVaultLayout): { engine: string; version: 'v1' | 'v2'; prefix?: string } {
  return { engine: layout.engine, version: layout.version, ...(layout.prefix === '' ? {} : { prefix: layout.prefix }) };
}

function randomPassword(): string {
  const password = Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64url');
  registerSecret('sandbox password', password);
  return password;
}
