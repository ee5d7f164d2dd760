/**
 * Real MinIO servers for the end-to-end tests and the sandbox: single drive, or distributed
 * (N processes × M drives on loopback, every process given the same endpoint list and its own
 * `--address`). The caller renders the environment (`renderMinioEnv`, which carries
 * `MINIO_VOLUMES` and the root credentials) from the topology this harness allocates. Each process
 * logs to a file under the deployment folder; start-up failures throw with the log tail.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { minioVolumes } from '../components/render/minio-env.ts';
import { peerPath } from './peers.ts';
import { ManagedProcess, baseEnv, freePort, waitUntil } from './process.ts';

export interface MinioTopology {
  /** Folder that receives the drives, the certs dirs and the logs. Must exist. */
  readonly dir: string;
  /** Number of server processes (1 = single node). */
  readonly nodes?: number;
  /** Drives per process. */
  readonly drives?: number;
  /** How long `start`/`restart` wait for readiness. */
  readonly readyTimeoutMs?: number;
}

interface Node {
  readonly index: number;
  readonly port: number;
  readonly consolePort: number;
  process: ManagedProcess | undefined;
  starts: number;
}

/** A MinIO deployment on 127.0.0.1. */
export class Minio {
  readonly dir: string;
  /** The `MINIO_VOLUMES` expression of this topology. */
  readonly volumes: string;
  readonly #nodes: Node[];
  readonly #readyTimeoutMs: number;
  #env: Record<string, string> = {};

  private constructor(topology: MinioTopology, nodes: Node[]) {
    this.dir = topology.dir;
    this.#nodes = nodes;
    this.#readyTimeoutMs = topology.readyTimeoutMs ?? 90_000;
    const drives = topology.drives ?? 1;
    if (nodes.length === 1) {
      this.volumes = minioVolumes({ nodes: 1, drivesPerNode: drives, dataRoot: join(this.dir, 'node1', drives === 1 ? 'd1' : 'd') });
    } else {
      // Loopback nodes differ by port, not by host name, which MinIO's ellipsis over host names
      // (minioVolumes) cannot express: one pool argument per node, the same list on every node.
      // Two nodes never share a directory.
      this.volumes = nodes.map((node) => `http://127.0.0.1:${node.port}${join(this.dir, `node${node.index}`, `d{1...${drives}}`)}`).join(' ');
    }
    for (const node of nodes) {
      for (let d = 1; d <= drives; d++) mkdirSync(join(this.dir, `node${node.index}`, drives === 1 && nodes.length === 1 ? 'd1' : `d${d}`), { recursive: true });
    }
  }

  /** Allocates ports and drive folders; starts nothing. */
  static async create(topology: MinioTopology): Promise<Minio> {
    const count = topology.nodes ?? 1;
    const drives = topology.drives ?? 1;
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(drives) || drives < 1) {
      throw new Error('minio: nodes and drives must be positive integers');
    }
    const nodes: Node[] = [];
    for (let index = 1; index <= count; index++) {
      nodes.push({ index, port: await freePort(), consolePort: await freePort(), process: undefined, starts: 0 });
    }
    return new Minio(topology, nodes);
  }

  /** S3 endpoint of every node (`http://127.0.0.1:P`). */
  get endpoints(): string[] {
    return this.#nodes.map((node) => `http://127.0.0.1:${node.port}`);
  }

  /** S3 endpoint of the first node. */
  get endpoint(): string {
    return this.endpoints[0];
  }

  get rootUser(): string {
    return this.#env.MINIO_ROOT_USER ?? '';
  }

  get rootPassword(): string {
    return this.#env.MINIO_ROOT_PASSWORD ?? '';
  }

  /** The processes of the current run (for signals and pids). */
  get processes(): ManagedProcess[] {
    return this.#nodes.flatMap((node) => (node.process === undefined ? [] : [node.process]));
  }

  /**
   * Starts every process with `env` (kept for restarts) without waiting for readiness. `env` must
   * set `MINIO_VOLUMES` to `this.volumes`.
   */
  launch(env: Record<string, string> = this.#env): void {
    if (env.MINIO_VOLUMES !== this.volumes) throw new Error('minio: env.MINIO_VOLUMES must be the topology\'s volumes');
    this.#env = env;
    const binary = peerPath('minio');
    for (const node of this.#nodes) {
      if (node.process?.running) throw new Error(`minio-${node.index} is already running`);
      const certsDir = join(this.dir, `node${node.index}`, 'certs');
      mkdirSync(certsDir, { recursive: true });
      node.process = new ManagedProcess({
        name: `minio-${node.index}`,
        command: binary,
        args: ['server', '--address', `127.0.0.1:${node.port}`, '--console-address', `127.0.0.1:${node.consolePort}`, '--certs-dir', certsDir],
        env: baseEnv({
          ...env,
          MINIO_UPDATE: 'off',
          MINIO_BROWSER: 'off',
          // Test drives are folders on the root file system, which distributed MinIO refuses
          // ("drive is part of root drive") unless it runs in CI/CD mode.
          MINIO_CI_CD: 'on',
          // Inside a container (MinIO looks for /.dockerenv) MinIO waits forever for loopback
          // endpoints to "resolve to a valid IP" unless _MINIO_SERVER_LOCAL names the endpoint
          // host:port that is this very process.
          ...(this.#nodes.length > 1 ? { _MINIO_SERVER_LOCAL: `127.0.0.1:${node.port}` } : {}),
        }),
        logFile: join(this.dir, `minio-${node.index}.${node.starts}.log`),
      });
      node.starts++;
    }
  }

  /** Resolves when every process is ready; throws with the log tail otherwise. */
  async waitReady(timeoutMs = this.#readyTimeoutMs): Promise<void> {
    const each = (check: 'ready' | 'cluster') =>
      Promise.all(
        this.#nodes.map((node) => {
          const proc = node.process;
          if (proc === undefined) throw new Error(`minio-${node.index} was never started`);
          return waitUntil(proc, `${check}`, () => isHealthy(node.port, check), timeoutMs, 250);
        }),
      );
    await each('ready');
    // A distributed node answers /ready before the object layer has formed; /cluster answers 200
    // only once write quorum is reached.
    if (this.#nodes.length > 1) await each('cluster');
  }

  /** `launch` + `waitReady`; on failure every process is stopped before the error is thrown. */
  async start(env: Record<string, string> = this.#env): Promise<void> {
    this.launch(env);
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

  /** Stops and starts again with the same env, ports and drives. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Log tails of the current processes, for assertion messages. */
  logTail(lines = 30): string {
    return this.processes.map((p) => `--- ${p.name} (${p.logFile})\n${p.tail(lines)}`).join('\n');
  }

  /** Complete logs of the current processes. */
  logs(): string {
    return this.processes.map((p) => p.log()).join('\n');
  }
}

async function isHealthy(port: number, check: 'ready' | 'cluster'): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/minio/health/${check}`, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  return response.status === 200;
}
