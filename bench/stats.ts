/** Latency summaries and the plain-text results table. Pure functions. */

export interface LatencySummary {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Nearest-rank percentile (p in (0, 100]) of an ascending array; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(latencies: Float64Array): LatencySummary {
  const sorted = Float64Array.from(latencies).sort();
  return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: percentile(sorted, 100) };
}

export interface Row {
  readonly server: string;
  readonly operation: string;
  /** `h2` or `h1` (HTTP/1.1 keep-alive). */
  readonly protocol: string;
  /** Requests in flight. */
  readonly inFlight: number;
  /** `pinned` (server and client on separate CPUs) or `shared`. */
  readonly placement: string;
  readonly requests: number;
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly peakRssMiB: number;
  /** Server CPU time (user + system, all its processes) per measured request, ms. */
  readonly cpuMsPerReq: number;
  /** req/s of this row ÷ req/s of the reference server in the same cell; null on the reference row. */
  readonly ratio: number | null;
  /** CPU ms/req of this row ÷ that of the reference server in the same cell; null on the reference row. */
  readonly cpuRatio: number | null;
  /** The measured loop hit its time limit before its request count. */
  readonly timeLimited: boolean;
}

export const COLUMNS = ['server', 'operation', 'proto', 'in flight', 'cpus', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'peak RSS MiB', 'vs minio/kes', 'CPU ms/req', 'CPU vs minio/kes'] as const;

/** Columns of text (left-aligned); the others are numbers. */
const TEXT = new Set<string>(['server', 'operation', 'proto', 'cpus']);

const ratio = (x: number | null): string => (x === null ? 'ref' : `${x.toFixed(2)}x`);

function cells(r: Row): string[] {
  return [
    r.server,
    r.operation,
    r.protocol,
    String(r.inFlight),
    r.placement,
    `${r.requests}${r.timeLimited ? '*' : ''}`,
    r.reqPerSec.toFixed(0),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    r.peakRssMiB.toFixed(1),
    ratio(r.ratio),
    r.cpuMsPerReq.toFixed(3),
    ratio(r.cpuRatio),
  ];
}

/**
 * Renders rows as an aligned plain-text table: text columns left-aligned, numbers right-aligned,
 * a dashed rule under the header. A `*` after a request count marks a time-limited loop.
 */
export function renderTable(rows: readonly Row[]): string {
  const body = rows.map(cells);
  const all = [[...COLUMNS], ...body];
  const widths = COLUMNS.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]): string => r.map((v, c) => (TEXT.has(COLUMNS[c]) ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ').trimEnd();
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}

/**
 * Attaches the "vs reference" ratios: req/s and CPU ms/req, each ÷ the reference server's in the
 * same cell (operation, protocol, requests in flight, placement).
 */
export function withRatios(rows: ReadonlyArray<Omit<Row, 'ratio' | 'cpuRatio'>>, reference: string): Row[] {
  return rows.map((r) => {
    if (r.server === reference) return { ...r, ratio: null, cpuRatio: null };
    const ref = rows.find((x) => x.server === reference && x.operation === r.operation && x.protocol === r.protocol && x.inFlight === r.inFlight && x.placement === r.placement);
    return {
      ...r,
      ratio: ref && ref.reqPerSec > 0 ? r.reqPerSec / ref.reqPerSec : Number.NaN,
      cpuRatio: ref && ref.cpuMsPerReq > 0 ? r.cpuMsPerReq / ref.cpuMsPerReq : Number.NaN,
    };
  });
}

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** One measured loop of one operation against one server. */
export interface RoundSample {
  readonly requests: number;
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuMsPerReq: number;
  readonly timeLimited: boolean;
}

/**
 * Combines the rounds of one cell: requests summed; req/s, p50, p99 and CPU per request each
 * the median over rounds; time-limited if any round was.
 */
export function combineRounds(samples: readonly RoundSample[]): RoundSample {
  return {
    requests: samples.reduce((n, s) => n + s.requests, 0),
    reqPerSec: median(samples.map((s) => s.reqPerSec)),
    p50Ms: median(samples.map((s) => s.p50Ms)),
    p99Ms: median(samples.map((s) => s.p99Ms)),
    cpuMsPerReq: median(samples.map((s) => s.cpuMsPerReq)),
    timeLimited: samples.some((s) => s.timeLimited),
  };
}
