/**
 * A shell script that installs files, releases and a systemd service on a Linux host. It is fed to
 * `sh -s` over SSH on stdin, so secrets never touch a command line; every file is written under
 * `umask 077` with its final mode and owner, and replaced only when its content, mode or owner
 * differ. The service is restarted only when something changed, so running the same script
 * twice changes nothing on the host. Needs POSIX sh, coreutils, tar, gzip, systemd, and curl or
 * wget for a download. `ROOT` (path prefix) and `SKIP_SYSTEM=1` (no useradd, chown, systemctl)
 * exist for tests.
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

/** An archive already on the host (copied there beforehand) unpacked into a release folder. */
export interface ReleasePart {
  /** Path of the archive on the host. */
  readonly archive: string;
  /** Its hex SHA-256; a mismatch stops the script before anything is unpacked. */
  readonly sha256: string;
  /** Folder inside the release, e.g. `node`. */
  readonly into: string;
  /** Leading path components to drop (1 for npm tarballs, whose entries start with `package/`). */
  readonly stripComponents?: number;
}

/**
 * Versioned install: `<root>/releases/<id>/` is unpacked once, then `<root>/current` is switched to
 * it with one rename. The previous release stays until the service is healthy on the new one;
 * if it does not become healthy, `current` goes back to the previous release and the script fails.
 */
export interface ReleaseArgs {
  /** e.g. `/opt/kes-server`. */
  readonly root: string;
  /** Release folder name (derived from the archives' hashes). */
  readonly id: string;
  readonly parts: readonly ReleasePart[];
  /** `uname -m` the release is built for, checked before unpacking. */
  readonly machine?: string;
}

/** A binary the host downloads into `<root>/releases/<sha256>/<name>` (kept until the service is healthy). */
export interface DownloadArgs {
  readonly url: string;
  readonly sha256: string;
  readonly root: string;
  readonly name: string;
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
  readonly release?: ReleaseArgs;
  readonly download?: DownloadArgs;
  /** A command that exits 0 once the service answers; polled after a (re)start for up to `timeoutSeconds`. */
  readonly health?: { readonly command: string; readonly timeoutSeconds: number };
}

const PATH = /^\/[A-Za-z0-9._/-]+$/;
const NAME = /^[A-Za-z0-9._-]+$/;
const SHA256 = /^[0-9a-f]{64}$/;

const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Shell functions every script starts with. */
const PRELUDE = String.raw`set -eu
umask 077
R="${'$'}{ROOT:-}"
changed=0
previous=
sys() { if [ "${'$'}{SKIP_SYSTEM:-}" != 1 ]; then "$@"; fi; }
# put PATH MODE OWNER BASE64: replace PATH only when content, mode or owner differ.
put() {
  f="$R$1"
  (umask 022 && mkdir -p "$(dirname "$f")")
  printf '%s' "$4" | base64 -d > "$f.new"
  chmod "$2" "$f.new"
  sys chown "$3" "$f.new"
  if [ -f "$f" ] && cmp -s "$f" "$f.new" && [ "$(stat -c %a:%u:%g "$f")" = "$(stat -c %a:%u:%g "$f.new")" ]; then
    rm -f "$f.new"
  else
    mv -f "$f.new" "$f"
    changed=1
  fi
}
# verify FILE SHA256
verify() {
  [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ] || { echo "install: $1 does not have SHA-256 $2" >&2; exit 1; }
}
# fetch URL FILE: curl or wget, whichever the host has.
fetch() {
  if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 3 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1"
  else echo "install: neither curl nor wget is installed" >&2; exit 1; fi
}
# switch ROOT TARGET: point ROOT/current at TARGET with one rename; remembers the old target.
switch() {
  previous=$(readlink "$R$1/current" 2>/dev/null || true)
  if [ "$previous" != "$2" ]; then
    ln -sfn "$2" "$R$1/current.new"
    mv -T "$R$1/current.new" "$R$1/current"
    changed=1
  fi
}
# prune ROOT: drop every release but the current one.
prune() {
  keep=$(readlink "$R$1/current")
  for d in "$R$1"/releases/*; do
    [ -e "$d" ] || continue
    [ "releases/$(basename "$d")" = "$keep" ] || rm -rf "$d"
  done
}`;

