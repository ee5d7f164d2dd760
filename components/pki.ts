/**
 * KesPki: the CA (generated or supplied), the KES server certificate with the target's SANs, the
 * admin key, MinIO's credential (CA-signed client certificate or `kes:v1:` API key), optionally a
 * KES→Vault client certificate; identities are computed in the program from the public keys.
 */
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import * as tls from '@pulumi/tls';
import { X509Certificate } from 'node:crypto';
import { caCertSpec, clientCertSpec, kesApiKeyOfSeed, kesIdentityOfPublicKeyPem, serverCertSpec, tlsCertArgs } from './render/pki.ts';
import type { CertSpec } from './render/pki.ts';
import { rethrowAsResourceError } from './errors.ts';
import { requireInt, requireOneOf } from './render/validate.ts';

/** Arguments of `KesPki`. */
export interface KesPkiArgs {
  /** SANs of the KES server certificate (see `kesServerSans`). */
  readonly serverSans: { readonly dnsNames: readonly string[]; readonly ipAddresses: readonly string[] };
  /** An existing CA to sign with; default: a new self-signed CA. */
  readonly ca?: { readonly certPem: pulumi.Input<string>; readonly privateKeyPem: pulumi.Input<string> };
  /** How MinIO authenticates to KES; default `apiKey`. */
  readonly minioAuth?: 'apiKey' | 'certificate';
  /** Also issue a client certificate KES presents to Vault (mTLS); default false. */
  readonly vaultClientCertificate?: boolean;
  /** Validity of the CA and of the leaf certificates; defaults 10 years / 1 year. */
  readonly caValidityHours?: number;
  readonly leafValidityHours?: number;
  /** Renew a certificate on the first `pulumi up` this many hours before it expires; default 720 (30 days). */
  readonly earlyRenewalHours?: number;
}

/** Default of `KesPkiArgs.earlyRenewalHours`. */
export const DEFAULT_EARLY_RENEWAL_HOURS = 720;

/** A signed key pair. `privateKeyPem` is secret. */
export interface KeyPairOutputs {
  readonly certPem: pulumi.Output<string>;
  readonly privateKeyPem: pulumi.Output<string>;
}

/** TLS material and KES identities. */
export class KesPki extends pulumi.ComponentResource {
  /** The CA certificate (generated or given). */
  public readonly caCertPem: pulumi.Output<string>;
  /** KES's server certificate and key. */
  public readonly server: KeyPairOutputs;
  /** The admin's client certificate and key (for the `kes` CLI). */
  public readonly admin: KeyPairOutputs;
  /** Hex SHA-256 identity of the admin key. */
  public readonly adminIdentity: pulumi.Output<string>;
  /** Hex SHA-256 identity MinIO presents. */
  public readonly minioIdentity: pulumi.Output<string>;
  /** Expiry (RFC 3339) of the CA and of each certificate issued here. */
  public readonly expiry: { ca: pulumi.Output<string>; kesServer: pulumi.Output<string>; admin: pulumi.Output<string>; minio?: pulumi.Output<string> };
  /** MinIO's `kes:v1:` API key (secret), when `minioAuth` is `apiKey`. */
  public readonly minioApiKey?: pulumi.Output<string>;
  /** MinIO's client certificate and key, when `minioAuth` is `certificate`. */
  public readonly minioClient?: KeyPairOutputs;
  /** KES's client certificate and key for Vault (mTLS), when `vaultClientCertificate`. */
  public readonly vaultClient?: KeyPairOutputs;

