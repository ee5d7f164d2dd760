/**
 * Certificate specifications for the KES/MinIO PKI, independent of who issues them: the Pulumi
 * `KesPki` component maps a `CertSpec` onto `@pulumi/tls` args (`tlsCertArgs`), tests and the
 * end-to-end suite onto `createCertificate` of `kes-server/src/tls/x509.ts` (`x509Fields`).
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';
import { RenderError, requireInt, requireNonEmpty } from './validate.ts';

/** Key usages understood by both issuers (a subset of @pulumi/tls `allowedUses`). */
export type CertUse = 'certSigning' | 'crlSigning' | 'digitalSignature' | 'keyEncipherment' | 'serverAuth' | 'clientAuth';

/** What a certificate must say. Field for field issuer-neutral. */
export interface CertSpec {
  readonly commonName: string;
  /** Sorted, de-duplicated DNS SANs. */
  readonly dnsNames: readonly string[];
  /** Sorted, de-duplicated IP SANs. */
  readonly ipAddresses: readonly string[];
  readonly isCA: boolean;
  readonly validityHours: number;
  readonly allowedUses: readonly CertUse[];
}

/** Ten years for the CA, one year for leaves. */
export const DEFAULT_CA_VALIDITY_HOURS = 87_600;
export const DEFAULT_LEAF_VALIDITY_HOURS = 8_760;

/** Where a KES server runs, which decides the names clients use to reach it. */
export type KesSanTarget =
  | { readonly target: 'docker'; readonly serviceName: string; readonly containerNames: readonly string[] }
  | { readonly target: 'kubernetes'; readonly serviceName: string; readonly namespace: string; readonly clusterDomain?: string }
  | { readonly target: 'linux'; readonly hosts: readonly string[] };

/** DNS and IP SANs of a KES server certificate for a target; loopback names are always included (probes, local MinIO). */
export function kesServerSans(t: KesSanTarget): { dnsNames: string[]; ipAddresses: string[] } {
  const names: string[] = ['localhost', '127.0.0.1'];
  switch (t.target) {
    case 'docker':
      requireNonEmpty('serviceName', t.serviceName);
      names.push(t.serviceName, ...t.containerNames);
      break;
    case 'kubernetes': {
      requireNonEmpty('serviceName', t.serviceName);
      requireNonEmpty('namespace', t.namespace);
      const svc = t.serviceName;
      const ns = t.namespace;
      names.push(svc, `${svc}.${ns}`, `${svc}.${ns}.svc`, `${svc}.${ns}.svc.${t.clusterDomain ?? 'cluster.local'}`);
      break;
    }
    case 'linux':
      if (t.hosts.length === 0) throw new RenderError('MISSING_ARGUMENT', 'hosts', 'at least one host name or address is needed');
      names.push(...t.hosts);
      break;
    default: {
      const never: never = t;
      throw new RenderError('INVALID_ARGUMENT', 'target', `unknown target ${String((never as { target: unknown }).target)}`);
    }
  }
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const n of names) {
    requireNonEmpty('hosts', n);
    if (isIP(n) !== 0) ips.add(n);
    else dns.add(n.toLowerCase());
  }
  return { dnsNames: [...dns].sort(), ipAddresses: [...ips].sort() };
}

/** Spec of a self-signed CA that signs the KES server and client certificates. */
export function caCertSpec(commonName: string, validityHours = DEFAULT_CA_VALIDITY_HOURS): CertSpec {
  requireNonEmpty('commonName', commonName);
  requireInt('validityHours', validityHours, 1, 876_000);
  return { commonName, dnsNames: [], ipAddresses: [], isCA: true, validityHours, allowedUses: ['certSigning', 'crlSigning', 'digitalSignature'] };
}

