/**
 * A shell script that installs files and a systemd service on a Linux host. It is fed to `sh -s`
 * over SSH on stdin, so secrets never touch a command line and every file is written with its
 * final mode under `umask 077`. `ROOT` (path prefix) and `SKIP_SYSTEM=1` (no useradd, chown,
 * systemctl) exist for tests.
 */
import { RenderError, requireNonEmpty } from './validate.ts';

/** One file to install. */
export interface InstallFile {
  readonly path: string;
  readonly content: string;
  /** Octal mode, e.g. `0640`. */
  readonly mode: string;
  /** Owner `user:group`; default `root:root`. */
  readonly owner?: string;
}

/** What to install and start. */
export interface InstallScriptArgs {
  /** System user (and group of the same name) the service runs as; created if missing. */
  readonly user: string;
  readonly files: readonly InstallFile[];
  /** Directories to create, owned by `user`, mode 0750. */
  readonly directories?: readonly string[];
  /** systemd unit name, e.g. `kes.service`. */
  readonly service: string;
}

const PATH = /^\/[A-Za-z0-9._/-]+$/;

/** Renders the install script. Throws `RenderError` for unsafe paths, modes or names. */
export function renderInstallScript(a: InstallScriptArgs): string {
  if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(a.user)) throw new RenderError('INVALID_ARGUMENT', 'user', 'not a valid user name');
  if (!/^[a-z0-9@_.-]+\.service$/.test(a.service)) throw new RenderError('INVALID_ARGUMENT', 'service', 'must be a unit name ending in .service');
  const out = ['set -eu', 'umask 077', 'R="${ROOT:-}"'];
  out.push(`if [ "\${SKIP_SYSTEM:-}" != 1 ]; then id -u ${a.user} >/dev/null 2>&1 || useradd --system --no-create-home --user-group --shell /usr/sbin/nologin ${a.user}; fi`);
  (a.directories ?? []).forEach((d, i) => {
    if (!PATH.test(d)) throw new RenderError('INVALID_ARGUMENT', `directories[${i}]`, 'must be an absolute path of [A-Za-z0-9._/-]');
    out.push(`mkdir -p "$R${d}"`, `chmod 0750 "$R${d}"`, `if [ "\${SKIP_SYSTEM:-}" != 1 ]; then chown ${a.user}:${a.user} "$R${d}"; fi`);
  });
  [...a.files].sort((x, y) => x.path.localeCompare(y.path)).forEach((f, i) => {
    if (!PATH.test(f.path)) throw new RenderError('INVALID_ARGUMENT', `files[${i}].path`, 'must be an absolute path of [A-Za-z0-9._/-]');
    if (!/^0[0-7]{3}$/.test(f.mode)) throw new RenderError('INVALID_ARGUMENT', `files[${i}].mode`, 'must be an octal mode like 0640');
    const owner = f.owner ?? 'root:root';
    if (!/^[a-z_][a-z0-9_-]*:[a-z_][a-z0-9_-]*$/.test(owner)) throw new RenderError('INVALID_ARGUMENT', `files[${i}].owner`, 'must be user:group');
    requireNonEmpty(`files[${i}].content`, f.content);
    // base64 keeps arbitrary content out of shell quoting.
    const b64 = Buffer.from(f.content, 'utf8').toString('base64');
    out.push(
      `mkdir -p "$(dirname "$R${f.path}")"`,
      `printf '%s' '${b64}' | base64 -d > "$R${f.path}.tmp"`,
      `chmod ${f.mode} "$R${f.path}.tmp"`,
      `if [ "\${SKIP_SYSTEM:-}" != 1 ]; then chown ${owner} "$R${f.path}.tmp"; fi`,
      `mv -f "$R${f.path}.tmp" "$R${f.path}"`,
    );
  });
  out.push(`if [ "\${SKIP_SYSTEM:-}" != 1 ]; then systemctl daemon-reload && systemctl enable ${a.service} && systemctl restart ${a.service}; fi`);
  return `${out.join('\n')}\n`;
}
