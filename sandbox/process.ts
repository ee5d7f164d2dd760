/**
 * Child-process plumbing shared by the sandbox and the end-to-end tests: free loopback ports,
 * processes whose output goes to a log file (so a failure can print its tail), bounded waits and
 * a stop that escalates from SIGTERM to SIGKILL. Every started process is tracked so that an
 * exiting parent never leaves one behind.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { keepLog, logComplete } from './log-sweep.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/** A TCP port that was free on 127.0.0.1 a moment ago (the kernel picked it for port 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('process: no port assigned');
  return address.port;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** Short name used in error messages (`minio-1`, `kes`, `bao`). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Complete environment of the child (nothing is inherited implicitly). */
  readonly env: Record<string, string>;
  /** stdout and stderr are appended to this file. */
  readonly logFile: string;
  readonly cwd?: string;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A running child process with its output in a log file. */
export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly pid: number;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<Exit>;
  #child: ChildProcess;
  #exit: Exit | undefined;

  constructor(options: StartOptions) {
    this.name = options.name;
    this.logFile = options.logFile;
    const fd = openSync(options.logFile, 'a');
    keepLog(options.logFile);
    try {
      this.#child = spawn(options.command, options.args, {
        env: options.env,
        cwd: options.cwd,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const child = this.#child;
    live.add(child);
    this.exited = new Promise<Exit>((resolve) => {
      child.once('error', (error) => {
        // spawn failed (ENOENT, EACCES…): say so in the log, where failures are looked for.
        live.delete(child);
        try {
          appendFileSync(options.logFile, `process: cannot start ${options.command}: ${error.message}\n`);
        } catch {
          // the log folder is gone; the exit status still tells
        }
        this.#exit = { code: -1, signal: null };
        resolve(this.#exit);
      });
      child.once('exit', (code, signal) => {
        live.delete(child);
        logComplete(options.logFile);
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
    if (child.pid === undefined) {
      // spawn failed synchronously (ENOENT etc.); `exited` resolves through the error event.
      this.pid = -1;
    } else {
      this.pid = child.pid;
    }
  }

  /** The exit status, or undefined while the process runs. */
  get exit(): Exit | undefined {
    return this.#exit;
  }

  get running(): boolean {
    return this.#exit === undefined && this.pid > 0;
  }

  /** Sends a signal (no-op when the process has exited). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.#child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 10_000): Promise<Exit> {
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL and wait (a crash, as far as the process is concerned). */
  async kill(): Promise<Exit> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** The last `lines` lines of the log file. */
  tail(lines = 40): string {
    return tailOf(this.logFile, lines);
  }

  /** Everything written to the log file so far. */
  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }
}

/** The last `lines` lines of a text file (at most the last 64 KiB are read). */
export function tailOf(file: string, lines = 40): string {
  let text: string;
  try {
    const size = statSync(file).size;
    const buffer = readFileSync(file);
    text = buffer.subarray(Math.max(0, size - 65_536)).toString('utf8');
  } catch {
    return '(no log)';
  }
  return text.split('\n').slice(-lines - 1).join('\n');
}

/**
 * Polls `probe` every `intervalMs` until it returns true, the process exits, or `timeoutMs` passes.
 * Throws an error carrying the process log tail in the last two cases.
 */
export async function waitUntil(
  proc: ManagedProcess,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.running) {
      const exit = proc.exit;
      throw new Error(
        `${proc.name} exited (code ${exit?.code}, signal ${exit?.signal}) before ${what}; log tail:\n${proc.tail()}`,
      );
    }
    if (await probe().catch(() => false)) return;
    await sleep(intervalMs);
  }
  throw new Error(`${proc.name}: not ${what} after ${timeoutMs} ms; log tail:\n${proc.tail()}`);
}

/** The environment a peer gets: PATH, HOME and TMPDIR from ours, plus `extra`. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}