  constructor(name: string, args: KesPkiArgs, opts?: pulumi.ComponentResourceOptions) {
    // Inputs stay out of the component's own state: a given CA comes with its private key.
    super('minio-sse-kes:index:KesPki', name, {}, opts);
    const minioAuth = args.minioAuth ?? 'apiKey';
    const earlyRenewalHours = args.earlyRenewalHours ?? DEFAULT_EARLY_RENEWAL_HOURS;
    let specs: { ca: CertSpec; server: CertSpec; admin: CertSpec; minio: CertSpec; vault: CertSpec };
    try {
      requireOneOf('minioAuth', minioAuth, ['apiKey', 'certificate']);
      requireInt('earlyRenewalHours', earlyRenewalHours, 0, 8760);
      specs = {
        ca: caCertSpec(`${name} KES CA`, args.caValidityHours),
        server: serverCertSpec('kes', args.serverSans, args.leafValidityHours),
        admin: clientCertSpec('kes-admin', args.leafValidityHours),
        minio: clientCertSpec('minio', args.leafValidityHours),
        vault: clientCertSpec('kes-vault-client', args.leafValidityHours),
      };
    } catch (e) {
      rethrowAsResourceError('KesPki', e, this);
    }
    const parent = { parent: this };
    const newKey = (role: string) => new tls.PrivateKey(`${name}-${role}-key`, { algorithm: 'ECDSA', ecdsaCurve: 'P256' }, parent);

    let caCertPem: pulumi.Output<string>;
    let caKeyPem: pulumi.Output<string>;
    let caExpiry: pulumi.Output<string>;
    if (args.ca) {
      caCertPem = pulumi.output(args.ca.certPem);
      caKeyPem = pulumi.secret(args.ca.privateKeyPem);
      caExpiry = caCertPem.apply((pem) => new X509Certificate(pem).validToDate.toISOString());
    } else {
      const caKey = newKey('ca');
      const ca = new tls.SelfSignedCert(`${name}-ca`, { privateKeyPem: caKey.privateKeyPem, earlyRenewalHours, ...tlsCertArgs(specs.ca) }, parent);
      caCertPem = ca.certPem;
      caExpiry = ca.validityEndTime;
      caKeyPem = pulumi.secret(caKey.privateKeyPem);
    }

    const issue = (role: string, spec: CertSpec): KeyPairOutputs & { publicKeyPem: pulumi.Output<string>; expiry: pulumi.Output<string> } => {
      const key = newKey(role);
      const { subject, dnsNames, ipAddresses, ...signing } = tlsCertArgs(spec);
      const csr = new tls.CertRequest(`${name}-${role}-csr`, { privateKeyPem: key.privateKeyPem, subject, dnsNames, ipAddresses }, parent);
      const cert = new tls.LocallySignedCert(
        `${name}-${role}-cert`,
        { certRequestPem: csr.certRequestPem, caCertPem, caPrivateKeyPem: caKeyPem, earlyRenewalHours, ...signing },
        parent,
      );
      return { certPem: cert.certPem, privateKeyPem: pulumi.secret(key.privateKeyPem), publicKeyPem: key.publicKeyPem, expiry: cert.validityEndTime };
    };

    const server = issue('kes-server', specs.server);
    const admin = issue('admin', specs.admin);
    this.caCertPem = caCertPem;
    this.server = { certPem: server.certPem, privateKeyPem: server.privateKeyPem };
    this.admin = { certPem: admin.certPem, privateKeyPem: admin.privateKeyPem };
    this.adminIdentity = admin.publicKeyPem.apply(kesIdentityOfPublicKeyPem);
    this.expiry = { ca: caExpiry, kesServer: server.expiry, admin: admin.expiry };

    if (minioAuth === 'certificate') {
      const minio = issue('minio', specs.minio);
      this.minioClient = { certPem: minio.certPem, privateKeyPem: minio.privateKeyPem };
      this.minioIdentity = minio.publicKeyPem.apply(kesIdentityOfPublicKeyPem);
      this.expiry.minio = minio.expiry;
    } else {
      const seed = new random.RandomBytes(`${name}-minio-api-key-seed`, { length: 32 }, parent);
      const derived = pulumi.secret(seed.base64).apply((b64) => kesApiKeyOfSeed(Buffer.from(b64, 'base64')));
      this.minioApiKey = pulumi.secret(derived.apply((d) => d.apiKey));
      // The identity is a public hash of the public key.
      this.minioIdentity = pulumi.unsecret(derived.apply((d) => d.identity));
    }
    if (args.vaultClientCertificate) {
      const v = issue('vault-client', specs.vault);
      this.vaultClient = { certPem: v.certPem, privateKeyPem: v.privateKeyPem };
    }
    this.registerOutputs({
      caCertPem: this.caCertPem,
      server: this.server,
      admin: this.admin,
      adminIdentity: this.adminIdentity,
      minioIdentity: this.minioIdentity,
      expiry: this.expiry,
      minioApiKey: this.minioApiKey,
      minioClient: this.minioClient,
      vaultClient: this.vaultClient,
    });
  }
}
