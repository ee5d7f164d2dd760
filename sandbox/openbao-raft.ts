/**
 * An OpenBao server that survives a restart (outage and recovery tests): integrated (raft) storage
 * in a folder, initialised and unsealed through the HTTP API (`sys/init`, `sys/unseal`). A dev
 * server keeps everything in memory, so restarting it would lose the keys KES stored; stopping
 * this one and starting it again on the same port is a real outage and a real recovery. (OpenBao
 * 2.x has no `file` storage; raft with one node is its persistent single-server storage.)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baoRequest } from './openbao.ts';
import type { BaoResponse } from './openbao.ts';
import { peerPath } from './peers.ts';
import { ManagedProcess, baseEnv, freePort, waitUntil } from './process.ts';

/** An OpenBao server config: one raft node storing in `dataDir`, plain HTTP on `host:port`. */
export function raftConfig(o: { dataDir: string; host: string; port: number; clusterPort: number; nodeId: string }): string {
  return [
    `storage "raft" {\n  path = "${o.dataDir}"\n  node_id = "${o.nodeId}"\n}`,
    `listener "tcp" {\n  address = "${o.host}:${o.port}"\n  cluster_address = "${o.host}:${o.clusterPort}"\n  tls_disable = true\n}`,
    `api_addr = "http://${o.host}:${o.port}"`,
    `cluster_addr = "https://${o.host}:${o.clusterPort}"`,
    'ui = false',
    'disable_mlock = true',
    '',
  ].join('\n');
}

export class RaftOpenBao {
  readonly address: string;
  readonly dir: string;
  #rootToken = '';
  #unsealKey = '';
  #process: ManagedProcess | undefined;
  #starts = 0;
  readonly #configFile: string;

  private constructor(dir: string, port: number, clusterPort: number) {
    this.dir = dir;
    this.address = `http://127.0.0.1:${port}`;
    mkdirSync(join(dir, 'raft'), { recursive: true });
    this.#configFile = join(dir, 'openbao.hcl');
    writeFileSync(this.#configFile, raftConfig({ dataDir: join(dir, 'raft'), host: '127.0.0.1', port, clusterPort, nodeId: 'node1' }));
  }

  /** Starts a fresh server in `dir`, initialises it (one unseal key) and unseals it. */
  static async start(dir: string): Promise<RaftOpenBao> {
    const bao = new RaftOpenBao(dir, await freePort(), await freePort());
    bao.#launch();
    try {
      await waitUntil(bao.#proc(), 'listening', async () => (await bao.request('GET', 'sys/health', undefined, { token: null })).status > 0, 30_000);
      // Initialising writes and syncs the raft log and the keyring: seconds on a busy machine.
      const init = await bao.requestOk('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 }, { token: null, timeoutMs: 60_000 });
      bao.#rootToken = String(init.body.root_token);
      bao.#unsealKey = String(init.body.keys[0]);
      await bao.#unseal();
    } catch (error) {
      await bao.stop();
      throw error;
    }
    return bao;
  }

  get running(): boolean {
    return this.#process?.running ?? false;
  }

  /** Starts the stopped server again on the same port and storage, and unseals it. */
  async startAgain(): Promise<void> {
    if (this.running) throw new Error('openbao is already running');
    this.#launch();
    await waitUntil(this.#proc(), 'listening', async () => (await this.request('GET', 'sys/health', undefined, { token: null })).status > 0, 30_000);
    await this.#unseal();
  }

  /** Seals the running server (`sys/seal` with the root token): it answers, but serves nothing. */
  async seal(): Promise<void> {
    await this.requestOk('PUT', 'sys/seal');
  }

  /** Unseals it again with the key from initialisation; resolves when it is active. */
  async unseal(): Promise<void> {
    await this.#unseal();
  }

  /** SIGSTOP: the process keeps its port and accepts connections, but answers nothing. */
  pause(): void {
    this.#proc().signal('SIGSTOP');
  }

  /** SIGCONT after `pause`. */
  resume(): void {
    this.#proc().signal('SIGCONT');
  }

  async stop(): Promise<void> {
    // A paused process would only die by the SIGKILL after the grace period.
    this.#process?.signal('SIGCONT');
    await this.#process?.stop(5_000);
  }

  request(method: string, path: string, body?: unknown, opts: { token?: string | null; timeoutMs?: number } = {}): Promise<BaoResponse> {
    return baoRequest(this.address, '', method, path, body, { token: opts.token === undefined ? this.#rootToken : opts.token, namespace: '', timeoutMs: opts.timeoutMs });
  }

  async requestOk(method: string, path: string, body?: unknown, opts: { token?: string | null; timeoutMs?: number } = {}): Promise<BaoResponse> {
    const res = await this.request(method, path, body, opts);
    if (res.status < 200 || res.status > 299) {
      const errors = Array.isArray(res.body?.errors) ? `: ${res.body.errors.join('; ')}` : '';
      throw new Error(`openbao: ${method} ${path} answered ${res.status}${errors}`);
    }
    return res;
  }

  logTail(lines = 30): string {
    return this.#process === undefined ? '(not started)' : this.#process.tail(lines);
  }

  async #unseal(): Promise<void> {
    await this.requestOk('PUT', 'sys/unseal', { key: this.#unsealKey }, { token: null, timeoutMs: 60_000 });
    // Unsealed raft elects itself leader a moment later; 200 = initialised, unsealed, active.
    await waitUntil(this.#proc(), 'active', async () => (await this.request('GET', 'sys/health', undefined, { token: null })).status === 200, 30_000);
  }

  #launch(): void {
    this.#process = new ManagedProcess({
      name: 'openbao',
      command: peerPath('bao'),
      args: ['server', `-config=${this.#configFile}`],
      env: baseEnv({ HOME: this.dir }),
      logFile: join(this.dir, `openbao.${this.#starts++}.log`),
    });
  }

  #proc(): ManagedProcess {
    if (this.#process === undefined) throw new Error('openbao was never started');
    return this.#process;
  }
}
