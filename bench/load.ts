/**
 * Load generator, run as its own process (`fork`): receives one LoadJob over IPC, drives one
 * operation against one server with a fixed number of requests in flight, over several HTTP/2
 * sessions or over HTTP/1.1 keep-alive connections (one per request in flight), checks every
 * response, and sends back a LoadResult. `handshake` opens a new connection for every request
 * (full mTLS handshake, one generate, close). Warm-up requests are checked but not timed. Both
 * loops stop at their request count or their time limit, whichever comes first.
 */
import type { ClientHttp2Session } from 'node:http2';
import type { Agent } from 'node:https';
import { performance } from 'node:perf_hooks';
import { closeSessions, type Endpoint, http1Pool, openSession, type Reply, send, send1 } from './client.ts';
import type { Protocol } from './options.ts';
import { summarize, type LatencySummary } from './stats.ts';

export const OPERATIONS = ['generate', 'decrypt', 'describe', 'create', 'handshake'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface LoadJob {
  readonly endpoint: Endpoint;
  readonly operation: Operation;
  /** The key created up front; used by generate, decrypt and describe. */
  readonly keyName: string;
  /** Prefix of the unique names `create` uses (unique per server and run). */
  readonly createPrefix: string;
  readonly protocol: Protocol;
  readonly requests: number;
  readonly warmup: number;
  readonly concurrency: number;
  readonly sessions: number;
  /** Time limit of each loop (warm-up, measured), in ms. */
  readonly phaseTimeoutMs: number;
}

export type LoadResult =
  | ({
      readonly ok: true;
      readonly requests: number;
      readonly elapsedMs: number;
      readonly timeLimited: boolean;
      readonly verified: number;
      /** CPU time (user + system) of the load generator during the measured loop. */
      readonly clientCpuMs: number;
    } & LatencySummary)
  | { readonly ok: false; readonly error: string };

/** A failed check. Messages name the request and what was wrong, never a key or plaintext. */
class CheckError extends Error {}

interface Request {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly check: (status: number, body: string) => void;
}

const POOL = 64;
const SAMPLES = 16;
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const contextOf = (i: number): string => b64(JSON.stringify({ bucket: `bench/object-${i % POOL}` }));

function parse(body: string, what: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body);
    if (typeof v === 'object' && v !== null) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new CheckError(`${what}: response is not a JSON object`);
}

function expectStatus(status: number, body: string, what: string): void {
  if (status === 200) return;
  let msg = '';
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof m === 'string') msg = `: ${m.slice(0, 200)}`;
  } catch {
    // no JSON error body
  }
  throw new CheckError(`${what}: status ${status}${msg}`);
}

const sameBytes = (a: string, b: string): boolean => a === b || Buffer.from(a, 'base64').equals(Buffer.from(b, 'base64'));

interface Dek {
  readonly context: string;
  readonly plaintext: string;
  readonly ciphertext: string;
}

function generateRequest(key: string, i: number, sink?: (d: Dek) => void): Request {
  const context = contextOf(i);
  return {
    method: 'POST',
    path: `/v1/key/generate/${key}`,
    body: JSON.stringify({ context }),
    check: (status, body) => {
      expectStatus(status, body, 'generate');
      const r = parse(body, 'generate');
      if (typeof r.plaintext !== 'string' || Buffer.from(r.plaintext, 'base64').length !== 32) throw new CheckError('generate: plaintext is not a 32-byte key');
      if (typeof r.ciphertext !== 'string' || r.ciphertext.length === 0) throw new CheckError('generate: no ciphertext');
      sink?.({ context, plaintext: r.plaintext, ciphertext: r.ciphertext });
    },
  };
}

function decryptRequest(key: string, dek: Dek): Request {
  return {
    method: 'POST',
    path: `/v1/key/decrypt/${key}`,
    body: JSON.stringify({ ciphertext: dek.ciphertext, context: dek.context }),
    check: (status, body) => {
      expectStatus(status, body, 'decrypt');
      const r = parse(body, 'decrypt');
      if (typeof r.plaintext !== 'string' || !sameBytes(r.plaintext, dek.plaintext)) throw new CheckError('decrypt: plaintext differs from the generated one');
    },
  };
}

function describeRequest(key: string): Request {
  return {
    method: 'GET',
    path: `/v1/key/describe/${key}`,
    check: (status, body) => {
      expectStatus(status, body, 'describe');
      const r = parse(body, 'describe');
      if (r.name !== key) throw new CheckError('describe: wrong key name');
      if (typeof r.algorithm !== 'string' || r.algorithm === '') throw new CheckError('describe: no algorithm');
    },
  };
}

function createRequest(name: string): Request {
  return { method: 'POST', path: `/v1/key/create/${name}`, check: (status, body) => expectStatus(status, body, 'create') };
}

/** Sends one request somewhere (a session, a connection pool, a new connection). */
type Sender = (method: string, path: string, body?: string) => Promise<Reply>;

interface LoopResult {
  readonly done: number;
  readonly elapsedMs: number;
  readonly timeLimited: boolean;
}

/**
 * Runs `count` requests from `make(i)` with `concurrency` in flight, worker w on sender
 * w mod senders. Stops at the count, the time limit, or the first failure (which it throws).
 */
