/**
 * Child process of `captureStack`: node capture-run.ts REQUEST.json RESULT.json. Installs the
 * mocks, sets the stack config, imports the program, waits until no registration is in flight and
 * writes the capture (mode 0600).
 */
import * as pulumi from '@pulumi/pulumi';
import { readFileSync, writeFileSync } from 'node:fs';
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

// How the mock monitor hands a secret value to `newResource`.
const SIG = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';
const isSecret = (v: unknown) => typeof v === 'object' && v !== null && (v as Record<string, unknown>)[SIG] === SECRET_SIG;
function plain(v: unknown): any {
  if (isSecret(v)) return plain((v as { value: unknown }).value);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}
const containsSecret = (v: unknown): boolean =>
  isSecret(v) || (Array.isArray(v) ? v.some(containsSecret) : typeof v === 'object' && v !== null && Object.values(v).some(containsSecret));

/** `<type>::<name>` of a URN (`urn:pulumi:stack::project::parent$type::name`). */
const keyOfUrn = (urn: string) => {
  const parts = urn.split('::');
  return `${parts[2].split('$').pop()}::${parts.slice(3).join('::')}`;
};

const tokens = tokenMaker();
const resources: CapturedResource[] = [];
const graph = new Map<string, { parent: string; dependencies: string[]; provider: string; retain: boolean }>();

await pulumi.runtime.setMocks(
  {
    newResource(args) {
      const key = `${args.type}::${args.name}`;
      if (resources.some((r) => r.key === key)) throw new Error(`realize: two resources named ${key}`);
      const inputs = plain(args.inputs) as Record<string, any>;
      const local = args.custom ? computeLocal(args.type, args.name, inputs) : undefined;
      const computed = Object.fromEntries((COMPUTED[args.type] ?? []).map((f) => [f, tokens.make(key, f)]));
      const g = graph.get(key)!;
      resources.push({
        key,
        type: args.type,
        name: args.name,
        custom: args.custom !== false,
        parent: g.parent ? keyOfUrn(g.parent) : '',
        dependencies: [...new Set(g.dependencies.map(keyOfUrn))].sort(),
        provider: g.provider ? keyOfUrn(g.provider.split('::').slice(0, -1).join('::')) : undefined,
        inputs,
        secretInputs: Object.keys(args.inputs).filter((k) => containsSecret(args.inputs[k])),
        outputs: local ?? {},
        retainOnDelete: g.retain,
      });
      const id = args.custom === false ? undefined : tokens.make(key, 'id');
      return { id, state: { ...args.inputs, ...computed, ...local } };
    },
    call(args) {
      throw new Error(`realize: the program invokes ${args.token}; invokes are not realized`);
    },
  },
  request.project,
  request.stack,
  false,
);

// The mock monitor passes neither parent, dependencies nor options to newResource: note them here.
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getProvider(): string;
  getRetainondelete?(): boolean;
}
const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): unknown };
const register = monitor.registerResource.bind(monitor);
monitor.registerResource = (req, cb) => {
  graph.set(`${req.getType()}::${req.getName()}`, {
    parent: req.getParent(),
    dependencies: req.getDependenciesList(),
    provider: req.getProvider(),
    retain: req.getRetainondelete?.() ?? false,
  });
  return register(req, cb);
};

pulumi.runtime.setAllConfig(request.config, request.secretKeys);
const program = (await import(new URL('../stacks/index.ts', import.meta.url).href)) as Record<string, unknown>;

// Registrations resolve asynchronously: wait until the set of resources stops growing.
let seen = -1;
for (let quiet = 0; quiet < 50; ) {
  await new Promise((r) => setTimeout(r, 10));
  quiet = resources.length === seen ? quiet + 1 : 0;
  seen = resources.length;
}

const resolve = (v: unknown) => new Promise<unknown>((ok) => (pulumi.output(v as pulumi.Input<unknown>) as pulumi.Output<unknown>).apply((x) => ok(x)));
const exports: Record<string, unknown> = {};
for (const [k, v] of Object.entries(program)) exports[k] = await resolve(v);

const capture: Capture = { project: request.project, stack: request.stack, resources, exports, tokens: tokens.origin };
writeFileSync(resultFile, JSON.stringify(capture), { mode: 0o600 });
// Pending mock timers would keep the process alive.
process.exit(0);
