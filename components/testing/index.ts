/**
 * `minio-sse-kes/testing`: Pulumi mocks for unit-testing a stack built from these components.
 * Every registered resource is recorded (inputs, outputs, parent, dependencies, provider), and the
 * outputs the components read are computed: real P-256 key pairs for `tls.PrivateKey`, role and
 * secret ids, random values, image ids. Certificates are placeholders (no real X.509) unless a
 * `outputs` hook supplies them.
 *
 * ```ts
 * import { installMocks } from 'minio-sse-kes/testing';
 * const m = await installMocks({ stack: 'dev' });
 * const { MinioSseKes } = await import('minio-sse-kes');
 * new MinioSseKes('sse', { ... });
 * await m.settle();
 * m.byType('docker:index/container:Container');
 * ```
 */
import * as pulumi from '@pulumi/pulumi';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { allRegistered, isSecretValue, startMockMonitor } from './sdk.ts';
import type { ComputeOutputs, Registration } from './sdk.ts';

export type { ComputeOutputs, Registration } from './sdk.ts';

/** Options of `installMocks`. */
export interface MockOptions {
  /** Project and stack names the program sees; defaults `minio-sse-kes` and `test`. */
  readonly project?: string;
  readonly stack?: string;
  /** Extra computed outputs; its result wins over the defaults (e.g. real certificates). */
  readonly outputs?: ComputeOutputs;
}

/** The recorded resources and lookups over them. */
export interface Mocked {
  /** Every registration so far, in completion order (live). */
  readonly resources: readonly Registration[];
  /** The resource of `type` named `name`; throws listing what exists when there is none. */
  find(type: string, name: string): Registration;
  byType(type: string): Registration[];
  /** URN of the resource of `type` named `name`; its type chain names every ancestor. */
  urnOf(type: string, name: string): string;
  /** Waits until every registration in flight has been recorded. */
  settle(): Promise<void>;
}

function keyPair(): Record<string, string> {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: pair.privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
    privateKeyPemPkcs8: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const placeholderPem = (label: string, name: string) =>
  `-----BEGIN ${label}-----\n${Buffer.from(`mock ${label.toLowerCase()} of ${name}`).toString('base64')}\n-----END ${label}-----\n`;

/** The outputs the components read, for the providers they use. */
export const defaultOutputs: ComputeOutputs = (type, name, raw) => {
  const inputs = plain(raw);
  const validityEndTime = new Date(Date.now() + (inputs.validityPeriodHours ?? 24) * 3_600_000).toISOString();
  switch (type) {
    case 'tls:index/privateKey:PrivateKey':
      return keyPair();
    case 'tls:index/selfSignedCert:SelfSignedCert':
    case 'tls:index/locallySignedCert:LocallySignedCert':
      return { certPem: placeholderPem('CERTIFICATE', name), validityEndTime };
    case 'tls:index/certRequest:CertRequest':
      return { certRequestPem: placeholderPem('CERTIFICATE REQUEST', name) };
    case 'vault:appRole/authBackendRole:AuthBackendRole':
      return { roleId: `role-id-of-${name}` };
    case 'vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId':
      return { secretId: `secret-id-of-${name}`, accessor: `accessor-of-${name}` };
    case 'random:index/randomBytes:RandomBytes': {
      const b = randomBytes(inputs.length ?? 32);
      return { base64: b.toString('base64'), hex: b.toString('hex') };
    }
    case 'random:index/randomPassword:RandomPassword':
      return { result: randomBytes(48).toString('hex').slice(0, inputs.length ?? 24) };
    case 'docker:index/image:Image':
      return { repoDigest: `${inputs.imageName}@sha256:${'1'.repeat(64)}` };
    case 'docker:index/remoteImage:RemoteImage':
      return { imageId: `sha256:${'2'.repeat(64)}`, repoDigest: `${inputs.name}@sha256:${'2'.repeat(64)}` };
    default:
      return {};
  }
};

/** Installs the mocks (call before importing the program or the components); returns the recorder. */
export async function installMocks(options: MockOptions = {}): Promise<Mocked> {
  const extra = options.outputs;
  const resources = await startMockMonitor(options.project ?? 'minio-sse-kes', options.stack ?? 'test', (type, name, inputs) => ({
    ...defaultOutputs(type, name, inputs),
    ...extra?.(type, name, inputs),
  }));
  const find = (type: string, name: string): Registration => {
    const r = resources.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} named ${name}; have: ${resources.map((x) => `${x.type} ${x.name}`).join(', ')}`);
    return r;
  };
  return {
    resources,
    find,
    byType: (type) => resources.filter((r) => r.type === type),
    urnOf: (type, name) => find(type, name).urn,
    settle: allRegistered,
  };
}

/** Waits until every registration in flight has been recorded. */
export const settle = allRegistered;

/** Whether a recorded input value was a secret. */
export const isSecretInput = isSecretValue;

/** A recorded input value with every secret wrapper removed (recursively). */
export function plain(v: unknown): any {
  if (isSecretValue(v)) return plain(v.value);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** Whether a recorded input value is, or contains, a secret. */
export function containsSecret(v: unknown): boolean {
  if (isSecretValue(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (typeof v === 'object' && v !== null) return Object.values(v).some(containsSecret);
  return false;
}

/** Resolves an Output (or plain value) to its value. */
export function value<T>(o: pulumi.Input<T> | undefined): Promise<T> {
  return new Promise((resolve) => pulumi.output(o as pulumi.Input<T>).apply((v) => resolve(v as T)));
}
