/**
 * A minimal X.509 v3 certificate builder (RFC 5280) on top of `der.ts` and node:crypto
 * signing. Names carry a common name only. Used for dev mode, API-key client certificates
 * and test PKIs.
 */
import { KesError } from '../errors.ts';
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { ApiKey } from '../auth/api-key.ts';
import {
  bitString, boolean, childrenOf, context, extensionsOf, integer, namedBits, nullValue, octetString,
  oid, readSingle, sequence, setOf, slice, Tag, tbsPartsOf, time, utf8String,
} from './der.ts';

/** Thrown for options that cannot produce a valid certificate. */
export class CertificateError extends KesError {
  readonly code = 'INVALID_CERTIFICATE';

  constructor(message: string) {
    super(`x509: ${message}`);
  }
}

export type ExtKeyUsage = 'serverAuth' | 'clientAuth';

interface CertificateOptions {
  /** Subject common name; the subject DN holds nothing else. */
  commonName: string;
  /** The subject's public key. */
  publicKey: KeyObject;
  /** Private key that signs: the issuer's key, or the subject's own key when self-signed. */
  signingKey: KeyObject;
  /** Issuing CA certificate; absent means self-signed. */
  issuer?: X509Certificate;
  /** Serial number as unsigned big-endian bytes (at most 20); default 128 random bits. */
  serial?: Uint8Array;
  /** Default: now. */
  notBefore?: Date;
  notAfter: Date;
  dnsNames?: string[];
  /** IPv4 or IPv6 literals. */
  ipAddresses?: string[];
  /** Marks a CA certificate (BasicConstraints CA=true, keyCertSign and cRLSign usage). */
  isCA?: boolean;
  extKeyUsage?: ExtKeyUsage[];
}

const OID = {
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  ed25519: '1.3.101.112',
} as const;

// KeyUsage bit positions (RFC 5280 §4.2.1.3).
const KU = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

interface SignatureScheme {
  readonly algorithm: Uint8Array; // AlgorithmIdentifier DER
  readonly hash: string | null;
}

function signatureScheme(key: KeyObject): SignatureScheme {
  if (key.type !== 'private') throw new CertificateError('signing key must be a private key');
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return { algorithm: sequence(oid(OID.ed25519)), hash: null };
    case 'rsa':
      return { algorithm: sequence(oid(OID.sha256WithRsa), nullValue()), hash: 'sha256' };
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return { algorithm: sequence(oid(OID.ecdsaWithSha256)), hash: 'sha256' };
      if (curve === 'secp384r1') return { algorithm: sequence(oid(OID.ecdsaWithSha384)), hash: 'sha384' };
      throw new CertificateError(`unsupported ECDSA curve '${curve ?? 'unknown'}'`);
    }
    default:
      throw new CertificateError(`unsupported signing key type '${key.asymmetricKeyType ?? 'unknown'}'`);
  }
}

function spkiOf(key: KeyObject): Uint8Array {
  const pub = key.type === 'public' ? key : createPublicKey(key);
  return pub.export({ type: 'spki', format: 'der' });
}

/** Key identifier method 1 of RFC 5280 §4.2.1.2: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(spki: Uint8Array): Uint8Array {
  const [, subjectPublicKey] = childrenOf(spki, readSingle(spki));
  if (subjectPublicKey?.tag !== Tag.BIT_STRING) throw new CertificateError('malformed public key');
  return createHash('sha1').update(spki.subarray(subjectPublicKey.contentStart + 1, subjectPublicKey.end)).digest();
}

/** The issuer's own key identifier, so AuthorityKeyIdentifier matches it byte for byte. */
function issuerKeyIdentifier(issuer: X509Certificate): Uint8Array {
  const ski = extensionsOf(issuer.raw).get(OID.subjectKeyIdentifier);
  if (ski !== undefined) {
    const inner = readSingle(ski.value);
    if (inner.tag === Tag.OCTET_STRING) return ski.value.subarray(inner.contentStart, inner.end);
  }
  return keyIdentifier(spkiOf(issuer.publicKey));
}

function commonNameDN(cn: string): Uint8Array {
  if (cn.length === 0) throw new CertificateError('common name must not be empty');
  return sequence(setOf(sequence(oid(OID.commonName), utf8String(cn))));
}

