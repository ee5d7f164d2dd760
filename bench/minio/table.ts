/** Results of the through-MinIO benchmark: per-round samples, their combination and the table. Pure. */
import { median } from '../stats.ts';

/** One measured loop: one KES, one operation, one client count, one round. */
export interface MinioSample extends LoopCosts {
  readonly requests: number;
  readonly elapsedMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly timeLimited: boolean;
}

/** What the servers spent during measured loops. */
export interface LoopCosts {
  /** CPU time (user + system) of the KES server and of MinIO during the loop, ms. */
  readonly kesCpuMs: number;
  readonly minioCpuMs: number;
  /** Time the KES server's and MinIO's threads waited for a CPU while runnable during the loop, ms. */
  readonly kesRunWaitMs: number;
  readonly minioRunWaitMs: number;
  /** KES API requests answered during the loop (its metrics), and how many were 4xx/5xx. */
  readonly kesRequests: number;
  readonly kesErrors: number;
  /** Requests the KES that MinIO was not pointed at answered meanwhile (must be 0). */
  readonly otherKesRequests: number;
}

export interface MinioRow {
  readonly server: string;
  readonly op: string;
  readonly clients: number;
  /** Summed over rounds. */
  readonly requests: number;
  /** Medians over rounds. */
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly timeLimited: boolean;
  /** req/s of each round, in round order. */
  readonly roundReqPerSec: readonly number[];
  /** req/s ÷ the reference's req/s for the same operation and clients; null on the reference. */
  readonly ratio: number | null;
  /**
   * Lowest and highest ratio of one round's pair of phases (same round, same cell): how far the
   * machine's background load moved the ratio. Null on the reference row.
   */
  readonly roundRatios: { readonly min: number; readonly max: number } | null;
}

export function combine(server: string, op: string, clients: number, samples: readonly MinioSample[]): Omit<MinioRow, 'ratio' | 'roundRatios'> {
  const roundReqPerSec = samples.map((s) => (s.requests * 1000) / s.elapsedMs);
  return {
    server,
    op,
    clients,
    requests: samples.reduce((n, s) => n + s.requests, 0),
    reqPerSec: median(roundReqPerSec),
    roundReqPerSec,
    p50Ms: median(samples.map((s) => s.p50Ms)),
    p99Ms: median(samples.map((s) => s.p99Ms)),
    timeLimited: samples.some((s) => s.timeLimited),
  };
}

export function withRatios(rows: ReadonlyArray<Omit<MinioRow, 'ratio' | 'roundRatios'>>, reference: string): MinioRow[] {
  return rows.map((r) => {
    if (r.server === reference) return { ...r, ratio: null, roundRatios: null };
    const ref = rows.find((x) => x.server === reference && x.op === r.op && x.clients === r.clients);
    if (ref === undefined || ref.reqPerSec <= 0) return { ...r, ratio: Number.NaN, roundRatios: null };
    const perRound = r.roundReqPerSec.flatMap((v, i) => (i < ref.roundReqPerSec.length ? [v / ref.roundReqPerSec[i]] : []));
    return { ...r, ratio: r.reqPerSec / ref.reqPerSec, roundRatios: perRound.length === 0 ? null : { min: Math.min(...perRound), max: Math.max(...perRound) } };
  });
}

const HEADER = ['server', 'op', 'clients', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'vs minio/kes', 'rounds'];
const TEXT_COLUMNS = 2;

/** Aligned plain-text table (text left, numbers right); `*` marks a loop stopped by its time limit. */
export function renderMinioTable(rows: readonly MinioRow[]): string {
  const body = rows.map((r) => [
    r.server,
    r.op,
    String(r.clients),
    `${r.requests}${r.timeLimited ? '*' : ''}`,
    r.reqPerSec.toFixed(0),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    r.ratio === null ? 'ref' : Number.isNaN(r.ratio) ? '-' : `${r.ratio.toFixed(2)}x`,
    r.roundRatios === null ? '' : `${r.roundRatios.min.toFixed(2)}-${r.roundRatios.max.toFixed(2)}`,
  ]);
  const all = [HEADER, ...body];
  const widths = HEADER.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]): string => r.map((v, c) => (c < TEXT_COLUMNS ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ').trimEnd();
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}

/** Totals of one KES and one operation over every client count and round. */
export interface CostTotals extends LoopCosts {
  readonly server: string;
  readonly op: string;
  readonly requests: number;
}

export function totals(server: string, op: string, samples: readonly MinioSample[]): CostTotals {
  const sum = (f: (s: MinioSample) => number): number => samples.reduce((n, s) => n + f(s), 0);
  return {
    server,
    op,
    requests: sum((s) => s.requests),
    kesCpuMs: sum((s) => s.kesCpuMs),
    minioCpuMs: sum((s) => s.minioCpuMs),
    kesRunWaitMs: sum((s) => s.kesRunWaitMs),
    minioRunWaitMs: sum((s) => s.minioRunWaitMs),
    kesRequests: sum((s) => s.kesRequests),
    kesErrors: sum((s) => s.kesErrors),
    otherKesRequests: sum((s) => s.otherKesRequests),
  };
}

/**
 * The lines under the table: CPU per S3 request of each KES, of MinIO, and of both together with
 * its ratio to `reference` for the same operation (CPU is steadier than req/s on a shared
 * machine), and KES requests per S3 request.
 */
export function renderFooter(all: readonly CostTotals[], reference = 'minio/kes'): string {
  const per = (f: (t: CostTotals) => string): string => all.map((t) => `${t.server} ${t.op} ${f(t)}`).join(', ');
  const kes = (t: CostTotals): number => t.kesCpuMs / t.requests;
  const both = (t: CostTotals): number => (t.kesCpuMs + t.minioCpuMs) / t.requests;
  /** `f(t)` with its ratio to the reference server's for the same operation. */
  const withRatio = (f: (t: CostTotals) => number) => (t: CostTotals): string => {
    const ref = all.find((r) => r.server === reference && r.op === t.op);
    return `${f(t).toFixed(3)}${t.server === reference || ref === undefined ? '' : ` (${(f(t) / f(ref)).toFixed(2)}x)`}`;
  };
  return [
    `KES CPU ms per S3 request (user + system from /proc/<pid>/stat during the measured loops): ${per(withRatio(kes))}`,
    `MinIO CPU ms per S3 request, by the KES it used: ${per((t) => (t.minioCpuMs / t.requests).toFixed(3))}`,
    `MinIO + KES CPU ms per S3 request: ${per(withRatio(both))}`,
    `run-queue wait ms per S3 request (runnable, waiting for a CPU; /proc/<pid>/task/*/schedstat), KES / MinIO: ${per((t) => `${(t.kesRunWaitMs / t.requests).toFixed(3)} / ${(t.minioRunWaitMs / t.requests).toFixed(3)}`)}`,
    `KES requests per S3 request (KES /v1/metrics): ${per((t) => (t.kesRequests / t.requests).toFixed(3))}; KES 4xx/5xx answers: ${all.reduce((n, t) => n + t.kesErrors, 0)}; requests reaching the idle KES: ${all.reduce((n, t) => n + t.otherKesRequests, 0)}`,
  ].join('\n') + '\n';
}