function checkPath(field: string, p: string): void {
  if (!PATH.test(p)) throw new RenderError('INVALID_ARGUMENT', field, 'must be an absolute path of [A-Za-z0-9._/-]');
}

function checkSha(field: string, s: string): void {
  if (!SHA256.test(s)) throw new RenderError('INVALID_ARGUMENT', field, 'must be a hex SHA-256 (64 lower-case hex digits)');
}

function releaseSteps(r: ReleaseArgs): string[] {
  checkPath('release.root', r.root);
  if (!NAME.test(r.id)) throw new RenderError('INVALID_ARGUMENT', 'release.id', 'must be a folder name of [A-Za-z0-9._-]');
  if (r.parts.length === 0) throw new RenderError('MISSING_ARGUMENT', 'release.parts', 'at least one archive');
  const dir = `$R${r.root}/releases/${r.id}`;
  const out = [`install -d -m 0755 "$R${r.root}" "$R${r.root}/releases"`, `if [ ! -d "${dir}" ]; then`];
  if (r.machine !== undefined) {
    if (!NAME.test(r.machine)) throw new RenderError('INVALID_ARGUMENT', 'release.machine', 'must be a uname -m value');
    out.push(`  [ "$(uname -m)" = ${sq(r.machine)} ] || { echo "install: this host is $(uname -m), the release is built for ${r.machine}" >&2; exit 1; }`);
  }
  out.push(`  rm -rf "${dir}.new"`, `  install -d -m 0755 "${dir}.new"`);
  r.parts.forEach((p, i) => {
    checkPath(`release.parts[${i}].archive`, p.archive);
    checkSha(`release.parts[${i}].sha256`, p.sha256);
    if (!NAME.test(p.into)) throw new RenderError('INVALID_ARGUMENT', `release.parts[${i}].into`, 'must be a folder name of [A-Za-z0-9._-]');
    const strip = p.stripComponents ?? 0;
    out.push(
      `  verify "$R${p.archive}" ${p.sha256}`,
      `  install -d -m 0755 "${dir}.new/${p.into}"`,
      `  tar -xzf "$R${p.archive}" -C "${dir}.new/${p.into}" --no-same-owner${strip ? ` --strip-components=${strip}` : ''}`,
    );
  });
  // Files unpacked as root keep the archive's modes; make the tree readable by the service user.
  out.push(`  chmod -R a+rX,go-w "${dir}.new"`, `  mv -T "${dir}.new" "${dir}"`, 'fi', `switch ${r.root} releases/${r.id}`);
  return out;
}

