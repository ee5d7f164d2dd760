/**
 * A KES server as a child process: by default the TypeScript server of this repository
 * (`node kes-server/src/cli/main.ts server --config FILE`, run by the same Node as the caller),
 * or the upstream `kes` binary for comparison. Readiness is `GET /v1/ready` over mTLS with the
 * given client certificate (or without one when the config sets `skip_auth` for it).
 */
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerKesBodies } from './log-sweep.ts';
import { peerPath } from './peers.ts';
import { ManagedProcess, baseEnv, waitUntil } from './process.ts';

const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** The TypeScript KES server's command line entry point. */
export const kesServerMain = join(repoRoot, 'kes-server', 'src', 'cli', 'main.ts');

export interface KesProcessOptions {
  /** Rendered KES config file. */
  readonly configFile: string;
  /** Loopback port the server listens on (the config's `address` must say `127.0.0.1:PORT`). */
  readonly port: number;
  /** Folder for the log files. */
  readonly logDir: string;
  /** Extra environment (`${VAR}` values referenced by the config). */
  readonly env?: Record<string, string>;
  /** PEM CA that issued the server certificate. */
  readonly ca: string;
  /** Client certificate and key (PEM) used for the readiness probe. */
  readonly clientCert?: string;
  readonly clientKey?: string;
  /** `ts` (default) runs this repository's server; `upstream` the pinned minio/kes binary. */
  readonly implementation?: 'ts' | 'upstream';
  /**
   * Worker processes of the TypeScript server (`--workers N`; default: its own default, one).
   * Metrics are per worker, so a test that reads request counts runs one. Ignored upstream.
   */
  readonly workers?: number;
  readonly name?: string;
  readonly readyTimeoutMs?: number;
}

export class KesProcess {
  readonly options: KesProcessOptions;
  readonly name: string;
  #process: ManagedProcess | undefined;
  #starts = 0;

  constructor(options: KesProcessOptions) {
    this.options = options;
    this.name = options.name ?? 'kes';
  }

  /** Creates and starts; resolves when ready. */
  static async start(options: KesProcessOptions): Promise<KesProcess> {
    const kes = new KesProcess(options);
    await kes.start();
    return kes;
  }

  get url(): string {
    return `https://127.0.0.1:${this.options.port}`;
  }

  get process(): ManagedProcess | undefined {
    return this.#process;
  }

  get running(): boolean {
    return this.#process?.running ?? false;
  }

  /** Starts the process without waiting. */
  launch(): ManagedProcess {
    if (this.#process?.running) throw new Error(`${this.name} is already running`);
    const { command, args } = this.#commandLine();
    this.#process = new ManagedProcess({
      name: this.name,
      command,
      args,
      env: baseEnv(this.options.env ?? {}),
      logFile: join(this.options.logDir, `${this.name}.${this.#starts++}.log`),
      cwd: repoRoot,
    });
    return this.#process;
  }

  async waitReady(timeoutMs = this.options.readyTimeoutMs ?? 30_000): Promise<void> {
    const proc = this.#process;
    if (proc === undefined) throw new Error(`${this.name} was never started`);
    await waitUntil(proc, 'ready', async () => (await this.get('/v1/ready')).status === 200, timeoutMs, 150);
  }

  async start(): Promise<void> {
    this.launch();
    try {
      await this.waitReady();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.#process?.stop(5_000);
  }

  /** SIGKILL: the replica disappears without a goodbye. */
  async kill(): Promise<void> {
    await this.#process?.kill();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  logTail(lines = 30): string {
    return this.#process === undefined ? '(not started)' : `--- ${this.name}\n${this.#process.tail(lines)}`;
  }

  /** One mTLS GET against the server with the probe identity; the body is capped at 1 MiB. */
  get(path: string, timeoutMs = 3_000): Promise<{ status: number; body: string }> {
    return kesRequest(this.url, path, {
      ca: this.options.ca,
      cert: this.options.clientCert,
      key: this.options.clientKey,
      timeoutMs,
    });
  }

  #commandLine(): { command: string; args: string[] } {
    const serverArgs = ['server', '--config', this.options.configFile];
    if (this.options.implementation === 'upstream') return { command: peerPath('kes'), args: serverArgs };
    const workers = this.options.workers === undefined ? [] : ['--workers', String(this.options.workers)];
    return { command: process.execPath, args: [kesServerMain, ...serverArgs, ...workers] };
  }
}

export interface KesRequestOptions {
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
  readonly method?: string;
  readonly body?: string;
  readonly timeoutMs?: number;
}

/** A single HTTPS request to a KES server (HTTP/1.1, no connection reuse). */
export function kesRequest(base: string, path: string, options: KesRequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolveRequest, reject) => {
    const req = request(
      new URL(path, base),
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        agent: false,
        timeout: options.timeoutMs ?? 5_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > 1 << 20) res.destroy(new Error('kes response larger than 1 MiB'));
          else chunks.push(chunk);
        });
        res.once('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          registerKesBodies(options.body, body);
          resolveRequest({ status: res.statusCode ?? 0, body });
        });
        res.once('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`kes request ${path} timed out`)));
    req.once('error', reject);
    req.end(options.body);
  });
}
