/**
 * KesPki: the CA (generated or supplied), the KES server certificate with the target's SANs, the
 * admin key, MinIO's credential (CA-signed client certificate or `kes:v1:` API key), optionally a
 * KES→Vault client certificate; identities are computed in the program from the public keys.
 */
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import * as tls from '@pulumi/tls';
import { caCertSpec, clientCertSpec, kesApiKeyOfSeed, kesIdentityOfPublicKeyPem, serverCertSpec, tlsCertArgs } from './render/pki.ts';
import type { CertSpec } from './render/pki.ts';
import { rethrowAsResourceError } from './errors.ts';

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
}

/** A signed key pair. `privateKeyPem` is secret. */
export interface KeyPairOutputs {
  readonly certPem: pulumi.Output<string>;
  readonly privateKeyPem: pulumi.Output<string>;
}

/** TLS material and KES identities. */
export class KesPki extends pulumi.ComponentResource {
  public readonly caCertPem: pulumi.Output<string>;
  public readonly server: KeyPairOutputs;
  public readonly admin: KeyPairOutputs;
  public readonly adminIdentity: pulumi.Output<string>;
  public readonly minioIdentity: pulumi.Output<string>;
  /** MinIO's `kes:v1:` API key (secret), when `minioAuth` is `apiKey`. */
  public readonly minioApiKey?: pulumi.Output<string>;
  /** MinIO's client certificate and key, when `minioAuth` is `certificate`. */
  public readonly minioClient?: KeyPairOutputs;
  public readonly vaultClient?: KeyPairOutputs;

  constructor(name: string, args: KesPkiArgs, opts?: pulumi.ComponentResourceOptions) {
    super('minio-sse-kes:index:KesPki', name, args, opts);
    const minioAuth = args.minioAuth ?? 'apiKey';
    if (minioAuth !== 'apiKey' && minioAuth !== 'certificate') {
      throw new pulumi.ResourceError(`KesPki: invalid [minioAuth]: must be 'apiKey' or 'certificate'`, this);
    }
    let specs: { ca: CertSpec; server: CertSpec; admin: CertSpec; minio: CertSpec; vault: CertSpec };
    try {
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
    if (args.ca) {
      caCertPem = pulumi.output(args.ca.certPem);
      caKeyPem = pulumi.secret(args.ca.privateKeyPem);
    } else {
      const caKey = newKey('ca');
      const ca = new tls.SelfSignedCert(`${name}-ca`, { privateKeyPem: caKey.privateKeyPem, ...tlsCertArgs(specs.ca) }, parent);
      caCertPem = ca.certPem;
      caKeyPem = pulumi.secret(caKey.privateKeyPem);
    }

    const issue = (role: string, spec: CertSpec): KeyPairOutputs & { publicKeyPem: pulumi.Output<string> } => {
      const key = newKey(role);
      const { subject, dnsNames, ipAddresses, ...signing } = tlsCertArgs(spec);
      const csr = new tls.CertRequest(`${name}-${role}-csr`, { privateKeyPem: key.privateKeyPem, subject, dnsNames, ipAddresses }, parent);
      const cert = new tls.LocallySignedCert(
        `${name}-${role}-cert`,
        { certRequestPem: csr.certRequestPem, caCertPem, caPrivateKeyPem: caKeyPem, ...signing },
        parent,
      );
      return { certPem: cert.certPem, privateKeyPem: pulumi.secret(key.privateKeyPem), publicKeyPem: key.publicKeyPem };
    };

    const server = issue('kes-server', specs.server);
    const admin = issue('admin', specs.admin);
    this.caCertPem = caCertPem;
    this.server = { certPem: server.certPem, privateKeyPem: server.privateKeyPem };
    this.admin = { certPem: admin.certPem, privateKeyPem: admin.privateKeyPem };
    this.adminIdentity = admin.publicKeyPem.apply(kesIdentityOfPublicKeyPem);

    if (minioAuth === 'certificate') {
      const minio = issue('minio', specs.minio);
      this.minioClient = { certPem: minio.certPem, privateKeyPem: minio.privateKeyPem };
      this.minioIdentity = minio.publicKeyPem.apply(kesIdentityOfPublicKeyPem);
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
      minioApiKey: this.minioApiKey,
      minioClient: this.minioClient,
      vaultClient: this.vaultClient,
    });
  }
}
