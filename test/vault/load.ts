/**
 * Steady load on a KES server the way MinIO sends it: clients each holding one HTTP/2 session and
 * sending one request after another as the admin identity. Every request is recorded with its
 * kind, outcome and latency, so a fault test can say how many failed, how, and how long the
 * slowest took.
 */
import { connect, type ClientHttp2Session } from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pki } from '../../sandbox/deployment.ts';

export interface LoadRequest {
  /** Label the figures are grouped by (`cached`, `uncached`, …). */
  readonly kind: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
}

export interface Outcome {
  readonly kind: string;
  readonly path: string;
  /** HTTP status; 0 when there was no answer. */
  readonly status: number;
  readonly text: string;
  /** Why there was no answer (stream reset, session closed, client timeout). */
  readonly error?: string;
  readonly startedMs: number;
  readonly ms: number;
}

/** Sends `req` on `session`; never rejects. A request still open after `limitMs` is cancelled and says so. */
export function send(session: ClientHttp2Session, req: LoadRequest, limitMs: number, since: number): Promise<Outcome> {
  const started = performance.now();
  const out = (status: number, text: string, error?: string): Outcome => ({
    kind: req.kind,
    path: req.path,
    status,
    text,
    ...(error !== undefined ? { error } : {}),
    startedMs: started - since,
    ms: performance.now() - started,
  });
  return new Promise((resolve) => {
    let stream;
    try {
      stream = session.request({ ':method': req.method, ':path': req.path, ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}) });
    } catch (err) {
      resolve(out(0, '', `no stream: ${(err as Error).message}`));
      return;
    }
    let status = 0;
    let text = '';
    const timer = setTimeout(() => {
      stream.close();
      resolve(out(status, text, `still open after ${limitMs} ms`));
    }, limitMs);
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (text += c));
    stream.on('error', () => {});
    stream.on('close', () => {
      clearTimeout(timer);
      const reset = stream.rstCode !== undefined && stream.rstCode !== 0 ? `stream reset (code ${stream.rstCode})` : undefined;
      resolve(status === 0 ? out(0, text, reset ?? 'closed without an answer') : out(status, text, reset));
    });
    stream.end(req.body === undefined ? undefined : JSON.stringify(req.body));
  });
}

export interface LoadOptions {
  readonly url: string;
  readonly pki: Pki;
  /** One entry per client: what its `i`-th request is; undefined ends that client. */
  readonly clients: ReadonlyArray<(i: number) => LoadRequest | undefined>;
  readonly durationMs: number;
  /** A request open this long counts as hanging and is cancelled. */
  readonly limitMs: number;
  /** Pause of each client between two requests (keeps a shared machine usable). Default 10 ms. */
  readonly pauseMs?: number;
}

/** Opens an mTLS HTTP/2 session as the admin. */
export function adminSession(url: string, pki: Pki): ClientHttp2Session {
  const session = connect(url, { ca: pki.caPem, cert: pki.admin.certPem, key: pki.admin.keyPem, servername: 'localhost' });
  session.on('error', () => {});
  return session;
}

/** Runs every client until `durationMs` has passed (requests under way are awaited). */
export async function runLoad(o: LoadOptions): Promise<Outcome[]> {
  const since = performance.now();
  const outcomes: Outcome[] = [];
  await Promise.all(
    o.clients.map(async (next) => {
      let session = adminSession(o.url, o.pki);
      for (let i = 0; performance.now() - since < o.durationMs; i++) {
        const req = next(i);
        if (req === undefined) break;
        if (session.destroyed || session.closed) session = adminSession(o.url, o.pki);
        outcomes.push(await send(session, req, o.limitMs, since));
        await sleep(o.pauseMs ?? 10);
      }
      session.close();
    }),
  );
  return outcomes;
}

export interface Figures {
  readonly requests: number;
  readonly ok: number;
  /** Failures by answer: `502 failed to read key`, `stream reset (code 2)`, … */
  readonly failures: Record<string, number>;
  readonly maxMs: number;
  readonly p50Ms: number;
}

/** Counts and latencies of the outcomes of one kind. */
export function figures(outcomes: readonly Outcome[], kind: string): Figures {
  const mine = outcomes.filter((o) => o.kind === kind);
  const failures: Record<string, number> = {};
  for (const o of mine) {
    if (o.status === 200 && o.error === undefined) continue;
    const what = o.status === 0 ? (o.error ?? 'no answer') : `${o.status} ${messageOf(o.text)}`;
    failures[what] = (failures[what] ?? 0) + 1;
  }
  const ms = mine.map((o) => o.ms).sort((a, b) => a - b);
  return {
    requests: mine.length,
    ok: mine.filter((o) => o.status === 200 && o.error === undefined).length,
    failures,
    maxMs: Math.round(ms.at(-1) ?? 0),
    p50Ms: Math.round(ms[Math.floor(ms.length / 2)] ?? 0),
  };
}

function messageOf(text: string): string {
  try {
    return String(JSON.parse(text).message);
  } catch {
    return text.slice(0, 60);
  }
}

/** One line for test diagnostics and the docs: `kind: n requests, ok, failures, p50/max`. */
export function describe(kind: string, f: Figures): string {
  const failed = Object.entries(f.failures).map(([what, n]) => `${n}× ${what}`).join(', ');
  return `${kind}: ${f.requests} requests, ${f.ok} ok${failed ? `, ${failed}` : ''}; p50 ${f.p50Ms} ms, max ${f.maxMs} ms`;
}
