/**
 * The one place that relies on how `@pulumi/pulumi`'s mock monitor works beyond `setMocks`: how a
 * secret input reaches the mock, how a registration's parent, dependencies, URN and
 * `retainOnDelete` are learnt (the public mock callback receives none of them) and how to wait until every registration is done.
 * An SDK upgrade that changes any of this fails `test/testing/sdk.test.ts` and nothing else.
 */
import * as pulumi from '@pulumi/pulumi';

/** One resource registration as the mock monitor saw it. */
export interface Registration {
  readonly type: string;
  readonly name: string;
  /** The resource's URN. */
  readonly urn: string;
  /** URN of the parent ('' at the stack root). */
  readonly parent: string;
  /** URNs this resource waits for (`dependsOn`, expanded through components, and inputs). */
  readonly dependencies: readonly string[];
  /** Reference of the explicit provider (`<urn>::<id>`), if any. */
  readonly provider: string | undefined;
  /** `false` for components. */
  readonly custom: boolean | undefined;
  /** The `retainOnDelete` option: destroy leaves the resource in place. */
  readonly retainOnDelete: boolean;
  /** Inputs as the mock received them; secret values stay wrapped (see `isSecretValue`). */
  readonly inputs: Record<string, any>;
  /** The state the mock returned: inputs plus computed outputs. */
  readonly outputs: Record<string, any>;
}

/** Computed outputs of one resource, merged over its inputs. */
export type ComputeOutputs = (type: string, name: string, inputs: Record<string, any>) => Record<string, unknown>;

/** The id the mock gives a custom resource (default `<name>-id`). */
export type MockId = (type: string, name: string) => string;

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getRetainondelete(): boolean | undefined;
}
type RegisterCallback = (err: unknown, response?: { getUrn(): string }) => void;
/** Registrations sent to and answered by the mock monitor. */
const calls = { started: 0, answered: 0 };

interface MockMonitor {
  registerResource(req: RegisterRequest, cb: RegisterCallback): unknown;
}

/**
 * Installs Pulumi's mock monitor for `project`/`stack` (not a preview: outputs are known) and returns
 * the live list of registrations. Invokes are refused: a component under test must not need one.
 */
export async function startMockMonitor(project: string, stack: string, compute: ComputeOutputs, idOf: MockId = (_, name) => `${name}-id`): Promise<Registration[]> {
  const registered: Registration[] = [];
  const pending = new Map<string, Omit<Registration, 'urn' | 'parent' | 'dependencies' | 'retainOnDelete'>>();
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const outputs = { ...args.inputs, ...compute(args.type, args.name, args.inputs) };
        pending.set(`${args.type}::${args.name}`, { type: args.type, name: args.name, provider: args.provider, custom: args.custom, inputs: args.inputs, outputs });
        return { id: args.custom === false ? undefined : idOf(args.type, args.name), state: outputs };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        throw new Error(`unexpected invoke ${args.token}`);
      },
    },
    project,
    stack,
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    calls.started++;
    return register(req, (err, response) => {
      calls.answered++;
      const seen = pending.get(`${req.getType()}::${req.getName()}`);
      if (!err && response && seen) registered.push({
          ...seen,
          urn: response.getUrn(),
          parent: req.getParent(),
          dependencies: req.getDependenciesList(),
          retainOnDelete: req.getRetainondelete() === true,
        });
      cb(err, response);
    });
  };
  return registered;
}

/** Whether a recorded input value is a secret (the wire form of `pulumi.secret`). */
export function isSecretValue(v: unknown): v is { value: unknown } {
  return typeof v === 'object' && v !== null && (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;
}

/**
 * Resolves once every registration in flight has been answered and the outputs it resolved
 * started no further one: the SDK's own RPC drain, repeated until a full turn of the event loop
 * (applies run in between) leaves the count of registrations unchanged.
 */
export async function allRegistered(): Promise<void> {
  const drain = (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs;
  for (let seen = -1; seen !== calls.started || calls.answered !== calls.started; ) {
    seen = calls.started;
    await drain();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
