#!/usr/bin/env node
/**
 * Benchmark: the TypeScript kes-server (1 and 2 workers) against the upstream kes server, same
 * configuration, same machine, same run. Servers run side by side on loopback ports; each cell
 * (operation, protocol, requests in flight, CPU placement, server) is measured by a fresh
 * load-generator process, servers innermost so that background load on a shared machine spreads
 * over all servers alike.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerBinDir, peerPath } from '../sandbox/peers.ts';
import { closeSessions, type Endpoint, openSession, send } from './client.ts';
import type { ChildMessage, LoadJob, LoadResult, Operation, ParentMessage } from './load.ts';
import { OptionsError, parseOptions, type BenchOptions, type Placement, type Protocol, type ServerId, USAGE } from './options.ts';
import { freePort, ServerProcess, type ServerSpec, setAffinity } from './servers.ts';
import { makeCredentials, writeConfigs } from './setup.ts';
import { keyRequests, VaultKeystores } from './vault.ts';
import { combineRounds, renderTable, type RoundSample, type Row, withRatios } from './stats.ts';

const LOAD = fileURLToPath(new URL('./load.ts', import.meta.url));
const KEY = 'bench-key';
const REFERENCE = 'minio/kes';

function specOf(id: ServerId): ServerSpec {
  switch (id) {
    case 'upstream':
      return { label: REFERENCE, name: 'upstream', kind: { impl: 'upstream', bin: peerPath('kes') } };
    case 'ts1':
      // One worker is the server's default.
      return { label: 'kes-server w1', name: 'ts1', kind: { impl: 'ts', workers: 1 } };
    case 'ts2':
      return { label: 'kes-server w2', name: 'ts2', kind: { impl: 'ts', workers: 2 } };
    default: {
      const never: never = id;
      throw new Error(`unknown server ${String(never)}`);
    }
  }
}

/**
 * Result of one load-generator run, with the server's CPU time during the measured loop and,
 * with a Vault key store, the requests it sent to OpenBao meanwhile.
 */
type Measured = LoadResult & { readonly serverCpuMs: number; readonly vaultRequests: readonly string[] };

/** What the server's key store has sent to OpenBao so far (nothing without a Vault key store). */
type VaultLog = () => readonly string[];

/** CPUs of the server and of the load client for a placement. */
function cpuLists(placement: Placement): { server: string; client: string } {
  const all = `0-${availableParallelism() - 1}`;
  return placement === 'pinned' ? { server: '0', client: '1' } : { server: all, client: all };
}

/**
 * Runs one job in a fresh load-generator process, on the CPUs of `placement` (the server is
 * moved there too); samples the server's CPU time at the generator's start and end marks; kills
 * the generator if it outlives its bound.
 */
async function runLoad(job: LoadJob, server: ServerProcess, placement: Placement, vaultLog: VaultLog = () => []): Promise<Measured> {
  const cpus = cpuLists(placement);
  for (const pid of await server.pids()) setAffinity(pid, cpus.server);
  return new Promise((resolve) => {
    const child = fork(LOAD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    if (child.pid !== undefined) setAffinity(child.pid, cpus.client);
    let result: LoadResult | undefined;
    let cpuStart = 0;
    let cpuEnd = 0;
    let vaultStart = 0;
    let vaultEnd = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), 2 * job.phaseTimeoutMs + 90_000);
    child.on('message', (m: ChildMessage) => {
      if (m.kind === 'result') {
        result = m.result;
        return;
      }
      if (m.mark === 'start') vaultStart = vaultLog().length;
      else vaultEnd = vaultLog().length;
      void server.cpuMs().then((ms) => {
        if (m.mark === 'start') cpuStart = ms;
        else cpuEnd = ms;
        if (child.connected) child.send({ kind: 'ack' } satisfies ParentMessage);
      });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const r = result ?? { ok: false, error: `load generator exited (${signal ?? code}) without a result` };
      resolve({ ...r, serverCpuMs: cpuEnd - cpuStart, vaultRequests: vaultLog().slice(vaultStart, vaultEnd) });
    });
    child.send({ kind: 'job', job } satisfies ParentMessage);
  });
}

/** Creates the benchmark key on one server (the one key every crypto operation uses). */
async function createKey(ep: Endpoint, label: string): Promise<void> {
  const s = await openSession(ep);
  try {
    const r = await send(s, 'POST', `/v1/key/create/${KEY}`);
    if (r.status !== 200) throw new Error(`${label}: creating '${KEY}' answered ${r.status}`);
  } finally {
    await closeSessions([s]);
  }
}

