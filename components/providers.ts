/** Explicit providers handed to a component through `opts.providers`. */
import type * as pulumi from '@pulumi/pulumi';

/**
 * The provider of class `kind` (e.g. `vault.Provider`) in `opts.providers`, given as a list or as a
 * map (the SDK matches map entries by the provider's package, not by the key, and so does this);
 * `undefined` when none was given.
 */
export function explicitProvider<P extends pulumi.ProviderResource>(
  opts: pulumi.ComponentResourceOptions | undefined,
  kind: abstract new (...args: never[]) => P,
): P | undefined {
  const given = opts?.providers;
  if (given === undefined) return undefined;
  const list = Array.isArray(given) ? given : Object.values(given);
  return list.find((p): p is P => p instanceof kind);
}
