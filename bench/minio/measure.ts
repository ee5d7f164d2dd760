/**
 * The marks taken right before and right after each measured loop: the request counters of the
 * KES server MinIO uses and of the idle one, and the CPU time of that KES server and of MinIO;
 * and the sample the difference of two marks gives.
 */
import { readdir, readFile } from 'node:fs/promises';
import type { Endpoint } from '../client.ts';
import { cpuMsOf, type ServerProcess } from '../servers.ts';
import { countsBetween, type KesCounts, readKesCounts, totalOf } from './kes-counts.ts';
import type { LoadResult } from './load.ts';
import type { MinioSample } from './table.ts';

export interface Mark {
  readonly kes: KesCounts;
  /** Requests answered so far by the KES servers MinIO does not use. */
  readonly idleKesRequests: number;
  readonly kesCpuMs: number;
  readonly minioCpuMs: number;
  /** Time the threads of KES / MinIO were runnable but waiting for a CPU, so far. */
  readonly kesRunWaitMs: number;
  readonly minioRunWaitMs: number;
}

/**
 * Run-queue wait of every thread of `pid` (ms): the second field of
 * /proc/<pid>/task/<tid>/schedstat. On a busy machine this is the time the scheduler kept a
 * server from running although it had work; 0 for a process that is gone.
 */
export async function runWaitMs(pid: number): Promise<number> {
  const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  let ns = 0;
  for (const tid of tids) {
    const fields = (await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').catch(() => '')).split(' ');
    if (fields.length >= 2) ns += Number(fields[1]);
  }
  return ns / 1e6;
}

/** `admin` is the TLS material of the admin identity, which may read `/v1/metrics`. */
export async function takeMark(active: ServerProcess, idle: readonly ServerProcess[], minioPid: number, admin: Omit<Endpoint, 'port'>): Promise<Mark> {
  const idleCounts = await Promise.all(idle.map((k) => readKesCounts({ ...admin, port: k.port })));
  return {
    kes: await readKesCounts({ ...admin, port: active.port }),
    idleKesRequests: idleCounts.reduce((n, c) => n + totalOf(c), 0),
    kesCpuMs: await active.cpuMs(),
    minioCpuMs: await cpuMsOf(minioPid),
    kesRunWaitMs: (await Promise.all((await active.pids()).map(runWaitMs))).reduce((a, b) => a + b, 0),
    minioRunWaitMs: await runWaitMs(minioPid),
  };
}

export function sampleOf(result: LoadResult, before: Mark, after: Mark): MinioSample {
  const counts = countsBetween(before.kes, after.kes);
  return {
    requests: result.requests,
    elapsedMs: result.elapsedMs,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    timeLimited: result.timeLimited,
    kesCpuMs: after.kesCpuMs - before.kesCpuMs,
    minioCpuMs: after.minioCpuMs - before.minioCpuMs,
    kesRunWaitMs: after.kesRunWaitMs - before.kesRunWaitMs,
    minioRunWaitMs: after.minioRunWaitMs - before.minioRunWaitMs,
    kesRequests: totalOf(counts),
    kesErrors: counts.error + counts.failure,
    otherKesRequests: after.idleKesRequests - before.idleKesRequests,
  };
}

/** One progress line per measured loop (stderr), with the figures the table only shows as medians. */
export function progressLine(where: string, result: LoadResult, s: MinioSample): string {
  const perOp = (x: number): string => (x / s.requests).toFixed(3);
  const share = (ms: number): string => `${((100 * ms) / s.elapsedMs).toFixed(0)}%`;
  return (
    `${where} ${((s.requests * 1000) / s.elapsedMs).toFixed(0).padStart(6)} req/s  p50 ${s.p50Ms.toFixed(2)} ms  p99 ${s.p99Ms.toFixed(2)} ms  ` +
    `KES ${(s.kesRequests / s.requests).toFixed(2)} req/op ${perOp(s.kesCpuMs)} CPU ms/op (${share(s.kesCpuMs)})  ` +
    `MinIO ${perOp(s.minioCpuMs)} CPU ms/op (${share(s.minioCpuMs)})  run-queue wait KES ${perOp(s.kesRunWaitMs)} MinIO ${perOp(s.minioRunWaitMs)} ms/op  client ${share(result.clientCpuMs)}  (${result.verified} responses checked)`
  );
}