function environment(opts: BenchOptions): string {
  let kesVersion = 'unknown';
  try {
    kesVersion = readFileSync(join(peerBinDir, '.kes.version'), 'utf8').trim();
  } catch {
    // the version marker is optional; the binary itself is required
  }
  const la = loadavg().map((l) => l.toFixed(2)).join(' ');
  return [
    `node ${process.version}, minio/kes ${kesVersion}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), load average ${la}`,
    `key store ${opts.keystore === 'vault' ? 'Vault (OpenBao dev server, K/V v2, AppRole; each server with its own path)' : 'fs (a folder per server)'}`,
    `${opts.rounds} round(s) of ${opts.requests} requests (+${opts.warmup} warm-up) per cell; ${opts.concurrency.join(', ')} in flight over ${opts.sessions} HTTP/2 sessions (h2) or one HTTP/1.1 keep-alive connection per request in flight (h1); placement ${opts.placements.join(', ')}; loop limit ${opts.phaseTimeoutMs / 1000} s`,
  ].join('\n');
}

/**
 * The Vault key store's summary: per server, how many requests its key store sent to OpenBao
 * during all measured loops, how many of them named the benchmark key (a warm cache sends none),
 * and what the others were (token renewals, status pings).
 */
function vaultLine(totals: ReadonlyMap<string, { readonly requests: number; readonly sent: readonly string[] }>): string {
  const parts = [...totals].map(([label, t]) => {
    const byPath = new Map<string, number>();
    for (const r of t.sent) {
      // Other keys (the `create` operation's) are grouped under their server's path.
      const shown = keyRequests([r], KEY).length > 0 ? r : r.replace(/^(\S+ \/v1\/[^/]+\/(?:data\/|metadata\/)?kes-[^/]+\/).+$/, '$1<other keys>');
      byPath.set(shown, (byPath.get(shown) ?? 0) + 1);
    }
    const list = [...byPath].map(([r, n]) => `${n} x ${r}`).join(', ');
    return `${label} ${t.sent.length} during ${t.requests} measured requests (${keyRequests(t.sent, KEY).length} for '${KEY}')${list ? `: ${list}` : ''}`;
  });
  return `requests to OpenBao during the measured loops (each key store behind its own counting proxy): ${parts.join('; ')}`;
}

