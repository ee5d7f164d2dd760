/**
 * Server processes under test: the upstream `kes` binary and the TypeScript `kes-server` CLI,
 * started from a config file on a loopback port, probed until ready, measured through /proc,
 * and stopped (SIGTERM, then SIGKILL after a grace period).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { closeSessions, type Endpoint, openSession, send } from './client.ts';
import { runLogChunks } from '../sandbox/log-sweep.ts';

const TS_MAIN = fileURLToPath(new URL('../kes-server/src/cli/main.ts', import.meta.url));

export type ServerKind = { readonly impl: 'upstream'; readonly bin: string } | { readonly impl: 'ts'; readonly workers: number };

export interface ServerSpec {
  /** Row label in the results table. */
  readonly label: string;
  /** File-system friendly name (config and key-store directory). */
  readonly name: string;
  readonly kind: ServerKind;
}

/** Asks the kernel for a free loopback port (bound and released right away). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

const TAIL = 4096;

export class ServerProcess {
  readonly spec: ServerSpec;
  readonly port: number;
  /** Milliseconds from spawning the process to the first answered request (`/v1/status`, 200). */
  coldStartMs = Number.NaN;
  readonly #child: ChildProcess;
  #log = '';

  private constructor(spec: ServerSpec, port: number, child: ChildProcess) {
    this.spec = spec;
    this.port = port;
    this.#child = child;
    const toRunLog = runLogChunks(`bench-${spec.label}.log`);
    const keep = (c: Buffer): void => {
      toRunLog(c);
      this.#log = (this.#log + c.toString('utf8')).slice(-TAIL);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /**
   * Starts the server with `configFile` (and `env` added to a bare PATH and HOME) and waits
   * (≤ `timeoutMs`) until `/v1/status` answers 200.
   */
  static async start(spec: ServerSpec, configFile: string, port: number, ep: Omit<Endpoint, 'port'>, env: Readonly<Record<string, string>> = {}, timeoutMs = 30_000): Promise<ServerProcess> {
    const args =
      spec.kind.impl === 'upstream'
        ? [spec.kind.bin, ['server', '--config', configFile]] as const
        : [process.execPath, [TS_MAIN, 'server', '--config', configFile, '--workers', String(spec.kind.workers)]] as const;
    const t0 = performance.now();
    const child = spawn(args[0], [...args[1]], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });
    const proc = new ServerProcess(spec, port, child);
    try {
      await proc.#waitReady({ ...ep, port }, timeoutMs);
      proc.coldStartMs = performance.now() - t0;
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return proc;
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** The last few KiB the server printed (for failure reports; the config holds no secrets). */
  get log(): string {
    return this.#log;
  }

  async #waitReady(ep: Endpoint, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
        throw new Error(`${this.spec.label} exited during start-up (${this.#child.exitCode ?? this.#child.signalCode}):\n${this.#log}`);
      }
      try {
        const s = await openSession(ep, 2_000);
        try {
          const r = await send(s, 'GET', '/v1/status', undefined, 2_000);
          if (r.status === 200) return;
          last = `status ${r.status}`;
        } finally {
          await closeSessions([s]);
        }
      } catch (err) {
        last = (err as Error).message;
      }
      // Short pauses: the time to the first answer is reported (cold start).
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`${this.spec.label} not ready within ${timeoutMs} ms (${last}):\n${this.#log}`);
  }

  /**
   * Peak resident set size (VmHWM) in KiB, summed over the server process and its direct
   * children (the `node:cluster` workers of a multi-worker TypeScript server).
   */
  async peakRssKiB(): Promise<number> {
    const pids = [this.pid, ...(await childPids(this.pid))];
    let sum = 0;
    for (const pid of pids) sum += await vmHwmKiB(pid);
    return sum;
  }

  /** Resident set size now (VmRSS) in KiB, summed over the server process and its children. */
  async rssKiB(): Promise<number> {
    let sum = 0;
    for (const pid of await this.pids()) sum += await statusKiB(pid, 'VmRSS');
    return sum;
  }

  /** The server process and its direct children. */
  async pids(): Promise<number[]> {
    return [this.pid, ...(await childPids(this.pid))];
  }

  /** CPU time (user + system, ms) consumed so far by the server process and its children. */
  async cpuMs(): Promise<number> {
    const pids = [this.pid, ...(await childPids(this.pid))];
    let sum = 0;
    for (const pid of pids) sum += await cpuMsOf(pid);
    return sum;
  }

  /** Number of processes that make up the server (1, or primary + workers). */
  async processCount(): Promise<number> {
    return 1 + (await childPids(this.pid)).length;
  }

  /** SIGTERM, then SIGKILL if still running after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Synchronous last resort for process exit: kills the server if it is still running. */
  killNow(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }
}

/** Direct children of `pid`, from /proc/<pid>/task/<tid>/children (Linux). */
export async function childPids(pid: number): Promise<number[]> {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = await readdir(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const text = await readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '');
    for (const p of text.split(/\s+/)) if (p !== '') out.push(Number(p));
  }
  return out;
}

let clockTicks = 0;

/** CPU time (utime + stime) of one process in ms, from /proc/<pid>/stat; 0 if it is gone. */
export async function cpuMsOf(pid: number): Promise<number> {
  if (clockTicks === 0) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (rest.length < 13) return 0;
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / clockTicks;
}

/** VmHWM of one process in KiB; 0 if the process is gone. */
export function vmHwmKiB(pid: number): Promise<number> {
  return statusKiB(pid, 'VmHWM');
}

/** A `kB` field of /proc/<pid>/status; 0 if the process is gone. */
async function statusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
  return m ? Number(m[1]) : 0;
}

/** Restricts every thread of `pid` to the CPUs `list` (`taskset -a -p -c`). */
export function setAffinity(pid: number, list: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
}
