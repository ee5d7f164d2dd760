/**
 * A small mTLS client for the benchmark: long-lived HTTP/2 sessions or HTTP/1.1 keep-alive
 * connections to one KES endpoint, and bounded request helpers. Bodies are read whole and capped;
 * every request has a timeout.
 */
import { connect, type ClientHttp2Session } from 'node:http2';
import { Agent, request } from 'node:https';

export interface Endpoint {
  readonly port: number;
  /** PEM of the server certificate (self-signed), trusted as the only CA. */
  readonly ca: string;
  /** Client certificate and key (PEM): the API key's Ed25519 certificate. */
  readonly cert: string;
  readonly key: string;
}

export interface Reply {
  readonly status: number;
  readonly body: string;
}

/** Thrown for transport failures and timeouts; never carries request or response bodies. */
export class BenchClientError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(`bench client: ${message}`);
    this.name = 'BenchClientError';
    this.code = code;
  }
}

const MAX_BODY = 64 * 1024;

/** Opens one HTTP/2 session over TLS to 127.0.0.1 and waits until it is connected. */
export function openSession(ep: Endpoint, timeoutMs = 10_000): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(`https://127.0.0.1:${ep.port}`, { ca: ep.ca, cert: ep.cert, key: ep.key, servername: 'localhost' });
    const timer = setTimeout(() => {
      session.destroy();
      reject(new BenchClientError('CONNECT_TIMEOUT', `no HTTP/2 session to port ${ep.port} within ${timeoutMs} ms`));
    }, timeoutMs);
    session.once('connect', () => {
      clearTimeout(timer);
      session.removeAllListeners('error');
      // Later session errors surface through the streams that fail with them.
      session.on('error', () => {});
      resolve(session);
    });
    session.once('error', (err) => {
      clearTimeout(timer);
      reject(new BenchClientError('CONNECT_FAILED', `cannot connect to port ${ep.port}: ${err.message}`));
    });
  });
}

/** Sends one request on an open session; resolves with status and body (≤ 64 KiB). */
export function send(session: ClientHttp2Session, method: string, path: string, body?: string, timeoutMs = 15_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ':method': method, ':path': path };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    let stream;
    try {
      stream = session.request(headers, { endStream: body === undefined });
    } catch (err) {
      reject(new BenchClientError('REQUEST_FAILED', `${method} ${path}: ${(err as Error).message}`));
      return;
    }
    let status = 0;
    let size = 0;
    let settled = false;
    const chunks: Buffer[] = [];
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve({ status, body: Buffer.concat(chunks).toString('utf8') });
    };
    const timer = setTimeout(() => {
      stream.close();
      finish(new BenchClientError('TIMEOUT', `${method} ${path}: no response within ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        stream.close();
        finish(new BenchClientError('BODY_TOO_LARGE', `${method} ${path}: response body over ${MAX_BODY} bytes`));
        return;
      }
      chunks.push(c);
    });
    stream.on('end', () => finish(status === 0 ? new BenchClientError('NO_RESPONSE', `${method} ${path}: stream ended without a response`) : null));
    stream.on('error', (err) => finish(new BenchClientError('REQUEST_FAILED', `${method} ${path}: ${err.message}`)));
    stream.on('close', () => finish(new BenchClientError('NO_RESPONSE', `${method} ${path}: stream closed without a response`)));
    if (body !== undefined) stream.end(body);
  });
}

/** Closes sessions gracefully, destroying any that has not closed within `timeoutMs`. */
export async function closeSessions(sessions: readonly ClientHttp2Session[], timeoutMs = 2_000): Promise<void> {
  await Promise.all(
    sessions.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.closed || s.destroyed) return resolve();
          const timer = setTimeout(() => {
            s.destroy();
            resolve();
          }, timeoutMs);
          s.close(() => {
            clearTimeout(timer);
            resolve();
          });
        }),
    ),
  );
}

/**
 * An HTTP/1.1 keep-alive connection pool of up to `sockets` connections (one per request in
 * flight); `false` in `send1` means a fresh connection for the request, closed after it.
 */
export function http1Pool(ep: Endpoint, sockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets, scheduling: 'fifo', ca: ep.ca, cert: ep.cert, key: ep.key, servername: 'localhost' });
}

/** Sends one HTTP/1.1 request through `agent` (or on a new connection); resolves with status and body (≤ 64 KiB). */
export function send1(ep: Endpoint, agent: Agent | false, method: string, path: string, body?: string, timeoutMs = 15_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = request(
      { host: '127.0.0.1', port: ep.port, method, path, headers, agent, ca: ep.ca, cert: ep.cert, key: ep.key, servername: 'localhost', timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) {
            req.destroy(new BenchClientError('BODY_TOO_LARGE', `${method} ${path}: response body over ${MAX_BODY} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => reject(new BenchClientError('REQUEST_FAILED', `${method} ${path}: ${err.message}`)));
      },
    );
    req.on('timeout', () => req.destroy(new BenchClientError('TIMEOUT', `${method} ${path}: no response within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof BenchClientError ? err : new BenchClientError('REQUEST_FAILED', `${method} ${path}: ${err.message}`)));
    req.end(body);
  });
}
