/**
 * Realizes `@pulumi/command` remote resources (`command:remote:Command`,
 * `command:remote:CopyToRemote`) over real SSH with the OpenSSH client, as the provider does with
 * its Go SSH client. Input fields, as the provider documents them (`@pulumi/command` 1.2):
 *
 * connection (both resources):
 * - `host`, `port` (default 22), `user` (default `root`): where to connect.
 * - `privateKey`: the key (written to a 0600 file for the run, removed afterwards).
 * - `hostKey`: when set, the server must present it; when not, the host key is not checked.
 * - `dialErrorLimit` (default 10, -1 unlimited), `perDialTimeout` (default 15 s): failed
 *   connection attempts are retried up to the limit, each bounded by the timeout.
 * - `password`, `privateKeyPassword`, `agentSocketPath`, `proxy`: refused (nothing here uses them).
 *
 * `command:remote:Command`:
 * - `create`: run on creation, and on replacement (a change of `triggers`, or any change when
 *   `update` is not set). `update`: run instead of `create` when inputs other than `triggers` change.
 * - `delete`: run for the old instance after a replacement (create-before-delete, the default).
 * - `stdin`: written to the command's standard input. `environment`: sent as SSH environment
 *   variables (the server's `AcceptEnv` must allow them). `addPreviousOutputInEnv` (default true):
 *   on update/delete, the previous stdout/stderr as `PULUMI_COMMAND_STDOUT`/`_STDERR`.
 * - `logging`: whether stdout/stderr may appear in messages (`none` keeps them out of errors too).
 * - `triggers`: compared only; a change replaces the resource.
 * Outputs: the inputs plus `stdout` and `stderr`.
 *
 * `command:remote:CopyToRemote`:
 * - `source`: a `FileAsset`, `StringAsset` or `FileArchive` (a folder, copied recursively);
 *   `remotePath`: the destination, parent folders created. Copied over SFTP, like the provider
 *   (the host needs the SFTP subsystem). Any input change copies again.
 *
 * Unchanged inputs do nothing (the engine's diff); any field not listed above is refused, so a
 * field a component starts using cannot be dropped silently.
 */
import { spawn } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';

/** A connection as the provider receives it (SDK defaults applied). */
export interface Connection {
  readonly host: string;
  readonly port?: number;
  readonly user?: string;
  readonly privateKey?: string;
  readonly hostKey?: string;
  readonly dialErrorLimit?: number;
  readonly perDialTimeout?: number;
}

/** A resource's last inputs and outputs, as the engine keeps them between runs. */
export interface Prior {
  readonly inputs: Record<string, unknown>;
  readonly outputs: Record<string, unknown>;
}

/** What a realization did: `create`, `update`, `replace` or `none` (inputs unchanged). */
export type Operation = 'create' | 'update' | 'replace' | 'none';

export interface Realized {
  readonly outputs: Record<string, unknown>;
  readonly operation: Operation;
}

const CONNECTION_FIELDS = new Set(['host', 'port', 'user', 'privateKey', 'hostKey', 'dialErrorLimit', 'perDialTimeout']);
const COMMAND_FIELDS = new Set(['connection', 'create', 'update', 'delete', 'stdin', 'environment', 'logging', 'triggers', 'addPreviousOutputInEnv']);
const COPY_FIELDS = new Set(['connection', 'source', 'remotePath', 'triggers']);
const LOGGING = new Set(['stdout', 'stderr', 'stdoutAndStderr', 'none']);

function refuseUnknown(what: string, obj: Record<string, unknown>, known: Set<string>): void {
  for (const [k, v] of Object.entries(obj)) {
    if (v !== undefined && !known.has(k)) throw new Error(`${what}: field [${k}] is not supported by this realization`);
  }
}

/** A failed remote command; stdout/stderr are kept off the message when logging is `none`. */
export class RemoteCommandError extends Error {
  readonly exitCode: number | null;
  /** The command's stderr, for a caller that decides to show it (not part of the message). */
  declare readonly stderr: string;
  constructor(message: string, exitCode: number | null, stderr: string) {
    super(message);
    this.name = 'RemoteCommandError';
    this.exitCode = exitCode;
    Object.defineProperty(this, 'stderr', { value: stderr, enumerable: false });
  }
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], input: string | Buffer | undefined, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => {}); // the command may exit without reading stdin
    child.stdin.end(input ?? '');
  });
}

/** ssh exits 255 for its own failures; these mean the host could not be reached (yet). */
const DIAL_FAILURE = /Connection refused|Connection timed out|Connection reset|Connection closed by|No route to host|kex_exchange_identification|Could not resolve hostname|Operation timed out/;

