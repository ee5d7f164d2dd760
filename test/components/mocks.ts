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
import { computeLocal } from '../../realize/local.ts';
import { installMocks as installKitMocks, plain } from '../../components/testing/index.ts';
import type { Mocked, Registration } from '../../components/testing/index.ts';

export { containsSecret, isSecretInput, plain, settle, value } from '../../components/testing/index.ts';

/** One recorded registration. */
export type Recorded = Registration;

/** The certificate types computed for real (as `realize/` computes them); the rest comes from the package. */
const CERTIFICATES = new Set(['tls:index/selfSignedCert:SelfSignedCert', 'tls:index/certRequest:CertRequest', 'tls:index/locallySignedCert:LocallySignedCert']);

/** Real certificates in place of the package mocks' placeholders. */
export function computed(type: string, name: string, raw: Record<string, any>): Record<string, unknown> {
  return CERTIFICATES.has(type) ? (computeLocal(type, name, plain(raw)) ?? {}) : {};
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
