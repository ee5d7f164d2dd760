/**
 * Pulumi mocks for component tests: every registered resource is recorded, invokes are refused,
 * and computed outputs are realistic (real PEM keys and certificates from node:crypto and the KES
 * X.509 builder, role ids, secret ids, random bytes). Call `installMocks()` once per test file
 * before importing any module that declares resources.
 */
import * as pulumi from '@pulumi/pulumi';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createCertificate } from '../../kes-server/src/tls/x509.ts';

/** One `newResource` call. */
export interface Recorded {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  readonly provider: string | undefined;
  readonly custom: boolean | undefined;
}

function pemKeyPair(): { privateKeyPem: string; publicKeyPem: string; privateKeyPemPkcs8: string } {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: pair.privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
    privateKeyPemPkcs8: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function certPem(cn: string, isCA: boolean): string {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return createCertificate({ commonName: cn, publicKey: pair.publicKey, signingKey: pair.privateKey, notAfter: new Date(Date.now() + 86_400_000), isCA, dnsNames: isCA ? [] : ['localhost'] });
}

function computed(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  switch (type) {
    case 'tls:index/privateKey:PrivateKey':
      return pemKeyPair();
    case 'tls:index/selfSignedCert:SelfSignedCert':
      return { certPem: certPem(inputs.subject?.commonName ?? name, inputs.isCaCertificate === true) };
    case 'tls:index/locallySignedCert:LocallySignedCert':
      return { certPem: certPem(name, false) };
    case 'tls:index/certRequest:CertRequest':
      return { certRequestPem: `-----BEGIN CERTIFICATE REQUEST-----\n${name}\n-----END CERTIFICATE REQUEST-----\n` };
    case 'vault:appRole/authBackendRole:AuthBackendRole':
      return { roleId: `role-id-of-${name}` };
    case 'vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId':
      return { secretId: `secret-id-of-${name}`, accessor: `accessor-of-${name}` };
    case 'random:index/randomBytes:RandomBytes': {
      const b = randomBytes(inputs.length ?? 32);
      return { base64: b.toString('base64'), hex: b.toString('hex') };
    }
    case 'random:index/randomPassword:RandomPassword':
      return { result: randomBytes(24).toString('hex').slice(0, inputs.length ?? 24) };
    case 'docker:index/image:Image':
      return { repoDigest: `${inputs.imageName}@sha256:${'1'.repeat(64)}` };
    case 'docker:index/remoteImage:RemoteImage':
      return { imageId: `sha256:${'2'.repeat(64)}`, repoDigest: `${inputs.name}@sha256:${'2'.repeat(64)}` };
    default:
      return {};
  }
}

/** Installs the mocks; returns the live list of recorded resources and lookup helpers. */
export async function installMocks(project = 'minio-sse-kes', stack = 'test') {
  const resources: Recorded[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider, custom: args.custom });
        return { id: args.custom === false ? undefined : `${args.name}-id`, state: { ...args.inputs, ...computed(args.type, args.name, args.inputs) } };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        throw new Error(`unexpected invoke ${args.token}`);
      },
    },
    project,
    stack,
    false,
  );
  const find = (type: string, name: string): Recorded => {
    const r = resources.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} named ${name}; have: ${resources.map((x) => `${x.type} ${x.name}`).join(', ')}`);
    return r;
  };
  return {
    resources,
    find,
    byType: (type: string) => resources.filter((r) => r.type === type),
    /** URN the mock monitor gave a resource; its type chain names every ancestor (`Parent$Child`). */
    urnOf(type: string, name: string): string {
      const monitor = pulumi.runtime.getMonitor() as unknown as { getRegisteredResources(): Map<string, unknown> };
      const urns = [...monitor.getRegisteredResources().keys()].filter((u) => u.endsWith(`::${name}`) && u.split('::')[2].split('$').pop() === type);
      if (urns.length !== 1) throw new Error(`expected one URN for ${type} ${name}, found ${urns.length}`);
      return urns[0];
    },
  };
}

/** The immediate parent type of a URN (`undefined` at the stack root). */
export function parentTypeOfUrn(urn: string): string | undefined {
  const chain = urn.split('::')[2].split('$');
  return chain.length > 1 ? chain[chain.length - 2] : undefined;
}

/** Resolves an Output (or plain value) to its value. */
export function value<T>(o: pulumi.Input<T> | undefined): Promise<T> {
  return new Promise((resolve) => pulumi.output(o as pulumi.Input<T>).apply((v) => resolve(v as T)));
}

/** Whether an Output is marked secret. */
export async function secret(o: pulumi.Output<unknown> | undefined): Promise<boolean> {
  if (o === undefined) throw new Error('output is undefined');
  return pulumi.isSecret(o);
}

/** Waits until every resource registration in flight has been recorded. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

// How the mock monitor hands a secret input to `newResource`: `{ [SIG]: SECRET_SIG, value }`.
const SIG = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

/** Whether a recorded input value was a secret. */
export function isSecretInput(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as Record<string, unknown>)[SIG] === SECRET_SIG;
}

/** A recorded input value with every secret wrapper removed (recursively). */
export function plain(v: unknown): any {
  if (isSecretInput(v)) return plain((v as { value: unknown }).value);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** Whether a recorded input value is, or contains, a secret. */
export function containsSecret(v: unknown): boolean {
  if (isSecretInput(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (typeof v === 'object' && v !== null) return Object.values(v).some(containsSecret);
  return false;
}
