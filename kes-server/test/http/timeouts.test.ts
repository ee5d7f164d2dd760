/**
 * Connection deadlines (docs/protocol.md#transport): an HTTP/1 client that does not finish its request headers within
 * the read-header timeout is disconnected; one that does is served. An HTTP/2 connection that
 * does not send its client preface within 10 s is disconnected, as by Go's HTTP/2 server. Idle connections close after
 * the idle timeout, but a log stream is a response in progress and stays open however quiet.
 */
import assert from 'node:assert/strict';
import { connect as h2 } from 'node:http2';
import { request } from 'node:https';
import { createConnection, createServer } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { test } from 'node:test';
import { call } from '../support/client.ts';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';
import { startSideBySide } from '../support/side-by-side.ts';

const HEADER_MS = 300;

/** Opens an mTLS connection speaking HTTP/1.1, writes `data`, resolves with what came back once the server closes. */
function exchange(port: number, pki: ReturnType<typeof makePki>, data: string, limitMs: number): Promise<{ text: string; closedAfterMs: number }> {
  const client = pki.issueClient('slow');
  return new Promise((resolve, reject) => {
    let text = '';
    const t0 = performance.now();
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca: pki.caCert, servername: 'localhost', cert: client.cert, key: client.key, ALPNProtocols: ['http/1.1'] }, () => {
      socket.write(data);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`server kept the connection open for ${limitMs} ms; received: ${JSON.stringify(text)}`));
    }, limitMs);
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: performance.now() - t0 });
    });
  });
}

test('HTTP/1: incomplete request headers are cut off after the read-header timeout', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const { port } = await startKes(t, pki, { admin: admin.identity, extra: { readHeaderTimeoutMs: HEADER_MS } });
  const r = await exchange(port, pki, 'GET /version HTTP/1.1\r\nHost: localhost\r\n', 5000);
  assert.ok(r.closedAfterMs >= HEADER_MS, `closed after ${r.closedAfterMs} ms, before the timeout`);
  assert.doesNotMatch(r.text, /"version"/);
  assert.match(r.text, /^(HTTP\/1\.1 408 |$)/);
});

test('HTTP/1: a connection that sends nothing, a partial request line or one byte at a time is closed after the read-header timeout', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const { port } = await startKes(t, pki, { admin: admin.identity, extra: { readHeaderTimeoutMs: HEADER_MS } });
  for (const data of ['', 'GET /vers']) {
    // The upper bound only tells the deadline apart from the 90 s idle timeout (loaded CI machines).
    const r = await exchange(port, pki, data, 8000);
    assert.ok(r.closedAfterMs >= HEADER_MS && r.closedAfterMs < HEADER_MS + 6000, `${JSON.stringify(data)}: closed after ${Math.round(r.closedAfterMs)} ms`);
    // Cut silently by the deadline, or answered 408 by Node's parser when it noticed first.
    assert.match(r.text, /^(HTTP\/1\.1 408 |$)/);
  }
  // Slowloris: a header byte every 50 ms never completes in time.
  const client = pki.issueClient('slow');
  const t0 = performance.now();
  const closedAfter = await new Promise<number>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca: pki.caCert, servername: 'localhost', cert: client.cert, key: client.key, ALPNProtocols: ['http/1.1'] }, async () => {
      for (const c of 'GET /version HTTP/1.1\r\nHost: localhost\r\nX-Pad: ' + 'a'.repeat(100)) {
        if (socket.destroyed) return;
        socket.write(c);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(performance.now() - t0));
  });
  assert.ok(closedAfter >= HEADER_MS && closedAfter < HEADER_MS + 6000, `slowloris closed after ${Math.round(closedAfter)} ms`);
});

test('HTTP/1: complete request headers are served and the connection closes on request', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const { port } = await startKes(t, pki, { admin: admin.identity, extra: { readHeaderTimeoutMs: HEADER_MS } });
  const r = await exchange(port, pki, 'GET /version HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', 5000);
  assert.match(r.text, /^HTTP\/1\.1 200 /);
  assert.match(r.text, /"version":/);
});

test('TLS: a client that never completes the handshake is disconnected after the same timeout', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const { port } = await startKes(t, pki, { admin: admin.identity, extra: { readHeaderTimeoutMs: HEADER_MS } });
  const closedAfter = await new Promise<number>((resolve, reject) => {
    const t0 = performance.now();
    const socket = createConnection({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('server kept a silent TCP connection open for 5 s'));
    }, 5000);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - t0);
    });
  });
  assert.ok(closedAfter >= HEADER_MS - 50, `closed after ${closedAfter} ms`);
});

test('TLS: a handshake that completes after the timeout gets its connection closed, never an HTTP answer', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const s = await startKes(t, pki, { admin: admin.identity, extra: { readHeaderTimeoutMs: HEADER_MS } });
  // A proxy that passes the ClientHello at once and holds the client's second flight (certificate,
  // Finished) past the handshake timeout, as a server busy with many handshakes would read it late.
  const proxy = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: s.port });
    let flights = 0;
    client.on('data', (chunk: Buffer) => {
      flights++;
      if (flights === 1) upstream.write(chunk);
      else setTimeout(() => upstream.writable && upstream.write(chunk), HEADER_MS + 200);
    });
    upstream.on('data', (chunk: Buffer) => client.writable && client.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', () => setTimeout(end, 50)).on('error', end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(() => proxy.close());
  const port = (proxy.address() as { port: number }).port;
  const { text } = await exchange(port, pki, 'GET /v1/status HTTP/1.1\r\nhost: localhost\r\n\r\n', 5000).catch((err: Error) => ({ text: `failed: ${err.message}` }));
  assert.equal(text, '', 'no bytes of an HTTP answer after the handshake timed out');
  assert.ok(s.errorLines.some((l) => l.includes('TLS handshake timeout')), s.errorLines.join('\n'));
});

