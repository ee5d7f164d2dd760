/**
 * Runs the server: one process, or with `--workers N` a `node:cluster` primary that forks N
 * workers sharing one port. Every worker derives the same state from the same config; the
 * primary relays log lines, metrics and key deletions between them (`cluster/relay.ts`), so the
 * workers behave like one server. Per worker remain only the key cache (a key deleted through one
 * worker is dropped by all before the delete is answered) and derived lookups.
 */
import { errorMessage } from '../errors.ts';
import cluster from 'node:cluster';
import { ClusterRelay } from '../cluster/relay.ts';
import { processChannel } from '../cluster/worker-link.ts';
import { loadConfig } from '../config/index.ts';
import { ErrorLog } from '../log/error-log.ts';
import { AuditLog } from '../log/audit-log.ts';
import { KesServer, type ServerSettings } from '../server.ts';
import { settingsFromConfig } from './settings.ts';

interface RunOptions {
  readonly address: string;
  readonly workers: number;
  /** Config file for SIGHUP reloads and TLS rotation; absent in dev mode. */
  readonly configPath?: string;
  /** Lines printed once when the server listens (never secrets except dev mode's API key). */
  readonly banner: (endpoint: string) => string[];
  /** Reads the settings; the key store's background failures go to `onKeystoreError`. */
  readonly settings: (onKeystoreError: (err: Error) => void) => Promise<ServerSettings>;
}

const out = (line: string): void => void process.stdout.write(line + '\n');

export async function run(opts: RunOptions): Promise<void> {
  if (opts.workers > 1 && cluster.isPrimary) return runPrimary(opts);
  return runServer(opts);
}

function endpointOf(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `https://${h}:${port}`;
}

async function runServer(opts: RunOptions): Promise<void> {
  // The error log is made from the settings, so background failures that come before it are
  // dropped (the first login happens while the settings are read and fails the start instead).
  let sink: ErrorLog | undefined;
  const keystoreError = (err: Error): void => sink?.error(err.message);
  const settings = await opts.settings(keystoreError);
  const errorLog = new ErrorLog({ level: settings.log?.error ?? 0 });
  sink = errorLog;
  const auditLog = new AuditLog({ level: settings.log?.audit ?? 0 });
  const configPath = opts.configPath;
  const server = new KesServer({
    ...settings,
    errorLog,
    auditLog,
    workers: Math.max(1, opts.workers),
    ...(cluster.isWorker ? { cluster: processChannel() } : {}),
  });
  const addr = await server.listen(opts.address);
  if (!cluster.isWorker) for (const line of opts.banner(endpointOf(addr.address, addr.port))) out(line);

  let reloading = false;
  process.on('SIGHUP', () => {
    if (!configPath || reloading) return;
    reloading = true;
    void reload(server, configPath, errorLog, keystoreError).finally(() => (reloading = false));
  });
  const stop = (): void => {
    void server.close(1000).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Re-runs config load and key-store connect off to the side; on failure the old state stays. */
async function reload(server: KesServer, path: string, log: ErrorLog, keystoreError: (err: Error) => void): Promise<void> {
  let next: ServerSettings | undefined;
  try {
    next = await settingsFromConfig(await loadConfig(path), keystoreError);
    await server.update(next);
    log.info('configuration reloaded');
  } catch (err) {
    log.error(`failed to reload configuration: ${errorMessage(err)}`);
    await next?.cache.close().catch(() => {});
  }
}

function runPrimary(opts: RunOptions): Promise<void> {
  let stopping = false;
  let announced = false;
  const relay = new ClusterRelay();
  cluster.on('fork', (worker) => relay.add(worker.id, (msg, done) => void worker.send(msg, done)));
  cluster.on('message', (worker, msg) => relay.receive(worker.id, msg));
  cluster.on('exit', (worker) => relay.remove(worker.id));
  for (let i = 0; i < opts.workers; i++) cluster.fork();
  cluster.on('listening', (_worker, address) => {
    if (announced) return;
    announced = true;
    for (const line of opts.banner(endpointOf(address.address ?? '0.0.0.0', address.port))) out(line);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    process.stderr.write(`worker ${worker.process.pid} exited (${signal ?? code}); starting a new one\n`);
    // A worker that cannot start (bad config) would loop; give up when it dies right away.
    if (!announced) {
      process.exitCode = 1;
      stopAll();
      return;
    }
    cluster.fork();
  });
  const stopAll = (): void => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  return Promise.resolve();
}
