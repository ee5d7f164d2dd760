#!/usr/bin/env node
/**
 * Benchmark through MinIO: the same MinIO build on the same drives encrypts and decrypts small
 * objects (bucket-default SSE-KMS) with minio/kes in one phase and with this repository's
 * kes-server in the other. Both KES servers run for the whole benchmark from one config renderer
 * and share one `fs` key-store folder, so the keys MinIO's data and configuration are sealed with
 * are the same behind either server; MinIO is restarted with `MINIO_KMS_KES_*` pointing at the
 * other server between phases, and the order of the servers alternates each round so that load
 * from other processes falls on both alike.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderMinioEnv } from '../../components/render/minio-env.ts';
import { generateApiKey } from '../../kes-server/src/auth/api-key.ts';
import { clientCertificateOfApiKey } from '../../kes-server/src/tls/x509.ts';
import { registerSecret } from '../../sandbox/log-sweep.ts';
import { Minio } from '../../sandbox/minio.ts';
import { peerBinDir, peerPath } from '../../sandbox/peers.ts';
import { closeSessions, type Endpoint, openSession, send } from '../client.ts';
import { freePort, ServerProcess, type ServerSpec, setAffinity } from '../servers.ts';
import { makeCredentials, writeConfigs } from '../setup.ts';
import { type LoadResult, runLoad, type S3Op } from './load.ts';
import { type Mark, progressLine, sampleOf, takeMark } from './measure.ts';
import { type KesId, MINIO_USAGE, type MinioBenchOptions, parseMinioOptions } from './options.ts';
import type { FrontTls } from './route-counter.ts';
import { S3Client } from './s3.ts';
import { combine, type CostTotals, type MinioRow, type MinioSample, renderFooter, renderMinioTable, totals, withRatios } from './table.ts';

const KEY = 'bench-key';
const BUCKET = 'bench-sse-kms';
const REFERENCE = 'minio/kes';
const OPS: readonly S3Op[] = ['PUT', 'GET'];

function specOf(id: KesId): ServerSpec {
  return id === 'upstream'
    ? { label: REFERENCE, name: 'upstream', kind: { impl: 'upstream', bin: peerPath('kes') } }
    : { label: 'kes-server w1', name: 'ts', kind: { impl: 'ts', workers: 1 } };
}

export interface MinioBenchResult {
  readonly rows: readonly MinioRow[];
  readonly totals: readonly CostTotals[];
  /** Every measured loop, by `server op clients`, in round order. */
  readonly samples: ReadonlyMap<string, readonly MinioSample[]>;
  /** Responses checked, warm-up included, by `server op`. */
  readonly verified: ReadonlyMap<string, number>;
  /** Peak RSS (VmHWM) of each KES server at the end, MiB. */
  readonly peakRssMiB: ReadonlyMap<string, number>;
}

const sampleKey = (server: string, op: string, clients: number): string => `${server} ${op} ${clients}`;

export interface MinioBenchHooks {
  /** Receives one line per step. */
  readonly progress?: (line: string) => void;
  /**
   * Puts something between MinIO and a KES server (the smoke test's route counter): gets the
   * server and the TLS material, returns the loopback port MinIO should use instead.
   */
  readonly frontKes?: (kes: { readonly label: string; readonly port: number }, tls: FrontTls) => Promise<number>;
}