async function main(argv: string[]): Promise<number> {
  let opts: BenchOptions | null;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (opts === null) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (opts.placements.includes('pinned') && availableParallelism() < 2) {
    process.stderr.write('--placement pinned needs at least 2 CPUs (server and load client each get one)\n');
    return 2;
  }
  const specs = opts.servers.map(specOf);
  const creds = makeCredentials();
  const dir = await mkdtemp(join(tmpdir(), 'kes-bench-'));
  const servers: ServerProcess[] = [];
  let vault: VaultKeystores | undefined;
  const killAll = (): void => servers.forEach((s) => s.killNow());
  process.once('exit', killAll);
  const interrupted = (): void => {
    killAll();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const idleRss = new Map<string, number>();
    const startPeak = new Map<string, number>();
    const ports = new Map<string, number>();
    for (const s of specs) ports.set(s.name, await freePort());
    if (opts.keystore === 'vault') vault = await VaultKeystores.start(specs.map((s) => s.name));
    const stores = vault;
    const configs = await writeConfigs(dir, creds, specs.map((s) => ({ name: s.name, port: ports.get(s.name)! })), stores ? { vault: (name) => stores.keystore(name) } : {});
    const tls = { ca: creds.serverCert, cert: creds.clientCert, key: creds.clientKey };
    for (const s of specs) {
      const srv = await ServerProcess.start(s, configs.get(s.name)!, ports.get(s.name)!, tls, stores?.env(s.name));
      servers.push(srv);
      await createKey({ ...tls, port: srv.port }, s.label);
      idleRss.set(s.label, (await srv.rssKiB()) / 1024);
      startPeak.set(s.label, (await srv.peakRssKiB()) / 1024);
      process.stderr.write(`started ${s.label} (pid ${srv.pid}, ${await srv.processCount()} process(es)) on 127.0.0.1:${srv.port} in ${srv.coldStartMs.toFixed(0)} ms\n`);
    }
    process.stderr.write(environment(opts) + '\n');

    const samples = new Map<string, RoundSample[]>();
    /** Per server: measured requests and what its key store sent to OpenBao during them. */
    const vaultTotals = new Map<string, { requests: number; sent: string[] }>();
    const peakRss = new Map<string, number>();
    type Cell = { readonly op: Operation; readonly protocol: Protocol; readonly inFlight: number; readonly placement: Placement };
    const cells: Cell[] = [];
    for (const op of opts.operations as Operation[]) {
      for (const protocol of opts.protocols) {
        for (const inFlight of opts.concurrency) {
          for (const placement of opts.placements) cells.push({ op, protocol, inFlight, placement });
        }
      }
    }
    const keyOf = (c: Cell, label: string): string => [c.op, c.protocol, c.inFlight, c.placement, label].join('\u0000');
    const runId = Date.now().toString(36);
    for (let round = 1; round <= opts.rounds; round++) {
      for (const [n, c] of cells.entries()) {
        for (const srv of servers) {
          const result = await runLoad({
            endpoint: { ...tls, port: srv.port },
            operation: c.op,
            protocol: c.protocol,
            keyName: KEY,
            createPrefix: `bench-${runId}-r${round}-c${n}`,
            requests: opts.requests,
            warmup: opts.warmup,
            concurrency: c.inFlight,
            sessions: opts.sessions,
            phaseTimeoutMs: opts.phaseTimeoutMs,
          }, srv, c.placement, stores ? () => stores.requests(srv.spec.name) : undefined);
          const where = `${c.op} ${c.protocol} ${c.inFlight} in flight ${c.placement}`;
          if (!result.ok) throw new Error(`${srv.spec.label} ${where}: ${result.error}\n${srv.log}`);
          const sample: RoundSample = {
            requests: result.requests,
            reqPerSec: (result.requests * 1000) / result.elapsedMs,
            p50Ms: result.p50Ms,
            p99Ms: result.p99Ms,
            cpuMsPerReq: result.serverCpuMs / result.requests,
            timeLimited: result.timeLimited,
          };
          const totals = vaultTotals.get(srv.spec.label) ?? { requests: 0, sent: [] };
          totals.requests += result.requests;
          totals.sent.push(...result.vaultRequests);
          vaultTotals.set(srv.spec.label, totals);
          const key = keyOf(c, srv.spec.label);
          samples.set(key, [...(samples.get(key) ?? []), sample]);
          peakRss.set(key, (await srv.peakRssKiB()) / 1024);
          process.stderr.write(
            `round ${round}/${opts.rounds} ${where.padEnd(32)} ${srv.spec.label.padEnd(14)} ${sample.reqPerSec.toFixed(0).padStart(6)} req/s  ` +
              `p50 ${sample.p50Ms.toFixed(2)} ms  p99 ${sample.p99Ms.toFixed(2)} ms  ` +
              `server CPU ${sample.cpuMsPerReq.toFixed(3)} ms/req (${((100 * result.serverCpuMs) / result.elapsedMs).toFixed(0)}%)  ` +
              `client CPU ${((100 * result.clientCpuMs) / result.elapsedMs).toFixed(0)}%  (${result.verified} responses verified)\n`,
          );
        }
      }
    }
    const rows: Omit<Row, 'ratio' | 'cpuRatio'>[] = [];
    for (const c of cells) {
      for (const srv of servers) {
        const key = keyOf(c, srv.spec.label);
        const combined = combineRounds(samples.get(key) ?? []);
        rows.push({ server: srv.spec.label, operation: c.op, protocol: c.protocol, inFlight: c.inFlight, placement: c.placement, ...combined, peakRssMiB: peakRss.get(key) ?? Number.NaN });
      }
    }
    const table = renderTable(withRatios(rows, REFERENCE));
    process.stdout.write(`\n${environment(opts)}\n\n${table}`);
    if (rows.some((r) => r.timeLimited)) process.stdout.write('* loop stopped at its time limit before its request count\n');
    const perServer = (f: (s: ServerProcess) => string): string => servers.map((s) => `${s.spec.label} ${f(s)}`).join(', ');
    process.stdout.write(`peak RSS: VmHWM summed over the server's processes, read after the row's last measurement (it never decreases); after start-up: ${perServer((s) => (startPeak.get(s.spec.label) ?? 0).toFixed(1))} MiB\n`);
    process.stdout.write(`idle RSS (VmRSS after start-up and one key created): ${perServer((s) => (idleRss.get(s.spec.label) ?? 0).toFixed(1))} MiB\n`);
    process.stdout.write(`cold start (process spawned to first answered request): ${perServer((s) => s.coldStartMs.toFixed(0))} ms\n`);
    process.stdout.write('CPU ms/req: user + system time of the server processes during the measured loop, per request; cpus: pinned = server on CPU 0, load client on CPU 1; shared = both on every CPU\n');
    process.stdout.write('handshake: every request on a new connection (full mTLS handshake, one generate, close); its req/s are connections per second\n');
    if (opts.rounds > 1) process.stdout.write(`${opts.rounds} rounds: requests summed; req/s, p50, p99 and CPU ms/req are medians over rounds\n`);
    if (stores) process.stdout.write(`${vaultLine(vaultTotals)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`bench failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await vault?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