/** Spec of the KES server certificate (KES refuses to start without a DNS or IP SAN, docs/protocol.md#config-tls). */
export function serverCertSpec(commonName: string, sans: { dnsNames: readonly string[]; ipAddresses: readonly string[] }, validityHours = DEFAULT_LEAF_VALIDITY_HOURS): CertSpec {
  requireNonEmpty('commonName', commonName);
  requireInt('validityHours', validityHours, 1, 87_600);
  if (sans.dnsNames.length + sans.ipAddresses.length === 0) {
    throw new RenderError('MISSING_ARGUMENT', 'sans', 'a server certificate needs at least one DNS or IP SAN');
  }
  return {
    commonName,
    dnsNames: [...new Set(sans.dnsNames)].sort(),
    ipAddresses: [...new Set(sans.ipAddresses)].sort(),
    isCA: false,
    validityHours,
    allowedUses: ['digitalSignature', 'keyEncipherment', 'serverAuth'],
  };
}

/** Spec of a client certificate (MinIO → KES, admin → KES, KES → Vault). */
export function clientCertSpec(commonName: string, validityHours = DEFAULT_LEAF_VALIDITY_HOURS): CertSpec {
  requireNonEmpty('commonName', commonName);
  requireInt('validityHours', validityHours, 1, 87_600);
  return { commonName, dnsNames: [], ipAddresses: [], isCA: false, validityHours, allowedUses: ['digitalSignature', 'clientAuth'] };
}

/** The `@pulumi/tls` `SelfSignedCert` / `LocallySignedCert`+`CertRequest` fields of a spec. */
export function tlsCertArgs(spec: CertSpec): {
  subject: { commonName: string };
  dnsNames: string[];
  ipAddresses: string[];
  isCaCertificate: boolean;
  validityPeriodHours: number;
  allowedUses: string[];
} {
  return {
    subject: { commonName: spec.commonName },
    dnsNames: [...spec.dnsNames],
    ipAddresses: [...spec.ipAddresses],
    isCaCertificate: spec.isCA,
    validityPeriodHours: spec.validityHours,
    allowedUses: [...spec.allowedUses],
  };
}

/**
 * The key-independent fields of `CertificateOptions` (`kes-server/src/tls/x509.ts`) for a spec;
 * the caller adds `publicKey`, `signingKey` and `issuer`.
 */
export function x509Fields(spec: CertSpec, now: Date = new Date()): {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  isCA: boolean;
  notBefore: Date;
  notAfter: Date;
  extKeyUsage: Array<'serverAuth' | 'clientAuth'>;
} {
  return {
    commonName: spec.commonName,
    dnsNames: [...spec.dnsNames],
    ipAddresses: [...spec.ipAddresses],
    isCA: spec.isCA,
    notBefore: now,
    notAfter: new Date(now.getTime() + spec.validityHours * 3_600_000),
    extKeyUsage: spec.allowedUses.filter((u): u is 'serverAuth' | 'clientAuth' => u === 'serverAuth' || u === 'clientAuth'),
  };
}

/**
 * KES identity of a public key (docs/protocol.md#identities): lower-case hex SHA-256 of the DER SubjectPublicKeyInfo.
 * Accepts the `PUBLIC KEY` PEM that `tls.PrivateKey.publicKeyPem` produces (also a private key or
 * certificate PEM, from which node derives the public key).
 */
export function kesIdentityOfPublicKeyPem(pem: string): string {
  const spki = createPublicKey(pem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

// PKCS#8 prefix of an Ed25519 private key (RFC 8410): the 32-byte seed follows.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * A KES API key (docs/protocol.md#api-keys) from a 32-byte Ed25519 seed: `kes:v1:` + base64(0x00 ‖ seed), and its
 * identity (SHA-256 of the Ed25519 SPKI). The returned `apiKey` is a secret.
 */
export function kesApiKeyOfSeed(seed: Uint8Array): { apiKey: string; identity: string } {
  if (seed.length !== 32) throw new RenderError('INVALID_ARGUMENT', 'seed', 'an Ed25519 seed has 32 bytes');
  const key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return {
    apiKey: `kes:v1:${Buffer.concat([Buffer.from([0]), seed]).toString('base64')}`,
    identity: createHash('sha256').update(spki).digest('hex'),
  };
}
