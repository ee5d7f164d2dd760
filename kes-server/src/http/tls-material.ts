/**
 * TLS material of the server (docs/protocol.md#config-tls): PEM text read from the configured files, and the
 * client-authentication mode derived from `tls.auth` and `skip_auth` (docs/protocol.md#client-certificates).
 */
import { X509Certificate } from 'node:crypto';
import { rootCertificates, type SecureContextOptions } from 'node:tls';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * TLS 1.2 cipher suites the server accepts: ECDHE key exchange (forward secrecy) with an AEAD
 * cipher only; upstream, on Go's defaults, also takes two CBC suites with SHA-1 MACs. TLS 1.3
 * suites are all AEAD; Node's three are kept in Node's order.
 */
export const TLS12_CIPHER_SUITES = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;
export const TLS13_CIPHER_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'] as const;

export interface TlsMaterial {
  /** Server private key, PEM (may be a legacy encrypted PEM, see `password`). */
  readonly key: string;
  /** Server certificate chain, PEM, leaf first. */
  readonly cert: string;
  readonly password: string;
  /** Extra CA certificates (PEM) trusted for client verification when `auth` is on. */
  readonly ca: readonly string[];
  /** `tls.auth: on`: client certificates must chain to the system roots or `ca`. */
  readonly auth: boolean;
  /** Problems worth a warning in the error log, such as a private key others may read. */
  readonly warnings?: readonly string[];
}

interface TlsFiles {
  readonly key: string;
  readonly cert: string;
  readonly password: string;
  readonly ca: string;
  readonly auth: boolean;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** PEM certificates of a file, or of every file in a directory. */
async function readCertificates(path: string): Promise<string[]> {
  if (path === '') return [];
  const files = (await stat(path)).isDirectory() ? (await readdir(path)).sort().map((f) => join(path, f)) : [path];
  const out: string[] = [];
  for (const file of files) {
    if (!(await stat(file)).isFile()) continue;
    out.push(...((await readFile(file, 'utf8')).match(PEM_CERT) ?? []));
  }
  return out;
}

/**
 * Reads the configured key, certificate and CA files.
 * @throws Error naming the file when a file cannot be read or the leaf has no DNS/IP SAN.
 */
export async function loadTlsMaterial(files: TlsFiles): Promise<TlsMaterial> {
  const key = await readFile(files.key, 'utf8').catch((err: Error) => {
    throw new Error(`tls: failed to read private key '${files.key}': ${err.message}`);
  });
  const cert = await readFile(files.cert, 'utf8').catch((err: Error) => {
    throw new Error(`tls: failed to read certificate '${files.cert}': ${err.message}`);
  });
  const leaf = cert.match(PEM_CERT)?.[0];
  if (leaf === undefined) throw new Error(`tls: no certificate in '${files.cert}'`);
  if (!/(DNS|IP Address):/.test(new X509Certificate(leaf).subjectAltName ?? '')) {
    throw new Error(`tls: certificate '${files.cert}' has no DNS or IP subject alternative name`);
  }
  const warnings = [await keyFileExposure(files.key)].filter((w) => w !== undefined);
  return { key, cert, password: files.password, ca: await readCertificates(files.ca), auth: files.auth, warnings };
}

/** A warning when the private key file grants any access beyond its owner. */
async function keyFileExposure(path: string): Promise<string | undefined> {
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  return `tls: private key file '${path}' is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}); restrict it to the owner (chmod 600)`;
}

/** How the handshake treats client certificates (docs/protocol.md#client-certificates). */
export interface ClientAuthMode {
  /** Close connections that presented no certificate (Go `RequireAnyClientCert`). */
  readonly requireCert: boolean;
  /** Verify presented certificates against the trusted roots. */
  readonly verify: boolean;
}

export function clientAuthMode(auth: boolean, anySkipAuth: boolean): ClientAuthMode {
  return { requireCert: !anySkipAuth, verify: auth };
}

/** Node secure-context options for the material and mode. */
export function secureContextOptions(m: TlsMaterial, mode: ClientAuthMode): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
  return {
    key: m.key,
    cert: m.cert,
    ...(m.password !== '' ? { passphrase: m.password } : {}),
    ...(mode.verify ? { ca: [...rootCertificates, ...m.ca] } : {}),
    minVersion: 'TLSv1.2',
    ciphers: [...TLS13_CIPHER_SUITES, ...TLS12_CIPHER_SUITES].join(':'),
    requestCert: true,
    // Every mode is enforced right after the handshake (see KesServer): the unverified ones
    // because Node cannot, the verified ones because a known API-key client passes there.
    rejectUnauthorized: false,
  };
}
