/**
 * Server metrics in the Prometheus text format 0.0.4 (docs/protocol.md#server-routes, `/v1/metrics`). Labelled
 * counters without samples are omitted entirely, since the Go client rejects empty families.
 */
import { availableParallelism, cpus } from 'node:os';

/** Histogram upper bounds in seconds, as upstream. */
export const ResponseTimeBuckets = Object.freeze([0.01, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 3, 5, 10]);

export const MetricsContentType = 'text/plain; version=0.0.4; charset=utf-8; escaping=underscores';

/** Process figures the system gauges report; injectable for tests. */
interface SystemSample {
  readonly numCpu: number;
  readonly numCpuUsed: number;
  readonly threads: number;
  readonly heapUsed: number;
  readonly heapObjects: number;
  readonly stackUsed: number;
}

function systemSample(): SystemSample {
  const mem = process.memoryUsage();
  return {
    numCpu: cpus().length,
    numCpuUsed: availableParallelism(),
    threads: 1,
    heapUsed: mem.heapUsed,
    heapObjects: 0,
    stackUsed: 0,
  };
}

function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  return Number.isInteger(v) && Math.abs(v) >= 1e21 ? v.toExponential() : String(v);
}

/**
 * The counters of one process, as plain data: what a worker sends to the others so that
 * `/v1/metrics` reports the whole server (see `cluster/`).
 */
export interface MetricsSnapshot {
  /** `[status, count]` pairs of 2xx, 4xx and 5xx answers. */
  readonly success: ReadonlyArray<readonly [number, number]>;
  readonly error: ReadonlyArray<readonly [number, number]>;
  readonly failure: ReadonlyArray<readonly [number, number]>;
  readonly active: number;
  /** Cumulative histogram counts, one per bound of `ResponseTimeBuckets`. */
  readonly buckets: readonly number[];
  readonly count: number;
  readonly sum: number;
  readonly errorEvents: number;
  readonly auditEvents: number;
  readonly upTimeSeconds: number;
  readonly heapUsed: number;
}

/** Adds up the snapshots of several processes; the uptime is the longest. */
export function sumSnapshots(snaps: readonly MetricsSnapshot[]): MetricsSnapshot {
  const add = (pick: (s: MetricsSnapshot) => ReadonlyArray<readonly [number, number]>): Array<[number, number]> => {
    const m = new Map<number, number>();
    for (const s of snaps) for (const [code, n] of pick(s)) m.set(code, (m.get(code) ?? 0) + n);
    return [...m.entries()];
  };
  const total = (pick: (s: MetricsSnapshot) => number): number => snaps.reduce((a, s) => a + pick(s), 0);
  return {
    success: add((s) => s.success),
    error: add((s) => s.error),
    failure: add((s) => s.failure),
    active: total((s) => s.active),
    buckets: ResponseTimeBuckets.map((_, i) => total((s) => s.buckets[i] ?? 0)),
    count: total((s) => s.count),
    sum: total((s) => s.sum),
    errorEvents: total((s) => s.errorEvents),
    auditEvents: total((s) => s.auditEvents),
    upTimeSeconds: Math.max(0, ...snaps.map((s) => s.upTimeSeconds)),
    heapUsed: total((s) => s.heapUsed),
  };
}

