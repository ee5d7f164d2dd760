/**
 * Realization: what a captured stack declares is created on the real engines and services, in
 * dependency order (independent resources concurrently, as the Pulumi engine does), and torn down
 * in reverse. Each provider package is one module in `MODULES`; a type without a realizer, or an
 * input field its realizer does not name, stops the run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Capture, CapturedResource } from './capture.ts';
import { refuseUnknown } from './fields.ts';
import { docker } from './docker.ts';
import { kubernetes } from './kubernetes.ts';
import { LOCAL_FIELDS } from './local.ts';
import { minio } from './minio.ts';
import { prerequisites, realizationOrder } from './order.ts';
import { substitute, tokensIn } from './tokens.ts';
import type { Environment, Pending, ProviderModule, Realized, TypeRealizer } from './types.ts';
import { vault } from './vault.ts';

/** `tls` and `random` were realized at capture; their realizer only records the outputs. */
const local: ProviderModule = Object.fromEntries(
  Object.keys(LOCAL_FIELDS).map((type) => [type, { fields: true, create: async (r: Pending) => ({ id: r.name }), delete: async () => {} } satisfies TypeRealizer]),
);

/** Provider package → module. */
export const MODULES: Record<string, ProviderModule> = { docker, kubernetes, vault, minio, tls: local, random: local };

function realizerOf(type: string): TypeRealizer {
  const pkg = type.startsWith('pulumi:providers:') ? type.slice('pulumi:providers:'.length) : type.split(':')[0];
  const r = MODULES[pkg]?.[type];
  if (!r) throw new Error(`realize: no realizer for ${type}`);
  return r;
}

/** A realized stack: its resources in creation order and its exports. Persist it with `saveState`. */
export interface StackState {
  readonly stack: string;
  readonly resources: Realized[];
  readonly exports: Record<string, unknown>;
}

/** Creates every custom resource of `capture`. On failure the state so far is in `error.state`. */
export async function up(capture: Capture, env: Environment = {}): Promise<StackState> {
  const order = realizationOrder(capture.resources);
  const byKey = new Map(capture.resources.map((r) => [r.key, r]));
  const known = new Map<string, string>();
  const state: StackState = { stack: capture.stack, resources: [], exports: {} };
  const realized = new Map<string, Realized>();
  const running = new Map<string, Promise<void>>();

  // Every realizer checks its fields before anything is created.
  for (const r of order) refuseUnknown(`${r.type} ${r.name}`, r.inputs, realizerOf(r.type).fields);

  const realizeOne = async (r: CapturedResource) => {
    const needs = prerequisites(r, byKey);
    await Promise.all(needs.map((k) => running.get(k)));
    const inputs = substitute(r.inputs, known) as Record<string, any>;
    const left = tokensIn(inputs);
    if (left.length > 0) {
      const from = [...new Set(left.map((t) => `${capture.tokens[t]?.resource}.${capture.tokens[t]?.field}`))];
      throw new Error(`realize: ${r.key}: inputs still wait for ${from.join(', ')} (a dependency the program did not declare)`);
    }
    const provider = r.provider ? realized.get(r.provider)?.inputs : undefined;
    const pending: Pending = { key: r.key, type: r.type, name: r.name, inputs, provider };
    env.log?.(`+ ${r.type} ${r.name}`);
    let created: Record<string, any>;
    try {
      created = await realizerOf(r.type).create(pending, env);
    } catch (e) {
      // A resource created but not finished (e.g. a container never healthy) stays in the state.
      const partial = (e as { outputs?: Record<string, any> }).outputs;
      if (partial) state.resources.push({ ...pending, outputs: partial, retainOnDelete: r.retainOnDelete, prerequisites: needs });
      throw e;
    }
    const outputs = { ...r.outputs, ...created };
    for (const [token, o] of Object.entries(capture.tokens)) {
      if (o.resource !== r.key) continue;
      if (outputs[o.field] === undefined) throw new Error(`realize: ${r.key}: the realizer gave no ${o.field}`);
      known.set(token, String(outputs[o.field]));
    }
    const done: Realized = { ...pending, outputs, retainOnDelete: r.retainOnDelete, prerequisites: needs };
    realized.set(r.key, done);
    state.resources.push(done);
  };
  for (const r of order) {
    const p = realizeOne(r);
    p.catch(() => undefined);
    running.set(r.key, p);
  }
  const results = await Promise.allSettled(running.values());
  const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) throw Object.assign(failed.reason as Error, { state });
  Object.assign(state.exports, substitute(capture.exports, known));
  return state;
}

/**
 * Deletes what `up` created, newest first; retained resources stay. Like `pulumi destroy`, a
 * resource whose deletion fails is kept together with everything it depends on, and the state is
 * left holding what remains, so that `destroy` can run again. Reports every failure.
 */
export async function destroy(state: StackState, env: Environment = {}): Promise<void> {
  const errors: string[] = [];
  const kept: Realized[] = [];
  for (const r of [...state.resources].reverse()) {
    if (r.retainOnDelete) {
      env.log?.(`= ${r.type} ${r.name} (retained)`);
      continue;
    }
    if (kept.some((k) => k.prerequisites.includes(r.key))) {
      kept.push(r);
      continue;
    }
    env.log?.(`- ${r.type} ${r.name}`);
    try {
      await realizerOf(r.type).delete(r, env);
    } catch (e) {
      kept.push(r);
      errors.push((e as Error).message);
    }
  }
  state.resources.splice(0, state.resources.length, ...kept.reverse());
  if (errors.length > 0) throw new Error(`realize: teardown of ${state.stack} left ${kept.length} resource(s) behind:\n${errors.join('\n')}`);
}

/** Writes the state (it holds secrets, like Pulumi's state) readable by this user only. */
export function saveState(file: string, state: StackState): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
}

export function loadState(file: string): StackState {
  return JSON.parse(readFileSync(file, 'utf8')) as StackState;
}
