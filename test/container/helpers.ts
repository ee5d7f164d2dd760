/**
 * Shared pieces of the container-target tests: the locally built images, a per-run name prefix
 * (parallel runs on one engine never collide), realizing a stack file on the engine, and small
 * `docker` and `mc` wrappers. Everything they reach is on this machine: loopback ports the stacks
 * publish, and the containers they start.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MINIO_IMAGE, OPENBAO_IMAGE } from '../../components/peers.ts';
import { captureStack } from '../../realize/capture.ts';
import type { Capture, CaptureOptions } from '../../realize/capture.ts';
import { destroy, up } from '../../realize/index.ts';
import type { StackState } from '../../realize/index.ts';
import type { Environment } from '../../realize/types.ts';
import { peerPath } from '../../sandbox/peers.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const stackFile = (name: string) => join(repoRoot, 'stacks', name);

/** The images scripts/images.sh built (`role → image`); the tests fail loudly when one is missing. */
export function localImages(): Record<'debian' | 'node' | 'minio' | 'openbao' | 'kes', string> {
  const out = execFileSync('bash', [join(repoRoot, 'scripts/images.sh'), '--list'], { encoding: 'utf8' });
  const list = Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ') as [string, string]));
  for (const image of Object.values(list)) {
    try {
      execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore' });
    } catch {
      throw new Error(`image ${image} is missing: run npm run engines (scripts/docker-engine.sh, scripts/images.sh)`);
    }
  }
  return list as ReturnType<typeof localImages>;
}

/** What a RemoteImage would pull, and the local image standing in for it. */
export function realizeEnv(log = false): Environment {
  const images = localImages();
  return { standIns: { [OPENBAO_IMAGE]: images.openbao, [DEFAULT_MINIO_IMAGE]: images.minio }, log: log ? (l) => console.log(l) : undefined };
}

/** A short prefix unique to this run, for stack and container names. */
export const runId = `t${randomBytes(3).toString('hex')}`;

/** Runs `docker` and returns its trimmed output. */
export function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
}

/** Like `docker`, but resolves to the exit code and output instead of throwing. */
export function dockerTry(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile('docker', args, { encoding: 'utf8' }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}`.trim() })),
  );
}

/** Containers, networks and volumes of the stack whose names start with `prefix-`. */
export function leftovers(prefix: string): string[] {
  const names = (kind: string, ...args: string[]) => docker(kind, 'ls', ...args).split('\n').filter((n) => n.startsWith(`${prefix}-`));
  return [...names('container', '-a', '--format', '{{.Names}}'), ...names('network', '--format', '{{.Name}}'), ...names('volume', '--format', '{{.Name}}')];
}

/** Names of the containers whose names start with `prefix-`. */
export function containersOf(prefix: string): string[] {
  return docker('container', 'ls', '-a', '--format', '{{.Names}}').split('\n').filter((n) => n.startsWith(`${prefix}-`));
}

/** Health status of every container whose name starts with `prefix-`. */
export function healthOf(prefix: string): Record<string, string> {
  const names = containersOf(prefix);
  return Object.fromEntries(names.map((n) => [n, docker('inspect', '-f', '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}', n)]));
}

/** Waits until every container of `prefix` is healthy. */
export async function waitHealthy(prefix: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = healthOf(prefix);
    if (Object.values(h).length > 0 && Object.values(h).every((s) => s === 'healthy')) return;
    if (Date.now() > deadline) {
      const why = Object.keys(h).filter((n) => h[n] !== 'healthy').map((n) => `${n}: ${docker('inspect', '-f', '{{.State.Status}} {{if .State.Health}}{{with index .State.Health.Log 0}}{{.Output}}{{end}}{{end}}', n)}`);
      throw new Error(`not healthy within ${timeoutMs} ms: ${why.join('; ')}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface RealizedStack {
  readonly capture: Capture;
  readonly state: StackState;
  /** `sse-<stack>`: the prefix of every name the stack gives. */
  readonly prefix: string;
  readonly exports: Record<string, any>;
}

/** Captures and realizes one stack; on failure, tears down what was created and rethrows. */
export async function realize(o: CaptureOptions, env: Environment = realizeEnv()): Promise<RealizedStack> {
  const capture = await captureStack(o);
  try {
    const state = await up(capture, env);
    return { capture, state, prefix: `sse-${o.stack}`, exports: state.exports };
  } catch (e) {
    const partial = (e as { state?: StackState }).state;
    if (partial) await destroy(partial, env).catch(() => undefined);
    throw e;
  }
}

/** An `mc` with its own config folder and one alias `s` for the stack's MinIO. */
export function mcFor(s: RealizedStack): { run: (...args: string[]) => string; runTry: (...args: string[]) => Promise<{ code: number; out: string }>; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mskes-mc-'));
  const env = { ...process.env, MC_CONFIG_DIR: dir };
  const mc = peerPath('mc');
  const run = (...args: string[]) => execFileSync(mc, ['--no-color', ...args], { env, encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
  run('alias', 'set', '--', 's', `http://${s.exports.minioEndpoint}`, s.exports.minioRootUser, s.exports.minioRootPassword);
  return {
    run,
    runTry: (...args) =>
      new Promise((resolve) =>
        execFile(mc, ['--no-color', ...args], { env, encoding: 'utf8' }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}`.trim() })),
      ),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
