/**
 * Pulumi mocks for component tests: every registered resource is recorded (inputs, outputs,
 * parent, dependencies, provider), invokes are refused, and computed outputs are realistic:
 * `tls.PrivateKey` returns a real P-256 key pair from node:crypto, `tls.SelfSignedCert` a real
 * certificate signed by the given key, `tls.LocallySignedCert` a real certificate for the public
 * key of its request, with the request's subject and SANs, signed by the given CA key and issuer.
 * The certificate request itself is a mock token (no DER CSR) that the signing mock resolves.
 * Call `installMocks()` once per test file before importing any module that declares resources.
 */
import * as pulumi from '@pulumi/pulumi';
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createCertificate } from '../../kes-server/src/tls/x509.ts';
import type { ExtKeyUsage } from '../../kes-server/src/tls/x509.ts';

/** One `newResource` call. */
export interface Recorded {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  /** The state the mock returned (inputs plus computed outputs). */
  readonly outputs: Record<string, any>;
  readonly provider: string | undefined;
  readonly custom: boolean | undefined;
  /** URN of the parent ('' at the stack root). */
  readonly parent: string;
  /** URNs this resource waits for (explicit `dependsOn`, expanded through components, and inputs). */
  readonly dependencies: readonly string[];
}

function pemKeyPair(): { privateKeyPem: string; publicKeyPem: string; privateKeyPemPkcs8: string } {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: pair.privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
    privateKeyPemPkcs8: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

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

function computed(type: string, name: string, raw: Record<string, any>): Record<string, unknown> {
  const inputs = plain(raw);
  const notAfter = new Date(Date.now() + (inputs.validityPeriodHours ?? 24) * 3_600_000);
  switch (type) {
    case 'tls:index/privateKey:PrivateKey':
      return pemKeyPair();
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
      };
    }
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

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
}

/** Installs the mocks; returns the live list of recorded resources and lookup helpers. */
export async function installMocks(project = 'minio-sse-kes', stack = 'test') {
  const resources: Recorded[] = [];
  const graph = new Map<string, { parent: string; dependencies: string[] }>();
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const state = { ...args.inputs, ...computed(args.type, args.name, args.inputs) };
        const g = graph.get(`${args.type}::${args.name}`) ?? { parent: '', dependencies: [] };
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, outputs: state, provider: args.provider, custom: args.custom, ...g });
        return { id: args.custom === false ? undefined : `${args.name}-id`, state };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        throw new Error(`unexpected invoke ${args.token}`);
      },
    },
    project,
    stack,
    false,
  );
  // The mock monitor passes parent and dependencies to no callback: note them per registration.
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): unknown };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    graph.set(`${req.getType()}::${req.getName()}`, { parent: req.getParent(), dependencies: req.getDependenciesList() });
    return register(req, cb);
  };
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
