/**
 * Realization order: a resource comes after every custom resource it depends on and after its
 * provider. Components are not realized (the SDK already expands a dependency on a component into
 * its custom descendants). Teardown runs the same order backwards.
 */
import type { CapturedResource } from './capture.ts';

/** What `r` waits for: its dependencies and its provider, all custom resources of the capture. */
export function prerequisites(r: CapturedResource, byKey: ReadonlyMap<string, CapturedResource>): string[] {
  const keys = [...r.dependencies, ...(r.provider ? [r.provider] : [])];
  for (const k of keys) if (!byKey.has(k)) throw new Error(`realize: ${r.key} depends on ${k}, which the program did not declare`);
  return [...new Set(keys)].filter((k) => k !== r.key && byKey.get(k)!.custom);
}

/** The custom resources in an order that realizes each after its prerequisites; refuses cycles. */
export function realizationOrder(resources: readonly CapturedResource[]): CapturedResource[] {
  const byKey = new Map(resources.map((r) => [r.key, r]));
  const order: CapturedResource[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (r: CapturedResource, path: string[]) => {
    if (state.get(r.key) === 'done') return;
    if (state.get(r.key) === 'visiting') throw new Error(`realize: dependency cycle: ${[...path, r.key].join(' -> ')}`);
    state.set(r.key, 'visiting');
    for (const k of prerequisites(r, byKey)) visit(byKey.get(k)!, [...path, r.key]);
    state.set(r.key, 'done');
    order.push(r);
  };
  for (const r of resources) if (r.custom) visit(r, []);
  return order;
}
