/** Installs files and a service on Linux hosts over SSH, or only renders them when no SSH target is given. */
import * as pulumi from '@pulumi/pulumi';
import * as command from '@pulumi/command';
import { createHash } from 'node:crypto';
import { renderInstallScript } from '../../render/install-script.ts';
import type { InstallFile } from '../../render/install-script.ts';

/** A Linux host. Without `ssh` nothing is executed; the rendered files are returned. */
export interface LinuxHost {
  /** Host name or IP address clients use. */
  readonly address: string;
  readonly ssh?: { readonly user?: string; readonly port?: number; readonly privateKey: pulumi.Input<string> };
}

/** A file whose content may be a secret Output. */
export interface PendingFile extends Omit<InstallFile, 'content'> {
  readonly content: pulumi.Input<string>;
}

/** One `remote.Command` per host feeding the install script on stdin (secret, output not logged). */
export function declareLinuxInstall(
  parent: pulumi.Resource,
  name: string,
  hosts: readonly LinuxHost[],
  a: { readonly user: string; readonly service: string; readonly directories: readonly string[]; readonly files: readonly PendingFile[] },
): { commands: command.remote.Command[]; renderedFiles: pulumi.Output<Record<string, string>> } {
  const contents = pulumi.all(a.files.map((f) => f.content));
  const script = pulumi.secret(
    contents.apply((cs) => renderInstallScript({ user: a.user, service: a.service, directories: a.directories, files: a.files.map((f, i) => ({ ...f, content: cs[i] })) })),
  );
  const renderedFiles = pulumi.secret(contents.apply((cs) => Object.fromEntries(a.files.map((f, i) => [f.path, cs[i]]))));
  const commands = hosts
    .map((h, i) => ({ h, i }))
    .filter(({ h }) => h.ssh !== undefined)
    .map(
      ({ h, i }) =>
        new command.remote.Command(
          `${name}-${i}`,
          {
            connection: { host: h.address, user: h.ssh?.user ?? 'root', port: h.ssh?.port ?? 22, privateKey: pulumi.secret(h.ssh!.privateKey) },
            create: 'sh -s',
            stdin: script,
            logging: 'none',
            // Re-run when any file changes; only a hash of the script is stored in triggers.
            triggers: [pulumi.unsecret(script.apply((s) => createHash('sha256').update(s).digest('hex')))],
          },
          { parent },
        ),
    );
  return { commands, renderedFiles };
}
