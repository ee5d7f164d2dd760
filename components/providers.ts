/** Explicit providers a component hands to the resources it declares itself. */
import type * as pulumi from '@pulumi/pulumi';

/**
 * The provider of package `pkg` (e.g. `vault`) that the SDK would give a child of `component`:
 * from `opts.provider`, from `opts.providers` (list or map) or inherited from a parent; matched by
 * package name, so a provider made with the consumer's own copy of the provider package counts too.
 * `undefined` when none was given.
 */
export function providerFor(component: pulumi.Resource, pkg: string): pulumi.ProviderResource | undefined {
  return component.getProvider(`${pkg}::Provider`);
}
