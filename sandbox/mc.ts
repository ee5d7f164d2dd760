/**
 * The real `mc` client with an isolated configuration folder and `--json` output parsed into
 * objects (mc prints one JSON document per line).
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { peerPath } from './peers.ts';
import { baseEnv } from './process.ts';

export interface McResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Every stdout line that parsed as JSON. */
  readonly json: Array<Record<string, unknown>>;
}

export interface McRunOptions {
  /** Data written to mc's stdin (`mc pipe`). */
  readonly input?: Uint8Array | Readable;
  readonly timeoutMs?: number;
  /** Capture stdout as bytes (`mc cat`); `stdout` is then empty. */
  readonly binary?: boolean;
}

export class Mc {
  readonly configDir: string;

  /** `configDir` is created if missing; nothing else on the machine is read or written. */
  constructor(configDir: string) {
    this.configDir = configDir;
    mkdirSync(configDir, { recursive: true });
  }

  /** Runs `mc --config-dir DIR --json --no-color ARGS…`. Never throws for a non-zero exit. */
  run(args: readonly string[], options: McRunOptions = {}): Promise<McResult & { bytes: Buffer }> {
    const child = spawn(peerPath('mc'), ['--config-dir', this.configDir, '--json', '--no-color', '--disable-pager', ...args], {
      // mc takes a target whose alias is not configured for a local path: keep such writes out of the caller's folder.
      cwd: this.configDir,
      env: baseEnv({ MC_UPDATE: 'off' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const input = options.input;
    if (input === undefined) child.stdin.end();
    else if (input instanceof Uint8Array) child.stdin.end(input);
    else input.pipe(child.stdin);
    child.stdin.on('error', () => {
      // mc exited before reading everything; its exit code tells the story
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        const bytes = Buffer.concat(out);
        const stdout = options.binary === true ? '' : bytes.toString('utf8');
        resolve({ code, stdout, stderr: Buffer.concat(err).toString('utf8'), json: parseLines(stdout), bytes });
      });
    });
  }

  /** Like `run` but throws (with mc's error text) unless mc exits 0. */
  async ok(args: readonly string[], options: McRunOptions = {}): Promise<McResult & { bytes: Buffer }> {
    const result = await this.run(args, options);
    if (result.code !== 0) {
      throw new Error(`mc ${args.slice(0, 3).join(' ')} exited ${result.code}: ${describeError(result)}`);
    }
    return result;
  }

  /** `mc alias set NAME URL USER PASSWORD` (S3 v4, path style). */
  async aliasSet(alias: string, url: string, user: string, password: string): Promise<void> {
    // Options first and `--` before the operands: a secret may begin with '-'.
    await this.ok(['alias', 'set', '--api', 'S3v4', '--path', 'on', '--', alias, url, user, password]);
  }
}

/** The `error.message` / `error.cause` mc reports in JSON mode, or its raw stderr. */
export function describeError(result: McResult): string {
  const messages: string[] = [];
  for (const doc of result.json) {
    const error = doc.error as { message?: string; cause?: { message?: string; error?: { Message?: string } } } | undefined;
    if (error === undefined) continue;
    if (error.message !== undefined) messages.push(error.message);
    if (error.cause?.message !== undefined) messages.push(error.cause.message);
    if (error.cause?.error?.Message !== undefined) messages.push(error.cause.error.Message);
  }
  return messages.length > 0 ? messages.join(' | ') : (result.stderr || result.stdout).trim().slice(0, 2_000);
}

function parseLines(text: string): Array<Record<string, unknown>> {
  const docs: Array<Record<string, unknown>> = [];
  // mc pretty-prints some JSON documents over several lines; split on top-level boundaries.
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = depth > 0;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' && depth > 0) {
      depth--;
      if (depth === 0) {
        try {
          docs.push(JSON.parse(text.slice(start, i + 1)) as Record<string, unknown>);
        } catch {
          // not JSON after all: ignore
        }
      }
    }
  }
  return docs;
}
