/**
 * Installs files, releases and a service on Linux hosts over SSH, or only renders the files when no
 * SSH target is given. Per host: one `remote.CopyToRemote` per archive the release needs, then one
 * `remote.Command` that feeds the install script to `sh -s` on stdin (secret, output not logged).
 */
import * as pulumi from '@pulumi/pulumi';
import * as command from '@pulumi/command';
import { createHash } from 'node:crypto';
import { renderInstallScript } from '../../render/install-script.ts';
import type { DownloadArgs, InstallFile, ReleaseArgs } from '../../render/install-script.ts';
import type { Artifact, LinuxArch } from './artifacts.ts';

/** A Linux host. Without `ssh` nothing is executed; the rendered files are returned. */
export interface LinuxHost {
  /** Host name or IP address the other services use (certificates, endpoints, `MINIO_VOLUMES`). */
  readonly address: string;
  /** CPU architecture (picks the Node runtime for KES hosts); default `x64`. */
  readonly arch?: LinuxArch;
  /** How the machine running the program reaches the host: `host` (default `address`), `port` (default 22), `user` (default root). */
  readonly ssh?: { readonly host?: string; readonly user?: string; readonly port?: number; readonly privateKey: pulumi.Input<string> };
}

/** A file whose content may be a secret Output. */
export interface PendingFile extends Omit<InstallFile, 'content'> {
  readonly content: pulumi.Input<string>;
}

/** Where copied archives land on the hosts. */
export const UPLOAD_DIR = '/var/cache/minio-sse-kes';

/** An archive copied to the host before the script runs; the release refers to it by `remotePath`. */
export interface Upload {
  /** Names the copy resource (`<install>-<host index>-<key>`), stable across versions. */
  readonly key: string;
  readonly artifact: pulumi.Input<Artifact>;
  /** File name under `UPLOAD_DIR` (stable for the same content). */
  readonly fileName: string;
}

/** What one host's release needs: archives to copy and the release they make up. */
export interface HostRelease {
  readonly uploads: readonly Upload[];
  readonly release: pulumi.Input<ReleaseArgs>;
}

export interface LinuxInstallArgs {
  readonly user: string;
  readonly service: string;
  readonly directories: readonly string[];
  readonly files: readonly PendingFile[];
  readonly download?: DownloadArgs;
  readonly health?: { readonly command: string; readonly timeoutSeconds: number };
  /** Per-host release (e.g. the Node runtime of the host's architecture). */
  readonly release?: (host: LinuxHost) => HostRelease;
}

const hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Declares the install on every host that has `ssh`; returns the commands and the files by path (secret). */
export function declareLinuxInstall(
  parent: pulumi.Resource,
  name: string,
  hosts: readonly LinuxHost[],
  a: LinuxInstallArgs,
): { commands: command.remote.Command[]; renderedFiles: pulumi.Output<Record<string, string>> } {
  const contents = pulumi.all(a.files.map((f) => f.content));
  const files = contents.apply((cs) => a.files.map((f, i) => ({ ...f, content: cs[i] })));
  const renderedFiles = pulumi.secret(files.apply((fs) => Object.fromEntries(fs.map((f) => [f.path, f.content]))));
  const commands = hosts.flatMap((h, i) => {
    if (h.ssh === undefined) return [];
    const connection = { host: h.ssh.host ?? h.address, user: h.ssh.user ?? 'root', port: h.ssh.port ?? 22, privateKey: pulumi.secret(h.ssh.privateKey) };
    const rel = a.release?.(h);
    const copies = (rel?.uploads ?? []).map((u) => {
      const artifact = pulumi.output(u.artifact);
      return new command.remote.CopyToRemote(
        `${name}-${i}-${u.key}`,
        {
          connection,
          source: artifact.apply((x) => new pulumi.asset.FileAsset(x.path) as pulumi.asset.Asset),
          remotePath: `${UPLOAD_DIR}/${u.fileName}`,
          triggers: [artifact.apply((x) => x.sha256)],
        },
        { parent },
      );
    });
    const script = pulumi.secret(
      pulumi
        .all([files, rel?.release])
        .apply(([fs, release]) => renderInstallScript({ user: a.user, service: a.service, directories: a.directories, files: fs, release, download: a.download, health: a.health })),
    );
    return [
      new command.remote.Command(
        `${name}-${i}`,
        {
          connection,
          create: 'sh -s',
          stdin: script,
          logging: 'none',
          // Re-run when anything changes; only a hash of the script is stored in triggers.
          triggers: [pulumi.unsecret(script.apply(hex))],
        },
        { parent, dependsOn: copies },
      ),
    ];
  });
  return { commands, renderedFiles };
}