/** Runs the whole benchmark. Throws on any failed check. */
export async function runMinioBench(opts: MinioBenchOptions, hooks: MinioBenchHooks = {}): Promise<MinioBenchResult> {
  const progress = hooks.progress ?? (() => {});
  if (opts.placement === 'pinned' && availableParallelism() < 2) throw new Error('--placement pinned needs at least 2 CPUs');
  const specs = opts.servers.map(specOf);
  const dir = await mkdtemp(join(tmpdir(), 'kes-bench-minio-'));
  const creds = makeCredentials();
  // MinIO's own identity, with the policy the stack gives it; the admin identity reads metrics.
  const minioApiKey = generateApiKey();
  registerSecret('bench MinIO API key', minioApiKey.toString());
  const kesServers: ServerProcess[] = [];
  let minio: Minio | undefined;
  const killAll = (): void => kesServers.forEach((s) => s.killNow());
  process.once('exit', killAll);
  const ownAffinity = `0-${availableParallelism() - 1}`;
  try {
    const ports = new Map<string, number>();
    for (const s of specs) ports.set(s.name, await freePort());
    const configs = await writeConfigs(dir, creds, specs.map((s) => ({ name: s.name, port: ports.get(s.name)! })), {
      sharedKeystoreDir: join(dir, 'keys'),
      minioIdentity: minioApiKey.identity,
    });
    const tls = { ca: creds.serverCert, cert: creds.clientCert, key: creds.clientKey };
    for (const s of specs) {
      const srv = await ServerProcess.start(s, configs.get(s.name)!, ports.get(s.name)!, tls);
      kesServers.push(srv);
      progress(`started ${s.label} (pid ${srv.pid}) on 127.0.0.1:${srv.port}`);
    }
    await createKey({ ...tls, port: kesServers[0].port });
    const minioPort = new Map<ServerProcess, number>();
    const minioCert = clientCertificateOfApiKey(minioApiKey);
    for (const kes of kesServers) {
      const front = hooks.frontKes === undefined ? kes.port : await hooks.frontKes({ label: kes.spec.label, port: kes.port }, { serverCert: creds.serverCert, serverKey: creds.serverKey, clientCert: minioCert.cert, clientKey: minioCert.key });
      minioPort.set(kes, front);
    }

    await mkdir(join(dir, 'minio'));
    minio = await Minio.create({ dir: join(dir, 'minio'), drives: opts.drives });
    const volumes = minio.volumes;
    const s3Creds = { accessKey: 'bench-admin', secretKey: randomBytes(18).toString('base64url'), region: 'us-east-1' };
    registerSecret('bench MinIO root password', s3Creds.secretKey);
    const envFor = (kes: ServerProcess): Record<string, string> =>
      renderMinioEnv({
        kesEndpoints: [`https://127.0.0.1:${minioPort.get(kes)}`],
        defaultKeyName: KEY,
        apiKey: minioApiKey.toString(),
        kesCaPath: join(dir, 'server.crt'),
        rootUser: s3Creds.accessKey,
        rootPassword: s3Creds.secretKey,
        volumes,
      });

    const samples = new Map<string, MinioSample[]>();
    const verified = new Map<string, number>();
    const record = (label: string, op: S3Op, clients: number, result: LoadResult, sample: MinioSample): void => {
      const key = sampleKey(label, op, clients);
      samples.set(key, [...(samples.get(key) ?? []), sample]);
      verified.set(`${label} ${op}`, (verified.get(`${label} ${op}`) ?? 0) + result.verified);
    };
    for (let round = 1; round <= opts.rounds; round++) {
      const order = round % 2 === 1 ? kesServers : [...kesServers].reverse();
      for (const kes of order) {
        await minio.start(envFor(kes));
        const s3 = new S3Client(minio.endpoint, s3Creds, Math.max(...opts.clients));
        try {
          if (opts.placement === 'pinned') await pin(minio.processes[0].pid, kesServers);
          if (round === 1 && kes === order[0]) await makeKmsBucket(s3);
          await runPhase({ opts, round, kes, idle: kesServers.filter((k) => k !== kes), minio, s3, admin: tls, record, progress });
        } finally {
          s3.close();
          if (opts.placement === 'pinned') setAffinity(process.pid, ownAffinity);
          await minio.stop();
        }
      }
    }
    const rows = withRatios(
      specs.flatMap((s) => opts.clients.flatMap((c) => OPS.map((op) => combine(s.label, op, c, samples.get(sampleKey(s.label, op, c)) ?? [])))).sort(
        (a, b) => OPS.indexOf(a.op as S3Op) - OPS.indexOf(b.op as S3Op) || a.clients - b.clients,
      ),
      REFERENCE,
    );
    const costs = specs.flatMap((s) => OPS.map((op) => totals(s.label, op, opts.clients.flatMap((c) => samples.get(sampleKey(s.label, op, c)) ?? []))));
    const peakRssMiB = new Map<string, number>();
    for (const k of kesServers) peakRssMiB.set(k.spec.label, (await k.peakRssKiB()) / 1024);
    return { rows, totals: costs, samples, verified, peakRssMiB };
  } finally {
    await minio?.stop();
    await Promise.all(kesServers.map((s) => s.stop()));
    process.removeListener('exit', killAll);
    await rm(dir, { recursive: true, force: true });
  }
}

/** MinIO and every KES server on CPU 0, this process (the load client) on CPU 1. */
async function pin(minioPid: number, kesServers: readonly ServerProcess[]): Promise<void> {
  setAffinity(minioPid, '0');
  for (const k of kesServers) for (const pid of await k.pids()) setAffinity(pid, '0');
  setAffinity(process.pid, '1');
}

/** Creates the bucket with default SSE-KMS under KEY and reads the setting back. */
async function makeKmsBucket(s3: S3Client): Promise<void> {
  await s3.createBucket(BUCKET);
  await s3.setBucketKms(BUCKET, KEY);
  const config = await s3.bucketEncryption(BUCKET);
  if (!config.includes('aws:kms') || !config.includes(KEY)) throw new Error(`bucket ${BUCKET}: default encryption is not SSE-KMS with ${KEY}`);
}

