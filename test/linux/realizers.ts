/**
 * Realizers for the Linux stack's resources: `@pulumi/command` over SSH (`realize/command.ts`),
 * and the Vault and MinIO resources through the shared provider modules (`realize/vault.ts`,
 * `realize/minio.ts`, each refusing input fields it does not name). Those modules create; a
 * resource whose inputs are unchanged keeps its outputs, and a changed Vault or MinIO resource is
 * refused (these runs never change one).
 */
import { isDeepStrictEqual } from 'node:util';
import { realizeCopyToRemote, realizeRemoteCommand } from '../../realize/command.ts';
import { refuseUnknown } from '../../realize/fields.ts';
import { minio } from '../../realize/minio.ts';
import type { ProviderModule } from '../../realize/types.ts';
import { vault } from '../../realize/vault.ts';
import type { Realization, Realizer } from './stack-run.ts';

/** Realizers for every type of `module`; `provider` may adjust the provider's inputs (e.g. an address). */
function fromModule(module: ProviderModule, provider: (p: Record<string, unknown> | undefined) => Record<string, unknown> | undefined = (p) => p): Record<string, Realizer> {
  return Object.fromEntries(
    Object.entries(module)
      .filter(([type]) => !type.startsWith('pulumi:providers:'))
      .map(([type, t]) => [
        type,
        async (r: Realization) => {
          refuseUnknown(`${r.type} ${r.name}`, r.inputs, t.fields);
          if (r.prior) {
            if (isDeepStrictEqual(r.prior.inputs, r.inputs)) return { outputs: r.prior.outputs, operation: 'none' as const };
            throw new Error(`${r.type} ${r.name}: changing its inputs is not supported by this realization`);
          }
          const created = await t.create({ key: `${r.type}::${r.name}`, type: r.type, name: r.name, inputs: r.inputs, provider: provider(r.provider) }, {});
          return { outputs: { ...r.inputs, ...created }, operation: 'create' as const };
        },
      ]),
  );
}

/** `resolve` maps an address the program uses (e.g. `minio1:9000`) to one reachable from here. */
export function linuxStackRealizers(resolve: (hostPort: string) => string): Record<string, Realizer> {
  return {
    'command:remote:Command': (r) => realizeRemoteCommand(r.name, r.inputs, r.prior),
    'command:remote:CopyToRemote': (r) => realizeCopyToRemote(r.name, r.inputs, r.prior),
    ...fromModule(vault),
    ...fromModule(minio, (p) => (p ? { ...p, minioServer: resolve(String(p.minioServer)) } : p)),
  };
}
