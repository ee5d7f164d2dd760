/**
 * `pulumi up` without the Pulumi engine: the stack program runs under mocks whose `newResource`
 * realizes each resource for real (SSH commands and copies, OpenBao, MinIO through mc) and answers
 * with the real outputs. The SDK registers a resource only once its inputs are known and every
 * `dependsOn` resource is registered, so resources are realized in dependency order, independent
 * ones in parallel, as the engine would. State (inputs and outputs per resource) is kept between
 * runs like Pulumi's: unchanged inputs do nothing and return the stored outputs; `replace` names
 * resources to create anew (`pulumi up --replace`). Local-only resources (`tls:*`, `random:*`)
 * get real keys, certificates and values computed here (`realize/local.ts`).
 */
import * as pulumi from '@pulumi/pulumi';
import { isDeepStrictEqual } from 'node:util';
import { computeLocal } from '../../realize/local.ts';
import { PROJECT } from '../../stacks/config.ts';
import type { Prior, Operation } from '../../realize/command.ts';

/** One resource to realize. `inputs` have secret markers removed (assets are kept as objects). */
export interface Realization {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  /** Inputs of the resource's provider (explicit providers carry the program's settings). */
  readonly provider?: Record<string, unknown>;
  readonly prior?: Prior;
}

export type Realizer = (r: Realization) => Promise<{ outputs: Record<string, unknown>; operation: Operation }>;

const SIG = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

/** Removes secret markers; assets and archives stay objects. */
export function unwrap(v: unknown): any {
  if (v instanceof pulumi.asset.Asset || v instanceof pulumi.asset.Archive) return v;
  if (typeof v === 'object' && v !== null && (v as Record<string, unknown>)[SIG] === SECRET_SIG) return unwrap((v as { value: unknown }).value);
  if (Array.isArray(v)) return v.map(unwrap);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
  return v;
}

/** What one `up` did to each resource, in completion order. */
export interface Step {
  readonly type: string;
  readonly name: string;
  readonly operation: Operation;
}

let runs = 0;

export class StackRun {
  private readonly state = new Map<string, Prior>();
  private readonly realizers: Readonly<Record<string, Realizer>>;

  /** `realizers` by resource type; `tls:*`, `random:*` and providers are handled here. */
  constructor(realizers: Readonly<Record<string, Realizer>>) {
    this.realizers = realizers;
  }

  /** Runs `stacks/index.ts` with `config` once; returns the steps and the program's exports. */
  async up(config: Record<string, string>, secretKeys: readonly string[], replace: readonly string[] = []): Promise<{ steps: Step[]; exports: Record<string, unknown> }> {
    for (const name of replace) {
      const key = [...this.state.keys()].find((k) => k.endsWith(`::${name}`));
      if (!key) throw new Error(`replace: no resource named ${name}`);
      this.state.delete(key);
    }
    const steps: Step[] = [];
    const errors: unknown[] = [];
    const pending = new Set<Promise<unknown>>();
    const providers = new Map<string, Record<string, unknown>>();
    const newResource = async (args: pulumi.runtime.MockResourceArgs) => {
      const key = `${args.type}::${args.name}`;
      const inputs = unwrap(args.inputs) as Record<string, unknown>;
      const prior = this.state.get(key);
      let outputs: Record<string, unknown>;
      let operation: Operation;
      if (args.type.startsWith('pulumi:providers:')) {
        providers.set(args.name, inputs);
        outputs = inputs;
        operation = prior ? (isDeepStrictEqual(prior.inputs, inputs) ? 'none' : 'update') : 'create';
      } else if (args.custom === false) {
        return { id: undefined, state: inputs };
      } else if (args.type.startsWith('tls:') || args.type.startsWith('random:')) {
        const same = prior !== undefined && isDeepStrictEqual(prior.inputs, inputs);
        const local = same ? undefined : computeLocal(args.type, args.name, inputs);
        if (!same && local === undefined) throw new Error(`no local realization for ${args.type} (${args.name})`);
        outputs = same ? prior.outputs : { ...inputs, ...local };
        operation = same ? 'none' : prior ? 'replace' : 'create';
      } else {
        const realize = this.realizers[args.type];
        if (!realize) throw new Error(`no realizer for ${args.type} (${args.name})`);
        // A provider reference is `<urn>::<id>`; the URN's last part is the provider's name.
        const providerName = args.provider?.split('::')[3];
        ({ outputs, operation } = await realize({ type: args.type, name: args.name, inputs, provider: providerName ? providers.get(providerName) : undefined, prior }));
      }
      this.state.set(key, { inputs, outputs });
      steps.push({ type: args.type, name: args.name, operation });
      return { id: args.name, state: outputs };
    };
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          const p = newResource(args).catch((e: unknown) => {
            errors.push(e);
            throw e;
          });
          pending.add(p);
          p.finally(() => pending.delete(p)).catch(() => {});
          return p;
        },
        call: (args) => {
          throw new Error(`unexpected invoke ${args.token}`);
        },
      },
      PROJECT,
      'linux-test',
      false,
    );
    pulumi.runtime.setAllConfig(config, [...secretKeys]);
    const url = new URL('../../stacks/index.ts', import.meta.url);
    url.searchParams.set('run', String(++runs));
    const program = (await import(url.href)) as Record<string, unknown>;
    // Wait until no registration is in flight for a few turns of the event loop.
    for (let idle = 0; idle < 20; ) {
      if (pending.size > 0) {
        idle = 0;
        await Promise.allSettled([...pending]);
      } else {
        idle++;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `up failed: ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`);
    const exports: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(program)) {
      exports[k] = pulumi.Output.isInstance(v) ? await new Promise((resolve) => v.apply((x) => resolve(x))) : v;
    }
    return { steps, exports };
  }
}