const IDLE_MS = 300;

/** Resolves true when `emitter` emits 'close' within `ms`. */
function closesWithin(emitter: { once(e: 'close', l: () => void): unknown }, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    emitter.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

for (const protocol of ['http/1.1', 'h2'] as const) {
  test(`${protocol}: a quiet log stream outlives the idle timeout and still receives events`, async (t) => {
    const pki = makePki();
    const admin = pki.issueClient('admin');
    const { port } = await startKes(t, pki, { admin: admin.identity, extra: { idleTimeoutMs: IDLE_MS } });
    const received: string[] = [];
    let closed: Promise<boolean>;
    if (protocol === 'h2') {
      const session = h2(`https://127.0.0.1:${port}`, { ca: pki.caCert, servername: 'localhost', cert: admin.cert, key: admin.key });
      session.on('error', () => {});
      t.after(() => session.destroy());
      const stream = session.request({ ':path': '/v1/log/audit' });
      stream.on('data', (c: Buffer) => received.push(c.toString()));
      closed = closesWithin(stream, IDLE_MS * 4);
    } else {
      const req = request({ host: '127.0.0.1', port, path: '/v1/log/audit', ca: pki.caCert, servername: 'localhost', cert: admin.cert, key: admin.key, agent: false }, (res) => {
        res.on('data', (c: Buffer) => received.push(c.toString()));
      });
      req.on('error', () => {});
      req.end();
      t.after(() => req.destroy());
      closed = closesWithin(req, IDLE_MS * 4);
    }
    assert.equal(await closed, false, 'the log stream was closed while idle');
    assert.equal((await call({ port, ca: pki.caCert, client: admin, method: 'POST', path: '/v1/key/create/late' })).status, 200);
    for (let i = 0; i < 50 && !received.join('').includes('/v1/key/create/late'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(received.join(''), /"path":"\/v1\/key\/create\/late"/);
  });
}

test('h2: an idle session is closed after the idle timeout, also once its log stream has ended', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const { port } = await startKes(t, pki, { admin: admin.identity, extra: { idleTimeoutMs: IDLE_MS } });
  const open = () => {
    const session = h2(`https://127.0.0.1:${port}`, { ca: pki.caCert, servername: 'localhost', cert: admin.cert, key: admin.key });
    session.on('error', () => {});
    t.after(() => session.destroy());
    return session;
  };
  const idle = open();
  assert.equal(await closesWithin(idle, IDLE_MS * 10), true, 'idle session without streams stays open');
  const session = open();
  const stream = session.request({ ':path': '/v1/log/error' });
  await new Promise((r) => stream.once('response', r));
  stream.close();
  assert.equal(await closesWithin(session, IDLE_MS * 10), true, 'session stays open after its log stream ended');
});

/** The client connection preface of HTTP/2: the magic, then an empty SETTINGS frame. */
const H2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

test('silent connections: HTTP/1 closed after 5 s, HTTP/2 without client preface after 10 s, HTTP/2 with it kept; the same on minio/kes', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const servers = await startSideBySide(t, pki, { admin: admin.identity, policies: {}, probe: admin });
  const watchMs = 14_000;
  /** When the server closed a TLS connection that sent `data` (or nothing), undefined if it was open after `watchMs`. */
  const closedAfter = (port: number, alpn: string, data?: Buffer): Promise<number | undefined> =>
    new Promise((resolve) => {
      // From the end of the handshake, where both servers start their deadlines.
      let t0 = performance.now();
      const socket = connect({ host: '127.0.0.1', port, ca: pki.caCert, servername: 'localhost', cert: admin.cert, key: admin.key, ALPNProtocols: [alpn] }, () => {
        t0 = performance.now();
        if (data) socket.write(data);
      });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(undefined);
      }, watchMs);
      socket.on('data', () => {});
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(performance.now() - t0);
      });
    });
  const runs = [...servers.values()].map(async (s) => {
    const [h1, h2Silent, h2Preface] = await Promise.all([closedAfter(s.port, 'http/1.1'), closedAfter(s.port, 'h2'), closedAfter(s.port, 'h2', H2_PREFACE)]);
    t.diagnostic(`${s.name}: HTTP/1 silent closed after ${h1?.toFixed(0)} ms, h2 silent after ${h2Silent?.toFixed(0)} ms, h2 with preface ${h2Preface === undefined ? `open after ${watchMs} ms` : `closed after ${h2Preface.toFixed(0)} ms`}`);
    // Lower bounds are the deadlines; upper bounds leave room for a loaded machine.
    assert.ok(h1 !== undefined && h1 >= 4_900 && h1 < 8_000, `${s.name}: HTTP/1 silent closed after ${h1} ms, want 5 s`);
    assert.ok(h2Silent !== undefined && h2Silent >= 9_900 && h2Silent < 13_000, `${s.name}: h2 silent closed after ${h2Silent} ms, want 10 s`);
    assert.equal(h2Preface, undefined, `${s.name}: an h2 session that sent its preface is idle, not silent (90 s)`);
  });
  await Promise.all(runs);
});
