/**
 * Child process of `captureStack`: node capture-run.ts REQUEST.json RESULT.json. Installs the
 * mocks (through the one SDK adapter, components/testing/sdk.ts), sets the stack config, imports the
 * program, waits until every registration is answered and writes the capture (mode 0600).
 */
import * as pulumi from '@pulumi/pulumi';
import { readFileSync, writeFileSync } from 'node:fs';
import { allRegistered, isSecretValue, startMockMonitor } from '../components/testing/sdk.ts';
import type { Capture, CapturedResource } from './capture.ts';
import { computeLocal } from './local.ts';
import { tokenMaker } from './tokens.ts';

const [requestFile, resultFile] = process.argv.slice(2);
const request = JSON.parse(readFileSync(requestFile, 'utf8')) as { project: string; stack: string; config: Record<string, string>; secretKeys: string[] };

/** Outputs a provider computes on creation that the program may read, per type (beyond `id`). */
const COMPUTED: Record<string, readonly string[]> = {
  'docker:index/remoteImage:RemoteImage': ['imageId', 'repoDigest'],
  'docker:index/image:Image': ['repoDigest'],
  'vault:appRole/authBackendRole:AuthBackendRole': ['roleId'],
  'vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId': ['secretId', 'accessor'],
};

/** Inputs with every secret unwrapped. */
function plain(v: unknown): any {
  if (isSecretValue(v)) return plain(v.value);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}
const containsSecret = (v: unknown): boolean =>
  isSecretValue(v) || (Array.isArray(v) ? v.some(containsSecret) : typeof v === 'object' && v !== null && Object.values(v).some(containsSecret));

/** `<type>::<name>` of a URN (`urn:pulumi:stack::project::parent$type::name`). */
const keyOfUrn = (urn: string) => {
  const parts = urn.split('::');
  return `${parts[2].split('$').pop()}::${parts.slice(3).join('::')}`;
};

const tokens = tokenMaker();
/** Outputs computed at capture (tls and random, for real), by key. */
const local = new Map<string, Record<string, unknown>>();
const compute = (type: string, name: string, inputs: Record<string, any>) => {
  const key = `${type}::${name}`;
  const computed = computeLocal(type, name, plain(inputs));
  if (computed) local.set(key, computed);
  // What a provider computes on creation is a token until realization.
  return { ...Object.fromEntries((COMPUTED[type] ?? []).map((f) => [f, tokens.make(key, f)])), ...computed };
};
const registrations = await startMockMonitor(request.project, request.stack, compute, (type, name) => tokens.make(`${type}::${name}`, 'id'));

pulumi.runtime.setAllConfig(request.config, request.secretKeys);
const program = (await import(new URL('../stacks/index.ts', import.meta.url).href)) as Record<string, unknown>;

await allRegistered();
const resources: CapturedResource[] = registrations.map((r) => {
  const key = `${r.type}::${r.name}`;
  return {
    key,
    type: r.type,
    name: r.name,
    custom: r.custom !== false,
    parent: r.parent ? keyOfUrn(r.parent) : '',
    dependencies: [...new Set(r.dependencies.map(keyOfUrn))].sort(),
    // A provider reference is `<urn>::<id>`.
    provider: r.provider ? keyOfUrn(r.provider.split('::').slice(0, -1).join('::')) : undefined,
    inputs: plain(r.inputs),
    secretInputs: Object.keys(r.inputs).filter((k) => containsSecret(r.inputs[k])),
    outputs: local.get(key) ?? {},
    retainOnDelete: r.retainOnDelete,
  };
});
const keys = resources.map((r) => r.key);
const twice = keys.find((k, i) => keys.indexOf(k) !== i);
if (twice) throw new Error(`realize: two resources named ${twice}`);

const resolve = (v: unknown) => new Promise<unknown>((ok) => (pulumi.output(v as pulumi.Input<unknown>) as pulumi.Output<unknown>).apply((x) => ok(x)));
const exports: Record<string, unknown> = {};
for (const [k, v] of Object.entries(program)) exports[k] = await resolve(v);

const capture: Capture = { project: request.project, stack: request.stack, resources, exports, tokens: tokens.origin };
writeFileSync(resultFile, JSON.stringify(capture), { mode: 0o600 });
// Pending mock timers would keep the process alive.
process.exit(0);
