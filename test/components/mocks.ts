/**
 * Pulumi mocks for component tests: the package's own (`minio-sse-kes/testing`: every registered
 * resource recorded with inputs, outputs, parent, dependencies, provider; invokes refused; real
 * key pairs, ids and random values), plus real certificates: `tls.SelfSignedCert` a real
 * certificate signed by the given key, `tls.LocallySignedCert` a real certificate for the public
 * key of its request, with the request's subject and SANs, signed by the given CA key and issuer.
 * The certificate request itself is a mock token (no DER CSR) that the signing mock resolves.
 * Call `installMocks()` once per test file before importing any module that declares resources.
 */
import * as pulumi from '@pulumi/pulumi';
import { X509Certificate, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { createCertificate } from '../../kes-server/src/tls/x509.ts';
import { installMocks as installKitMocks, plain } from '../../components/testing/index.ts';
import type { Mocked, Registration } from '../../components/testing/index.ts';
import type { ExtKeyUsage } from '../../kes-server/src/tls/x509.ts';

export { containsSecret, isSecretInput, plain, settle, value } from '../../components/testing/index.ts';

/** One recorded registration. */
export type Recorded = Registration;

const extKeyUsage = (uses: unknown): ExtKeyUsage[] =>
  (Array.isArray(uses) ? uses : []).filter((u): u is ExtKeyUsage => u === 'serverAuth' || u === 'clientAuth');

interface PendingRequest {
  readonly privateKeyPem: string;
  readonly commonName: string;
  readonly dnsNames: string[];
  readonly ipAddresses: string[];
}

/** Certificate requests by their mock PEM token. */
const requests = new Map<string, PendingRequest>();

/** Real certificates in place of the package mocks' placeholders; the rest comes from the package. */
export function computed(type: string, name: string, raw: Record<string, any>): Record<string, unknown> {
  const inputs = plain(raw);
  const notAfter = new Date(Date.now() + (inputs.validityPeriodHours ?? 24) * 3_600_000);
  const validityEndTime = notAfter.toISOString();
  switch (type) {
    case 'tls:index/selfSignedCert:SelfSignedCert': {
      const key = createPrivateKey(inputs.privateKeyPem);
      return {
        certPem: createCertificate({
          commonName: inputs.subject?.commonName ?? name,
          publicKey: createPublicKey(key),
          signingKey: key,
          notAfter,
          isCA: inputs.isCaCertificate === true,
          dnsNames: inputs.dnsNames ?? [],
          ipAddresses: inputs.ipAddresses ?? [],
          extKeyUsage: extKeyUsage(inputs.allowedUses),
        }),
        validityEndTime,
      };
    }
    case 'tls:index/certRequest:CertRequest': {
      const token = `-----BEGIN CERTIFICATE REQUEST-----\nmock ${name} ${randomBytes(8).toString('hex')}\n-----END CERTIFICATE REQUEST-----\n`;
      requests.set(token, { privateKeyPem: inputs.privateKeyPem, commonName: inputs.subject?.commonName ?? name, dnsNames: inputs.dnsNames ?? [], ipAddresses: inputs.ipAddresses ?? [] });
      return { certRequestPem: token };
    }
    case 'tls:index/locallySignedCert:LocallySignedCert': {
      const req = requests.get(inputs.certRequestPem);
      if (!req) throw new Error(`mock: ${name} refers to an unknown certificate request`);
      return {
        certPem: createCertificate({
          commonName: req.commonName,
          publicKey: createPublicKey(req.privateKeyPem),
          signingKey: createPrivateKey(inputs.caPrivateKeyPem),
          issuer: new X509Certificate(inputs.caCertPem),
          notAfter,
          isCA: inputs.isCaCertificate === true,
          dnsNames: req.dnsNames,
          ipAddresses: req.ipAddresses,
          extKeyUsage: extKeyUsage(inputs.allowedUses),
        }),
        validityEndTime,
      };
    }
    default:
      return {};
  }
}

/** Installs the package's mocks with real certificates; returns the recorder. */
export function installMocks(project = 'minio-sse-kes', stack = 'test'): Promise<Mocked> {
  return installKitMocks({ project, stack, outputs: computed });
}

/** Type and name of the resource a URN names. */
export function urnParts(urn: string): { type: string; name: string } {
  const parts = urn.split('::');
  return { type: parts[2].split('$').pop() as string, name: parts.slice(3).join('::') };
}

/** The immediate parent type of a URN (`undefined` at the stack root). */
export function parentTypeOfUrn(urn: string): string | undefined {
  const chain = urn.split('::')[2].split('$');
  return chain.length > 1 ? chain[chain.length - 2] : undefined;
}

/** Whether an Output is marked secret. */
export async function secret(o: pulumi.Output<unknown> | undefined): Promise<boolean> {
  if (o === undefined) throw new Error('output is undefined');
  return pulumi.isSecret(o);
}
