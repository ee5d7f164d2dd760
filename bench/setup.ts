/**
 * Benchmark fixtures: one TLS server certificate, one admin API key, and the KES configuration
 * both implementations read. The YAML comes from one renderer so the servers differ only in
 * listen port and key-store directory.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type KesFsKeystoreArgs, type KesVaultKeystoreArgs, keystoreSection, minioPolicyAllow } from '../components/render/kes-config.ts';
import { generateApiKey } from '../kes-server/src/auth/api-key.ts';
import { registerSecret } from '../sandbox/log-sweep.ts';
import { clientCertificateOfApiKey, createCertificate, createKeyPair } from '../kes-server/src/tls/x509.ts';

export interface Credentials {
  /** Server certificate (self-signed, SAN 127.0.0.1 and localhost); clients trust it directly. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** Identity of the admin API key: the only identity in the configuration. */
  readonly adminIdentity: string;
  /** The API key's Ed25519 client certificate and private key, as a KES client derives them. */
  readonly clientCert: string;
  readonly clientKey: string;
}

/** Makes a fresh server certificate (valid one day) and admin API key. */
export function makeCredentials(): Credentials {
  const pair = createKeyPair('ecdsa-p256');
  const serverCert = createCertificate({
    commonName: 'localhost',
    publicKey: pair.publicKey,
    signingKey: pair.privateKey,
    notAfter: new Date(Date.now() + 24 * 3600 * 1000),
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    extKeyUsage: ['serverAuth'],
  });
  // Parse once: a certificate the client could not load would fail every request later.
  new X509Certificate(serverCert);
  const apiKey = generateApiKey();
  const client = clientCertificateOfApiKey(apiKey);
  registerSecret('bench server private key', pair.privateKeyPem);
  registerSecret('bench admin API key', apiKey.toString());
  registerSecret('bench admin client private key', client.key);
  return { serverCert, serverKey: pair.privateKeyPem, adminIdentity: apiKey.identity, clientCert: client.cert, clientKey: client.key };
}

/** What one server's configuration file says. */
export interface ConfigData {
  readonly port: number;
  readonly adminIdentity: string;
  readonly tlsKeyFile: string;
  readonly tlsCertFile: string;
  /** The key store, as the stack's KES config renderer takes it. */
  readonly keystore: KesFsKeystoreArgs | KesVaultKeystoreArgs;
  /** When set, a `minio` policy grants this identity the routes MinIO calls, as the stack deploys KES. */
  readonly minioIdentity?: string;
}

/**
 * Renders a KES server configuration (docs/protocol.md#configuration-file): loopback address, the admin identity, TLS files,
 * the key store (its section from the stack's renderer), no cache section (defaults), error log
 * on and audit console output off (an absent `audit` prints one line per request, which would
 * measure the terminal instead).
 */
export function renderConfig(d: ConfigData): string {
  return [
    'version: v1',
    `address: 127.0.0.1:${d.port}`,
    'admin:',
    `  identity: ${d.adminIdentity}`,
    'tls:',
    `  key: ${d.tlsKeyFile}`,
    `  cert: ${d.tlsCertFile}`,
    ...(d.minioIdentity === undefined ? [] : minioPolicy(d.minioIdentity)),
    'log:',
    '  error: on',
    '  audit: off',
    stringify({ keystore: keystoreSection(d.keystore) }, { lineWidth: 0 }),
  ].join('\n');
}

function minioPolicy(identity: string): string[] {
  return ['policy:', '  minio:', '    allow:', ...minioPolicyAllow(['*'], false).map((p) => `    - ${p}`), '    identities:', `    - ${identity}`];
}

/** Options of `writeConfigs` beyond the defaults (one key store per server, admin only). */
export interface ConfigOptions {
  /**
   * One `fs` key-store directory for every server. Both implementations store keys in the same
   * format and create files without overwriting, so servers sharing it see the same keys.
   */
  readonly sharedKeystoreDir?: string;
  /** A Vault key store per server name instead of `fs` directories (`bench/vault.ts`). */
  readonly vault?: (name: string) => KesVaultKeystoreArgs;
  readonly minioIdentity?: string;
}

/**
 * Writes the shared TLS files once into `dir` and one configuration file per server
 * (`<name>.yml`, key store in `<name>-keys/` unless shared). Returns the config file path of each server.
 */
export async function writeConfigs(dir: string, creds: Credentials, servers: ReadonlyArray<{ name: string; port: number }>, opts: ConfigOptions = {}): Promise<Map<string, string>> {
  const tlsKeyFile = join(dir, 'server.key');
  const tlsCertFile = join(dir, 'server.crt');
  await writeFile(tlsKeyFile, creds.serverKey, { mode: 0o600 });
  await writeFile(tlsCertFile, creds.serverCert);
  if (opts.sharedKeystoreDir !== undefined) await mkdir(opts.sharedKeystoreDir, { mode: 0o700, recursive: true });
  const paths = new Map<string, string>();
  for (const s of servers) {
    let keystore: ConfigData['keystore'];
    if (opts.vault !== undefined) {
      keystore = opts.vault(s.name);
    } else {
      let path = opts.sharedKeystoreDir;
      if (path === undefined) {
        path = join(dir, `${s.name}-keys`);
        await mkdir(path, { mode: 0o700 });
      }
      keystore = { kind: 'fs', path };
    }
    const path = join(dir, `${s.name}.yml`);
    await writeFile(path, renderConfig({ port: s.port, adminIdentity: creds.adminIdentity, tlsKeyFile, tlsCertFile, keystore, minioIdentity: opts.minioIdentity }));
    paths.set(s.name, path);
  }
  return paths;
}