function ipBytes(ip: string): Uint8Array {
  if (isIPv4(ip)) return Uint8Array.from(ip.split('.').map(Number));
  if (!isIPv6(ip) || ip.includes('%')) throw new CertificateError(`invalid IP address '${ip}'`);
  let text = ip;
  // A trailing dotted IPv4 part (e.g. ::ffff:192.0.2.1) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (s: string | undefined): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const groups = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

function randomSerial(): Uint8Array {
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // positive and at most 128 bits
  if (serial.every((b) => b === 0)) serial[15] = 1; // serial numbers must be non-zero
  return serial;
}

function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * Builds and signs an X.509 v3 certificate and returns it as PEM. Supported keys: RSA
 * (sha256WithRSAEncryption), ECDSA P-256/P-384 (ecdsa-with-SHA256/384) and Ed25519.
 * Throws `CertificateError` for unsupported keys, an empty name, bad IPs or dates, or a
 * signing key that does not belong to `issuer`.
 */
export function createCertificate(opts: CertificateOptions): string {
  const scheme = signatureScheme(opts.signingKey);
  const subjectSpki = spkiOf(opts.publicKey);
  const subject = commonNameDN(opts.commonName);
  const notBefore = opts.notBefore ?? new Date();
  if (!(opts.notAfter.getTime() > notBefore.getTime())) throw new CertificateError('notAfter must be after notBefore');

  let issuerName: Uint8Array;
  let authorityKeyId: Uint8Array;
  if (opts.issuer === undefined) {
    if (!Buffer.from(spkiOf(opts.signingKey)).equals(subjectSpki)) {
      throw new CertificateError('a self-signed certificate must be signed by its own key');
    }
    issuerName = subject;
    authorityKeyId = keyIdentifier(subjectSpki);
  } else {
    const issuerSpki = spkiOf(opts.issuer.publicKey);
    if (!Buffer.from(spkiOf(opts.signingKey)).equals(issuerSpki)) {
      throw new CertificateError('signing key does not match the issuer certificate');
    }
    issuerName = slice(opts.issuer.raw, tbsPartsOf(opts.issuer.raw).subject);
    authorityKeyId = issuerKeyIdentifier(opts.issuer);
  }

  const serial = opts.serial ?? randomSerial();
  if (serial.length > 20) throw new CertificateError('serial number must be at most 20 bytes');
  if (serial.every((b) => b === 0)) throw new CertificateError('serial number must be positive');

  const isCA = opts.isCA === true;
  const usage = isCA
    ? [KU.digitalSignature, KU.keyCertSign, KU.cRLSign]
    : opts.publicKey.asymmetricKeyType === 'rsa'
      ? [KU.digitalSignature, KU.keyEncipherment]
      : [KU.digitalSignature];
  const exts: Uint8Array[] = [
    extension(OID.basicConstraints, true, isCA ? sequence(boolean(true)) : sequence()),
    extension(OID.keyUsage, true, namedBits(usage)),
  ];
  if (opts.extKeyUsage !== undefined && opts.extKeyUsage.length > 0) {
    exts.push(extension(OID.extKeyUsage, false, sequence(...opts.extKeyUsage.map((u) => oid(OID[u])))));
  }
  const names = [
    ...(opts.dnsNames ?? []).map((d) => {
      if (!/^[\x21-\x7e]+$/.test(d)) throw new CertificateError(`invalid DNS name '${d}'`);
      return context(2, false, new TextEncoder().encode(d));
    }),
    ...(opts.ipAddresses ?? []).map((ip) => context(7, false, ipBytes(ip))),
  ];
  if (names.length > 0) exts.push(extension(OID.subjectAltName, false, sequence(...names)));
  exts.push(extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(subjectSpki))));
  exts.push(extension(OID.authorityKeyIdentifier, false, sequence(context(0, false, authorityKeyId))));

  const tbs = sequence(
    context(0, true, integer(2)), // version v3
    integer(serial),
    scheme.algorithm,
    issuerName,
    sequence(time(notBefore), time(opts.notAfter)),
    subject,
    subjectSpki,
    context(3, true, sequence(...exts)),
  );
  const signature = sign(scheme.hash, tbs, { key: opts.signingKey, dsaEncoding: 'der' });
  return toPem('CERTIFICATE', sequence(tbs, scheme.algorithm, bitString(signature)));
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The TLS client credential a KES client derives from an API key (docs/protocol.md#api-keys): a self-signed
 * Ed25519 certificate with CN = identity, valid from now for 90 days, clientAuth only.
 * Returns the certificate and the private key (PKCS#8), both PEM.
 */
export function clientCertificateOfApiKey(apiKey: ApiKey): { cert: string; key: string } {
  const now = new Date();
  const cert = createCertificate({
    commonName: apiKey.identity,
    publicKey: apiKey.publicKey,
    signingKey: apiKey.privateKey,
    notBefore: now,
    notAfter: new Date(now.getTime() + 90 * DAY_MS),
    extKeyUsage: ['clientAuth'],
  });
  const key = apiKey.privateKey.export({ type: 'pkcs8', format: 'pem' });
  return { cert, key: typeof key === 'string' ? key : key.toString('utf8') };
}

export type KeyKind = 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048' | 'ed25519';

/** A fresh key pair; `privateKeyPem` is the private key as unencrypted PKCS#8 PEM. */
export function createKeyPair(kind: KeyKind): { privateKey: KeyObject; publicKey: KeyObject; privateKeyPem: string } {
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  switch (kind) {
    case 'ecdsa-p256':
      pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      break;
    case 'ecdsa-p384':
      pair = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      break;
    case 'rsa-2048':
      pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      break;
    case 'ed25519':
      pair = generateKeyPairSync('ed25519');
      break;
    default: {
      const never: never = kind;
      throw new CertificateError(`unknown key kind '${String(never)}'`);
    }
  }
  const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' });
  return { ...pair, privateKeyPem: typeof pem === 'string' ? pem : pem.toString('utf8') };
}