/** An SSH session factory for one connection: key and known-hosts files live in a private temp folder. */
class Session {
  private readonly dir: string;
  private readonly base: string[];
  private readonly c: Required<Pick<Connection, 'host' | 'port' | 'user'>> & { dialErrorLimit: number; perDialTimeout: number };

  constructor(what: string, connection: Record<string, unknown>) {
    refuseUnknown(`${what}: connection`, connection, CONNECTION_FIELDS);
    const c = connection as unknown as Connection;
    if (typeof c.host !== 'string' || c.host === '') throw new Error(`${what}: connection [host] is required`);
    if (typeof c.privateKey !== 'string' || c.privateKey === '') throw new Error(`${what}: connection [privateKey] is required (password and agent logins are not supported)`);
    this.c = { host: c.host, port: c.port ?? 22, user: c.user ?? 'root', dialErrorLimit: c.dialErrorLimit ?? 10, perDialTimeout: c.perDialTimeout ?? 15 };
    this.dir = mkdtempSync(join(tmpdir(), 'ssh-'));
    const key = join(this.dir, 'key');
    writeFileSync(key, c.privateKey.endsWith('\n') ? c.privateKey : `${c.privateKey}\n`, { mode: 0o600 });
    const known = join(this.dir, 'known_hosts');
    const hostCheck = c.hostKey
      ? (writeFileSync(known, `[${this.c.host}]:${this.c.port} ${c.hostKey.trim()}\n`), ['-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${known}`])
      : ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'];
    this.base = [
      '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', ...hostCheck,
      '-o', `ConnectTimeout=${this.c.perDialTimeout > 0 ? this.c.perDialTimeout : 3600}`,
    ];
  }

  /** ssh takes the port as `-p`, sftp as `-P`. */
  private args(portFlag: '-p' | '-P'): string[] {
    return [...this.base, portFlag, String(this.c.port)];
  }

  /** Retries while the host cannot be reached, up to `dialErrorLimit` attempts. */
  private async dial(file: string, args: string[], input: string | Buffer | undefined, timeoutMs: number): Promise<Run> {
    for (let attempt = 1; ; attempt++) {
      const r = await run(file, args, input, timeoutMs);
      const unreachable = r.code === 255 && DIAL_FAILURE.test(r.stderr);
      if (!unreachable || (this.c.dialErrorLimit >= 0 && attempt >= this.c.dialErrorLimit)) return r;
      await new Promise((ok) => setTimeout(ok, 1000));
    }
  }

  exec(command: string, stdin: string | undefined, env: Record<string, string>): Promise<Run> {
    const setenv = Object.entries(env).flatMap(([k, v]) => ['-o', `SetEnv=${k}=${v}`]);
    return this.dial('ssh', [...this.args('-p'), ...setenv, `${this.c.user}@${this.c.host}`, '--', command], stdin, 3_600_000);
  }

  /** SFTP batch: `-mkdir` for each parent (errors for existing ones ignored), then `put`. */
  sftp(batch: string): Promise<Run> {
    return this.dial('sftp', [...this.args('-P'), '-b', '-', `${this.c.user}@${this.c.host}`], batch, 3_600_000);
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

async function runCommand(what: string, inputs: Record<string, unknown>, command: string, env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  const logging = (inputs.logging as string | undefined) ?? 'stdoutAndStderr';
  const session = new Session(what, inputs.connection as Record<string, unknown>);
  try {
    const r = await session.exec(command, inputs.stdin as string | undefined, { ...((inputs.environment as Record<string, string>) ?? {}), ...env });
    if (r.code !== 0) {
      const shown = logging === 'stderr' || logging === 'stdoutAndStderr' ? `: ${r.stderr.trim().split('\n').slice(-20).join('\n')}` : ' (output withheld: logging is none)';
      throw new RemoteCommandError(`${what}: "${command}" exited with ${r.code ?? 'a signal'} on ${(inputs.connection as Connection).host}${shown}`, r.code, r.stderr);
    }
    return { stdout: r.stdout, stderr: r.stderr };
  } finally {
    session.close();
  }
}

/** Realizes a `command:remote:Command`; `prior` is the last realization (undefined on creation). */
export async function realizeRemoteCommand(name: string, inputs: Record<string, unknown>, prior?: Prior): Promise<Realized> {
  const what = `command:remote:Command ${name}`;
  refuseUnknown(what, inputs, COMMAND_FIELDS);
  if (inputs.logging !== undefined && !LOGGING.has(inputs.logging as string)) throw new Error(`${what}: invalid [logging]`);
  if (prior && isDeepStrictEqual(prior.inputs, inputs)) return { outputs: prior.outputs, operation: 'none' };
  const previousEnv = (p: Prior): Record<string, string> =>
    (inputs.addPreviousOutputInEnv ?? true) ? { PULUMI_COMMAND_STDOUT: String(p.outputs.stdout ?? ''), PULUMI_COMMAND_STDERR: String(p.outputs.stderr ?? '') } : {};
  let operation: Operation = 'create';
  let command = str(inputs.create);
  let env: Record<string, string> = {};
  if (prior) {
    const replace = !isDeepStrictEqual(prior.inputs.triggers, inputs.triggers) || str(inputs.update) === undefined;
    operation = replace ? 'replace' : 'update';
    if (!replace) {
      command = str(inputs.update);
      env = previousEnv(prior);
    }
  }
  const out = command === undefined ? { stdout: '', stderr: '' } : await runCommand(what, inputs, command, env);
  // Create before delete: the old instance's delete runs once the new one exists.
  const oldDelete = prior ? str(prior.inputs.delete) : undefined;
  if (operation === 'replace' && prior && oldDelete !== undefined) await runCommand(what, prior.inputs, oldDelete, previousEnv(prior));
  return { outputs: { ...inputs, ...out }, operation };
}

/** Runs the `delete` command of a resource the program no longer declares. */
export async function deleteRemoteCommand(name: string, prior: Prior): Promise<void> {
  const command = str(prior.inputs.delete);
  if (command !== undefined) await runCommand(`command:remote:Command ${name}`, prior.inputs, command, { PULUMI_COMMAND_STDOUT: String(prior.outputs.stdout ?? ''), PULUMI_COMMAND_STDERR: String(prior.outputs.stderr ?? '') });
}

/** The local file or folder behind a recorded asset/archive, or its text. */
async function assetSource(what: string, source: unknown): Promise<{ path?: string; text?: string; folder: boolean }> {
  const s = source as { path?: unknown; text?: unknown; assets?: unknown; uri?: unknown } | undefined;
  if (s === undefined || s === null) throw new Error(`${what}: [source] is required`);
  if (s.assets !== undefined || s.uri !== undefined) throw new Error(`${what}: [source] must be a FileAsset, StringAsset or FileArchive`);
  const path = await s.path;
  const text = await s.text;
  if (typeof text === 'string') return { text, folder: false };
  if (typeof path !== 'string') throw new Error(`${what}: [source] must be a FileAsset, StringAsset or FileArchive`);
  return { path, folder: statSync(path).isDirectory() };
}

/** A comparable form of the inputs (asset paths resolved). */
async function comparable(inputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  const s = inputs.source as { path?: unknown; text?: unknown } | undefined;
  return { ...inputs, source: { path: await s?.path, text: await s?.text } };
}

const quote = (p: string): string => `"${p.replace(/(["\\])/g, '\\$1')}"`;

/** Realizes a `command:remote:CopyToRemote`. */
export async function realizeCopyToRemote(name: string, inputs: Record<string, unknown>, prior?: Prior): Promise<Realized> {
  const what = `command:remote:CopyToRemote ${name}`;
  refuseUnknown(what, inputs, COPY_FIELDS);
  const remotePath = str(inputs.remotePath);
  if (remotePath === undefined) throw new Error(`${what}: [remotePath] is required`);
  const now = await comparable(inputs);
  if (prior && isDeepStrictEqual(await comparable(prior.inputs), now)) return { outputs: prior.outputs, operation: 'none' };
  const src = await assetSource(what, inputs.source);
  const session = new Session(what, inputs.connection as Record<string, unknown>);
  let tmp: string | undefined;
  try {
    let local = src.path;
    if (src.text !== undefined) {
      tmp = mkdtempSync(join(tmpdir(), 'copy-'));
      local = join(tmp, posix.basename(remotePath));
      writeFileSync(local, src.text);
    }
    const parents: string[] = [];
    for (let d = posix.dirname(remotePath); d !== '/' && d !== '.'; d = posix.dirname(d)) parents.unshift(d);
    const batch = [...parents.map((d) => `-mkdir ${quote(d)}`), `put ${src.folder ? '-r ' : ''}${quote(local as string)} ${quote(remotePath)}`].join('\n');
    const r = await session.sftp(`${batch}\n`);
    if (r.code !== 0) throw new Error(`${what}: copy to ${remotePath} on ${(inputs.connection as Connection).host} failed: ${r.stderr.trim().split('\n').slice(-5).join(' ')}`);
  } finally {
    session.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
  return { outputs: { ...inputs }, operation: prior ? 'replace' : 'create' };
}