/** The exposition text of a snapshot (one process's, or the sum over all workers). */
export function renderSnapshot(m: MetricsSnapshot, sys: SystemSample): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string, samples: string[]): void => {
    if (samples.length === 0) return;
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
  };
  const labelled = (name: string, m: ReadonlyArray<readonly [number, number]>): string[] =>
    [...m].sort((a, b) => a[0] - b[0]).map(([code, n]) => `${name}{code="${code}"} ${n}`);
  family('kes_http_request_success', 'counter', 'Number of successful requests.', labelled('kes_http_request_success', m.success));
  family('kes_http_request_error', 'counter', 'Number of failed requests due to client errors.', labelled('kes_http_request_error', m.error));
  family('kes_http_request_failure', 'counter', 'Number of failed requests due to server errors.', labelled('kes_http_request_failure', m.failure));
  family('kes_http_request_active', 'gauge', 'Number of active requests.', [`kes_http_request_active ${m.active}`]);
  const hist = ResponseTimeBuckets.map((b, i) => `kes_http_response_time_bucket{le="${formatValue(b)}"} ${m.buckets[i]}`);
  hist.push(`kes_http_response_time_bucket{le="+Inf"} ${m.count}`);
  hist.push(`kes_http_response_time_sum ${formatValue(m.sum)}`, `kes_http_response_time_count ${m.count}`);
  family('kes_http_response_time', 'histogram', 'Histogram of request response times in seconds.', hist);
  family('kes_log_audit_events', 'counter', 'Number of audit log events written to subscribers.', [`kes_log_audit_events ${m.auditEvents}`]);
  family('kes_log_error_events', 'counter', 'Number of error log events written to subscribers.', [`kes_log_error_events ${m.errorEvents}`]);
  family('kes_system_mem_heap_objects', 'gauge', 'Number of objects on the heap.', [`kes_system_mem_heap_objects ${sys.heapObjects}`]);
  family('kes_system_mem_heap_used', 'gauge', 'Number of bytes used on the heap.', [`kes_system_mem_heap_used ${sys.heapUsed}`]);
  family('kes_system_mem_stack_used', 'gauge', 'Number of bytes used on the stack.', [`kes_system_mem_stack_used ${sys.stackUsed}`]);
  family('kes_system_num_cpu', 'gauge', 'Number of logical CPUs.', [`kes_system_num_cpu ${sys.numCpu}`]);
  family('kes_system_num_cpu_used', 'gauge', 'Number of usable CPUs.', [`kes_system_num_cpu_used ${sys.numCpuUsed}`]);
  family('kes_system_num_threads', 'gauge', 'Number of worker threads serving requests.', [`kes_system_num_threads ${sys.threads}`]);
  family('kes_system_up_time', 'gauge', 'Time the server has been up in seconds.', [`kes_system_up_time ${formatValue(m.upTimeSeconds)}`]);
  return out.join('\n') + '\n';
}

export class Metrics {
  readonly #success = new Map<number, number>();
  readonly #error = new Map<number, number>();
  readonly #failure = new Map<number, number>();
  #active = 0;
  readonly #buckets = ResponseTimeBuckets.map(() => 0);
  #count = 0;
  #sum = 0;
  #errorEvents = 0;
  #auditEvents = 0;
  readonly #start: number;
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#start = now();
  }

  /** Marks the start of a counted request; call the returned function with the status when done. */
  begin(): (status: number) => void {
    this.#active++;
    const t0 = this.#now();
    let done = false;
    return (status) => {
      if (done) return;
      done = true;
      this.#active--;
      this.observe(status, (this.#now() - t0) / 1000);
    };
  }

  observe(status: number, seconds: number): void {
    const table = status >= 500 ? this.#failure : status >= 400 ? this.#error : status >= 200 && status < 300 ? this.#success : undefined;
    if (table) table.set(status, (table.get(status) ?? 0) + 1);
    this.#count++;
    this.#sum += seconds;
    for (let i = 0; i < ResponseTimeBuckets.length; i++) {
      if (seconds <= ResponseTimeBuckets[i]) this.#buckets[i]++;
    }
  }

  errorEvents(n: number): void {
    this.#errorEvents += n;
  }

  auditEvents(n: number): void {
    this.#auditEvents += n;
  }

  /** The counters of this process, with its heap size. */
  snapshot(heapUsed: number = process.memoryUsage().heapUsed): MetricsSnapshot {
    return {
      success: [...this.#success.entries()],
      error: [...this.#error.entries()],
      failure: [...this.#failure.entries()],
      active: this.#active,
      buckets: [...this.#buckets],
      count: this.#count,
      sum: this.#sum,
      errorEvents: this.#errorEvents,
      auditEvents: this.#auditEvents,
      // 10 ms resolution, as upstream.
      upTimeSeconds: Math.round((this.#now() - this.#start) / 10) / 100,
      heapUsed,
    };
  }

  /** The exposition text of this process alone. */
  render(sys: SystemSample = systemSample()): string {
    return renderSnapshot(this.snapshot(sys.heapUsed), sys);
  }
}
