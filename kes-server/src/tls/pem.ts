/**
 * Loading the server's TLS credentials and CA certificates from PEM files (docs/protocol.md#config-tls).
 */
import { KesError, errorCode } from '../errors.ts';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Thrown for unusable TLS files. Messages name the file, never key material or passwords. */
export class TlsConfigError extends KesError {
  readonly code = 'INVALID_TLS_CONFIG';

  constructor(message: string, options?: ErrorOptions) {
    super(`kesconf: invalid tls config: ${message}`, options);
  }
}

const MAX_FILE_BYTES = 1 << 20;

interface PemBlock {
  readonly label: string;
  /** Header lines before the base64 body (RFC 1421), e.g. `Proc-Type`. */
  readonly headers: ReadonlyMap<string, string>;
  /** The block exactly as found, BEGIN to END line. */
  readonly text: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** All PEM blocks in `text`, in order; text outside blocks is ignored like Go's pem.Decode. */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const headers = new Map<string, string>();
    const body = m[2];
    if (/^[^\r\n]*:/.test(body)) {
      for (const line of body.split(/\r?\n/)) {
        const h = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
        if (h === null) break;
        headers.set(h[1], h[2]);
      }
    }
    out.push({ label: m[1], headers, text: m[0] + '\n' });
  }
  return out;
}

function readCapped(path: string, what: string): string {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new TlsConfigError(`${what} '${path}' is not a file`);
    if (st.size > MAX_FILE_BYTES) throw new TlsConfigError(`${what} '${path}' is larger than 1 MiB`);
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof TlsConfigError) throw err;
    throw new TlsConfigError(`failed to read ${what} '${path}': ${errorCode(err) ?? 'error'}`, { cause: err });
  }
}

function isPrivateKeyLabel(label: string): boolean {
  return label === 'PRIVATE KEY' || label.endsWith(' PRIVATE KEY');
}

function parsePrivateKey(block: PemBlock, keyPath: string, password: string | undefined): KeyObject {
  const legacyEncrypted = (block.headers.get('Proc-Type') ?? '').replace(/\s/g, '') === '4,ENCRYPTED';
  const encrypted = legacyEncrypted || block.label === 'ENCRYPTED PRIVATE KEY';
  if (encrypted && !password) {
    throw new TlsConfigError(`private key '${keyPath}' is encrypted but no password is configured`);
  }
  try {
    return createPrivateKey(encrypted ? { key: block.text, format: 'pem', passphrase: password } : { key: block.text, format: 'pem' });
  } catch (err) {
    const what = encrypted ? 'failed to decrypt private key' : 'failed to parse private key';
    throw new TlsConfigError(`${what} '${keyPath}'`, { cause: err });
  }
}

function hasDnsOrIpSan(cert: X509Certificate): boolean {
  const san = cert.subjectAltName ?? '';
  return /(^|, )(DNS|IP Address):/.test(san);
}

/**
 * Loads the server key and certificate chain. The key file's first `PRIVATE KEY` or
 * `* PRIVATE KEY` block is used (certificates and other blocks in it are skipped); a legacy
 * RFC 1423 encrypted key (`Proc-Type: 4,ENCRYPTED`) or an encrypted PKCS#8 key is decrypted
 * with `password`. The certificate file must hold only `CERTIFICATE` blocks; the first is the
 * leaf, which must carry a DNS or IP SAN and match the key.
 * Returns the key as unencrypted PKCS#8 PEM (in memory only) and the chain as PEM.
 * Throws `TlsConfigError`.
 */
export function loadKeyPair(keyPath: string, certPath: string, password?: string): { key: string; cert: string } {
  const keyBlock = pemBlocks(readCapped(keyPath, 'private key')).find((b) => isPrivateKeyLabel(b.label));
  if (keyBlock === undefined) throw new TlsConfigError(`no private key found in '${keyPath}'`);
  const privateKey = parsePrivateKey(keyBlock, keyPath, password);

  const certBlocks = pemBlocks(readCapped(certPath, 'certificate'));
  if (certBlocks.length === 0) throw new TlsConfigError(`no certificate found in '${certPath}'`);
  const other = certBlocks.find((b) => b.label !== 'CERTIFICATE');
  if (other !== undefined) {
    throw new TlsConfigError(`certificate file '${certPath}' contains a '${other.label}' block; only CERTIFICATE blocks are allowed`);
  }
  const chain = certBlocks.map((b, i) => {
    try {
      return new X509Certificate(b.text);
    } catch (err) {
      throw new TlsConfigError(`failed to parse certificate ${i + 1} in '${certPath}'`, { cause: err });
    }
  });
  const leaf = chain[0];
  if (!hasDnsOrIpSan(leaf)) throw new TlsConfigError(`certificate '${certPath}' has no DNS or IP SAN`);
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsConfigError(`private key '${keyPath}' does not match the certificate '${certPath}'`);
  }
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' });
  return { key: typeof key === 'string' ? key : key.toString('utf8'), cert: chain.map((c) => c.toString()).join('') };
}

function certificatesIn(path: string, text: string): string[] {
  return pemBlocks(text)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b, i) => {
      try {
        return new X509Certificate(b.text).toString();
      } catch (err) {
        throw new TlsConfigError(`failed to parse certificate ${i + 1} in '${path}'`, { cause: err });
      }
    });
}

/**
 * Loads the CA certificates of `tls.ca`: a PEM file, or a directory whose regular files are
 * read (files without certificates, like a README, are skipped; subdirectories are not
 * entered). Returns one PEM string per certificate. Throws `TlsConfigError` when nothing
 * usable is found or a certificate does not parse.
 */
export function loadCertPool(path: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new TlsConfigError(`failed to read CA certificates '${path}': ${errorCode(err) ?? 'error'}`, { cause: err });
  }
  const certs: string[] = [];
  if (isDir) {
    const entries = readdirSync(path, { withFileTypes: true })
      .filter((e) => e.isFile() || e.isSymbolicLink())
      .map((e) => e.name)
      .sort();
    for (const name of entries) {
      const file = join(path, name);
      let regular = false;
      try {
        regular = statSync(file).isFile();
      } catch {
        // a dangling symbolic link holds no certificate
      }
      if (!regular) continue;
      certs.push(...certificatesIn(file, readCapped(file, 'CA certificate')));
    }
  } else {
    certs.push(...certificatesIn(path, readCapped(path, 'CA certificate')));
  }
  if (certs.length === 0) throw new TlsConfigError(`no CA certificates found in '${path}'`);
  return certs;
}