interface Phase {
  readonly opts: MinioBenchOptions;
  readonly round: number;
  /** The KES server MinIO uses in this phase, and the others. */
  readonly kes: ServerProcess;
  readonly idle: readonly ServerProcess[];
  readonly minio: Minio;
  readonly s3: S3Client;
  /** TLS material of the admin identity (reads `/v1/metrics`). */
  readonly admin: Omit<Endpoint, 'port'>;
  readonly record: (label: string, op: S3Op, clients: number, result: LoadResult, sample: MinioSample) => void;
  readonly progress: (line: string) => void;
}

/** For each client count: PUTs of new objects, then GETs of them, each measured between two marks. */
async function runPhase(p: Phase): Promise<void> {
  const label = p.kes.spec.label;
  const minioPid = p.minio.processes[0].pid;
  for (const clients of p.opts.clients) {
    let written: LoadResult['written'] = [];
    for (const op of OPS) {
      let before: Mark | undefined;
      let after: Mark | undefined;
      const result = await runLoad(p.s3, {
        op,
        bucket: BUCKET,
        kmsKey: KEY,
        clients,
        requests: p.opts.requests,
        warmup: p.opts.warmup,
        timeLimitMs: p.opts.phaseTimeoutMs,
        size: p.opts.size,
        prefix: `r${p.round}-${p.kes.spec.name}-c${clients}`,
        objects: written,
        onMeasureStart: async () => void (before = await takeMark(p.kes, p.idle, minioPid, p.admin)),
        onMeasureEnd: async () => void (after = await takeMark(p.kes, p.idle, minioPid, p.admin)),
      }).catch((err: Error) => {
        throw new Error(`${label} ${op} ${clients} clients, round ${p.round}: ${err.message}\n${p.minio.logTail(15)}`);
      });
      if (op === 'PUT') written = result.written;
      const sample = sampleOf(result, before!, after!);
      p.record(label, op, clients, result, sample);
      p.progress(progressLine(`round ${p.round}/${p.opts.rounds} ${label.padEnd(13)} ${op} ${String(clients).padStart(3)} clients`, result, sample));
    }
  }
}

async function createKey(ep: Endpoint): Promise<void> {
  const s = await openSession(ep);
  try {
    const r = await send(s, 'POST', `/v1/key/create/${KEY}`);
    if (r.status !== 200) throw new Error(`creating '${KEY}' answered ${r.status}`);
  } finally {
    await closeSessions([s]);
  }
}

function version(peer: string): string {
  try {
    return readFileSync(join(peerBinDir, `.${peer}.version`), 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function environment(opts: MinioBenchOptions): string {
  const la = loadavg().map((l) => l.toFixed(2)).join(' ');
  return [
    `node ${process.version}, minio/kes ${version('kes')}, minio ${version('minio')}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), load average ${la}`,
    `${opts.rounds} round(s) of ${opts.requests} PUTs and ${opts.requests} GETs (+${opts.warmup} each warm-up) of ${opts.size}-byte objects per KES and client count; ` +
      `clients ${opts.clients.join(', ')}; ${opts.drives} drive(s); placement ${opts.placement}; loop limit ${opts.phaseTimeoutMs / 1000} s`,
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  let opts: MinioBenchOptions | null;
  try {
    opts = parseMinioOptions(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${MINIO_USAGE}`);
    return 2;
  }
  if (opts === null) {
    process.stdout.write(MINIO_USAGE);
    return 0;
  }
  const startEnv = environment(opts);
  process.stderr.write(`${startEnv}\n`);
  try {
    const result = await runMinioBench(opts, { progress: (line) => process.stderr.write(`${line}\n`) });
    process.stdout.write(`\n${startEnv}\n\n${renderMinioTable(result.rows)}`);
    if (result.rows.some((r) => r.timeLimited)) process.stdout.write('* loop stopped at its time limit before its request count\n');
    process.stdout.write(renderFooter(result.totals));
    process.stdout.write(`KES peak RSS (VmHWM at the end): ${[...result.peakRssMiB].map(([label, mib]) => `${label} ${mib.toFixed(1)}`).join(', ')} MiB\n`);
    process.stdout.write(`req/s, p50 and p99 are medians over rounds; requests are summed; every answer was checked; load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`bench failed: ${(err as Error).message}\n`);
    return 1;
  }
}

if (import.meta.main) {
  // Ctrl-C: exit through 'exit' so every started process is killed.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  process.exitCode = await main(process.argv.slice(2));
}
