/**
 * Real MinIO servers for the end-to-end tests and the sandbox: single drive, or distributed
 * (N processes × M drives on loopback, every process given the same endpoint list and its own
 * `--address`). Each process logs to a file under the deployment folder; start-up failures throw
 * with the log tail.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { peerPath } from './peers.ts';
import { ManagedProcess, baseEnv, freePort, waitUntil } from '../../sandbox/process.ts';

export interface MinioOptions {
  /** Folder that receives the drives, the certs dir and the logs. Must exist. */
  readonly dir: string;
  /** Environment for every process (`MINIO_KMS_KES_*` from `renderMinioEnv`, …). */
  readonly env: Record<string, string>;
  /** Number of server processes (1 = single node). */
  readonly nodes?: number;
  /** Drives per process (1 with a single node = single-node single-drive). */
  readonly drives?: number;
  readonly rootUser?: string;
  readonly rootPassword?: string;
  /** How long `start`/`restart` wait for `/minio/health/ready`. */
  readonly readyTimeoutMs?: number;
}

interface Node {
  readonly index: number;
  readonly port: number;
  readonly consolePort: number;
  process: ManagedProcess | undefined;
  restarts: number;
}

/** A MinIO deployment on 127.0.0.1. */
export class Minio {
  readonly rootUser: string;
  readonly rootPassword: string;
  readonly dir: string;
  readonly #env: Record<string, string>;
  readonly #nodes: Node[];
  readonly #drives: number;
  readonly #readyTimeoutMs: number;

  private constructor(options: MinioOptions, nodes: Node[]) {
    this.dir = options.dir;
    this.#env = options.env;
    this.#nodes = nodes;
    this.#drives = options.drives ?? 1;
    this.#readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
    this.rootUser = options.rootUser ?? `admin-${randomBytes(4).toString('hex')}`;
    this.rootPassword = options.rootPassword ?? randomBytes(18).toString('base64url');
  }

  /** Allocates ports and folders without starting anything (see `launch` and `start`). */
  static async create(options: MinioOptions): Promise<Minio> {
    const count = options.nodes ?? 1;
    if (count < 1 || (options.drives ?? 1) < 1) throw new Error('minio: nodes and drives must be ≥ 1');
    const nodes: Node[] = [];
    for (let index = 1; index <= count; index++) {
      nodes.push({ index, port: await freePort(), consolePort: await freePort(), process: undefined, restarts: 0 });
    }
    return new Minio(options, nodes);
  }

  /** `create` + `start`. */
  static async start(options: MinioOptions): Promise<Minio> {
    const minio = await Minio.create(options);
    await minio.start();
    return minio;
  }

  /** S3 endpoint of every node (`http://127.0.0.1:P`). */
  get endpoints(): string[] {
    return this.#nodes.map((node) => `http://127.0.0.1:${node.port}`);
  }

  /** S3 endpoint of the first node. */
  get endpoint(): string {
    return this.endpoints[0];
  }

  /** The running processes (for signals and pids). */
  get processes(): ManagedProcess[] {
    return this.#nodes.flatMap((node) => (node.process === undefined ? [] : [node.process]));
  }

  /** Starts every process without waiting for readiness. */
  launch(): void {
    const binary = peerPath('minio');
    const volumes = this.#volumeArgs();
    for (const node of this.#nodes) {
      if (node.process?.running) throw new Error(`minio-${node.index} is already running`);
      const nodeDir = join(this.dir, `node${node.index}`);
      const certsDir = join(nodeDir, 'certs');
      mkdirSync(certsDir, { recursive: true });
      for (let drive = 1; drive <= this.#drives; drive++) mkdirSync(join(nodeDir, `d${drive}`), { recursive: true });
      node.process = new ManagedProcess({
        name: `minio-${node.index}`,
        command: binary,
        args: [
          'server',
          '--address', `127.0.0.1:${node.port}`,
          '--console-address', `127.0.0.1:${node.consolePort}`,
          '--certs-dir', certsDir,
          ...volumes,
        ],
        env: baseEnv({
          ...this.#env,
          MINIO_ROOT_USER: this.rootUser,
          MINIO_ROOT_PASSWORD: this.rootPassword,
          MINIO_UPDATE: 'off',
          MINIO_BROWSER: 'off',
          // Test drives are folders on the root file system, which distributed MinIO refuses
          // ("drive is part of root drive") unless it runs in CI/CD mode.
          MINIO_CI_CD: 'on',
          ...(this.#nodes.length > 1 ? { _MINIO_SERVER_LOCAL: `127.0.0.1:${node.port}` } : {}),
        }),
        logFile: join(this.dir, `minio-${node.index}.${node.restarts}.log`),
      });
      node.restarts++;
    }
  }

  /** Resolves when every process answers `/minio/health/ready`; throws with the log tail otherwise. */
  async waitReady(timeoutMs = this.#readyTimeoutMs): Promise<void> {
    await Promise.all(
      this.#nodes.map((node) => {
        const proc = node.process;
        if (proc === undefined) throw new Error(`minio-${node.index} was never started`);
        return waitUntil(proc, 'ready', () => isHealthy(node.port, 'ready'), timeoutMs, 250);
      }),
    );
    // A distributed node answers /ready before the object layer has formed; /cluster answers 200
    // only once write quorum is reached (and MinIO's KMS health probe passed).
    if (this.#nodes.length > 1) {
      await Promise.all(
        this.#nodes.map((node) =>
          waitUntil(node.process as ManagedProcess, 'cluster-ready', () => isHealthy(node.port, 'cluster'), timeoutMs, 250),
        ),
      );
    }
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

  /** Stops every process (SIGTERM, then SIGKILL). */
  async stop(): Promise<void> {
    await Promise.all(this.#nodes.map((node) => node.process?.stop(15_000)));
  }

  /** Stops and starts again on the same ports and drives. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Log tails of every process, for assertion messages. */
  logTail(lines = 30): string {
    return this.processes.map((p) => `--- ${p.name} (${p.logFile})\n${p.tail(lines)}`).join('\n');
  }

  /** Complete logs of the current processes. */
  logs(): string {
    return this.processes.map((p) => p.log()).join('\n');
  }

  #volumeArgs(): string[] {
    const range = this.#drives === 1 ? 'd1' : `d{1...${this.#drives}}`;
    if (this.#nodes.length === 1) return [join(this.dir, 'node1', range)];
    // Distributed: identical endpoint list on every process; each learns which node it is from
    // its own --address. Two nodes never share a directory. Inside a container (MinIO checks for
    // /.dockerenv) MinIO waits forever for loopback endpoints to "resolve to a valid IP" unless
    // _MINIO_SERVER_LOCAL names the endpoint host:port that is this process (set in launch()).
    return this.#nodes.map((node) => `http://127.0.0.1:${node.port}${join(this.dir, `node${node.index}`, range)}`);
  }
}

async function isHealthy(port: number, check: 'ready' | 'cluster'): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/minio/health/${check}`, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  return response.status === 200;
}
