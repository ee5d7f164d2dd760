import * as pulumi from '@pulumi/pulumi';

/**
 * Re-throws a renderer or validation error as a `pulumi.ResourceError` of `resource`, prefixed
 * with the component name; the original message already names the argument.
 */
export function rethrowAsResourceError(component: string, e: unknown, resource: pulumi.Resource): never {
  const message = e instanceof Error ? e.message : String(e);
  throw new pulumi.ResourceError(`${component}: ${message}`, resource);
}