function downloadSteps(d: DownloadArgs): string[] {
  checkPath('download.root', d.root);
  checkSha('download.sha256', d.sha256);
  if (!NAME.test(d.name)) throw new RenderError('INVALID_ARGUMENT', 'download.name', 'must be a file name of [A-Za-z0-9._-]');
  if (!/^https?:\/\/[^\s'"\\]+$/.test(d.url)) throw new RenderError('INVALID_ARGUMENT', 'download.url', 'must be an http(s) URL without quotes or spaces');
  const dir = `$R${d.root}/releases/${d.sha256}`;
  return [
    `install -d -m 0755 "$R${d.root}" "$R${d.root}/releases"`,
    `if [ ! -x "${dir}/${d.name}" ]; then`,
    `  rm -rf "${dir}.new"`,
    `  install -d -m 0755 "${dir}.new"`,
    `  fetch ${sq(d.url)} "${dir}.new/${d.name}"`,
    `  verify "${dir}.new/${d.name}" ${d.sha256}`,
    `  chmod 0755 "${dir}.new/${d.name}"`,
    `  mv -T "${dir}.new" "${dir}"`,
    'fi',
    `switch ${d.root} releases/${d.sha256}`,
  ];
}

/** Renders the install script. Throws `RenderError` for unsafe paths, modes, hashes or names. */
export function renderInstallScript(a: InstallScriptArgs): string {
  if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(a.user)) throw new RenderError('INVALID_ARGUMENT', 'user', 'not a valid user name');
  if (!/^[a-z0-9@_.-]+\.service$/.test(a.service)) throw new RenderError('INVALID_ARGUMENT', 'service', 'must be a unit name ending in .service');
  const out = [PRELUDE];
  out.push(`sys sh -c 'id -u ${a.user} >/dev/null 2>&1 || useradd --system --no-create-home --user-group --shell /usr/sbin/nologin ${a.user}'`);
  (a.directories ?? []).forEach((d, i) => {
    checkPath(`directories[${i}]`, d);
    // Missing parents are created traversable (0755); the directory itself belongs to the service.
    out.push(`(umask 022 && mkdir -p "$R${d}")`, `chmod 0750 "$R${d}"`, `sys chown ${a.user}:${a.user} "$R${d}"`);
  });
  [...a.files].sort((x, y) => x.path.localeCompare(y.path)).forEach((f, i) => {
    checkPath(`files[${i}].path`, f.path);
    if (!/^0[0-7]{3}$/.test(f.mode)) throw new RenderError('INVALID_ARGUMENT', `files[${i}].mode`, 'must be an octal mode like 0640');
    const owner = f.owner ?? 'root:root';
    if (!/^[a-z_][a-z0-9_-]*:[a-z_][a-z0-9_-]*$/.test(owner)) throw new RenderError('INVALID_ARGUMENT', `files[${i}].owner`, 'must be user:group');
    requireNonEmpty(`files[${i}].content`, f.content);
    // base64 keeps arbitrary content out of shell quoting.
    out.push(`put ${f.path} ${f.mode} ${owner} '${Buffer.from(f.content, 'utf8').toString('base64')}'`);
  });
  if (a.release) out.push(...releaseSteps(a.release));
  if (a.download) out.push(...downloadSteps(a.download));
  const root = a.release?.root ?? a.download?.root;
  const s = a.service;
  out.push(
    `sys systemctl daemon-reload`,
    `sys systemctl enable --quiet ${s}`,
    `if [ "$changed" = 1 ]; then sys systemctl restart ${s}; else sys sh -c 'systemctl is-active --quiet ${s} || systemctl start ${s}'; fi`,
  );
  if (a.health) {
    if (!Number.isInteger(a.health.timeoutSeconds) || a.health.timeoutSeconds < 1) throw new RenderError('INVALID_ARGUMENT', 'health.timeoutSeconds', 'must be a positive integer');
    requireNonEmpty('health.command', a.health.command);
    const rollback =
      root === undefined
        ? []
        : [
            `  if [ -n "$previous" ] && [ "$previous" != "$(readlink "$R${root}/current")" ] && [ -d "$R${root}/$previous" ]; then`,
            `    ln -sfn "$previous" "$R${root}/current.new" && mv -T "$R${root}/current.new" "$R${root}/current"`,
            `    sys systemctl restart ${s} || true`,
            `    echo "install: ${s} did not become healthy; rolled back to $previous" >&2`,
            '  fi',
          ];
    out.push(
      'healthy=0',
      `i=0; while [ "$i" -lt ${a.health.timeoutSeconds} ]; do`,
      `  if sys sh -c ${sq(a.health.command)} >/dev/null 2>&1; then healthy=1; break; fi`,
      '  sleep 1; i=$((i + 1))',
      'done',
      'if [ "$healthy" != 1 ]; then',
      `  sys journalctl -u ${s} -n 20 --no-pager >&2 || true`,
      ...rollback,
      `  echo "install: ${s} is not healthy after ${a.health.timeoutSeconds} s" >&2`,
      '  exit 1',
      'fi',
    );
  }
  if (root !== undefined) out.push(`prune ${root}`);
  return `${out.join('\n')}\n`;
}