async function loop(
  senders: readonly Sender[],
  concurrency: number,
  count: number,
  timeLimitMs: number,
  make: (i: number) => Request,
  latencies?: Float64Array,
): Promise<LoopResult> {
  let next = 0;
  let done = 0;
  let failure: Error | undefined;
  const start = performance.now();
  const deadline = start + timeLimitMs;
  const worker = async (w: number): Promise<void> => {
    const sender = senders[w % senders.length];
    while (failure === undefined && next < count && performance.now() < deadline) {
      const i = next++;
      const req = make(i);
      const t0 = performance.now();
      try {
        const reply = await sender(req.method, req.path, req.body);
        const dt = performance.now() - t0;
        req.check(reply.status, reply.body);
        if (latencies) latencies[i] = dt;
        done++;
      } catch (err) {
        failure ??= err as Error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, (_, w) => worker(w)));
  const elapsedMs = performance.now() - start;
  if (failure) throw failure;
  return { done, elapsedMs, timeLimited: done < count };
}

/** Called right before and right after the measured loop (the parent samples server CPU). */
export interface Marks {
  readonly start: () => Promise<void>;
  readonly end: () => Promise<void>;
}

const noMarks: Marks = { start: async () => {}, end: async () => {} };

/** Runs one job to completion; failures are returned as `{ ok: false }`. */
export async function runJob(job: LoadJob, marks: Marks = noMarks): Promise<LoadResult> {
  const sessions: ClientHttp2Session[] = [];
  let keepAlive: Agent | undefined;
  try {
    const ep = job.endpoint;
    let senders: Sender[];
    let fresh: Sender;
    if (job.protocol === 'h2') {
      for (let i = 0; i < job.sessions; i++) sessions.push(await openSession(ep));
      senders = sessions.map((s) => (m, p, b) => send(s, m, p, b));
      fresh = async (m, p, b) => {
        const s = await openSession(ep);
        try {
          return await send(s, m, p, b);
        } finally {
          await closeSessions([s]);
        }
      };
    } else {
      const agent = http1Pool(ep, job.concurrency);
      keepAlive = agent;
      senders = [(m, p, b) => send1(ep, agent, m, p, b)];
      fresh = (m, p, b) => send1(ep, false, m, p, b);
    }
    const timed = job.operation === 'handshake' ? [fresh] : senders;
    const one = async (req: Request): Promise<void> => {
      const r = await senders[0](req.method, req.path, req.body);
      req.check(r.status, r.body);
    };

    // Operation-specific set-up (not timed).
    const pool: Dek[] = [];
    if (job.operation === 'decrypt') {
      for (let i = 0; i < POOL; i++) await one(generateRequest(job.keyName, i, (d) => pool.push(d)));
    }
    const samples: Dek[] = [];
    const every = Math.max(1, Math.floor(job.requests / SAMPLES));
    const make = (offset: number) => (i: number): Request => {
      switch (job.operation) {
        case 'generate':
        case 'handshake':
          return generateRequest(job.keyName, i, offset > 0 && i % every === 0 ? (d) => samples.push(d) : undefined);
        case 'decrypt':
          return decryptRequest(job.keyName, pool[i % POOL]);
        case 'describe':
          return describeRequest(job.keyName);
        case 'create':
          return createRequest(`${job.createPrefix}-${offset > 0 ? 'm' : 'w'}${i}`);
        default: {
          const never: never = job.operation;
          throw new Error(`unknown operation ${String(never)}`);
        }
      }
    };

    await loop(timed, job.concurrency, job.warmup, job.phaseTimeoutMs, make(0));
    const latencies = new Float64Array(job.requests);
    await marks.start();
    const cpu0 = process.cpuUsage();
    const measured = await loop(timed, job.concurrency, job.requests, job.phaseTimeoutMs, make(1), latencies);
    const cpu = process.cpuUsage(cpu0);
    await marks.end();

    // Verification after timing: generated keys decrypt to their plaintexts; created keys exist.
    let verified = 0;
    for (const dek of samples) {
      await one(decryptRequest(job.keyName, dek));
      verified++;
    }
    if (job.operation === 'create') {
      for (let i = 0; i < measured.done; i += Math.max(1, Math.floor(measured.done / SAMPLES))) {
        await one(describeRequest(`${job.createPrefix}-m${i}`));
        verified++;
      }
    }
    if (job.operation === 'decrypt' || job.operation === 'describe') verified = measured.done;
    return {
      ok: true,
      requests: measured.done,
      elapsedMs: measured.elapsedMs,
      timeLimited: measured.timeLimited,
      verified,
      clientCpuMs: (cpu.user + cpu.system) / 1000,
      ...summarize(latencies.subarray(0, measured.done)),
    };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    await closeSessions(sessions);
    keepAlive?.destroy();
  }
}

/** Messages between the parent and a forked load generator. */
export type ChildMessage = { readonly kind: 'mark'; readonly mark: 'start' | 'end' } | { readonly kind: 'result'; readonly result: LoadResult };
export type ParentMessage = { readonly kind: 'job'; readonly job: LoadJob } | { readonly kind: 'ack' };

/** A mark sent to the parent, resolved by its ack (or after 5 s without one). */
function ipcMark(mark: 'start' | 'end'): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, 5_000);
    function done(): void {
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve();
    }
    function onMessage(m: ParentMessage): void {
      if (m.kind === 'ack') done();
    }
    process.on('message', onMessage);
    process.send!({ kind: 'mark', mark } satisfies ChildMessage);
  });
}

if (import.meta.main) {
  // A hard stop in case the parent disappears or a loop never ends.
  const guard = setTimeout(() => process.exit(3), 15 * 60_000);
  guard.unref();
  const onJob = (m: ParentMessage): void => {
    if (m.kind !== 'job') return;
    process.off('message', onJob);
    const ceiling = setTimeout(() => process.exit(3), 2 * m.job.phaseTimeoutMs + 120_000);
    ceiling.unref();
    void runJob(m.job, { start: () => ipcMark('start'), end: () => ipcMark('end') }).then((result) => {
      process.send!({ kind: 'result', result } satisfies ChildMessage, () => process.disconnect());
    });
  };
  process.on('message', onJob);
}
