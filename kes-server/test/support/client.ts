/** A minimal mTLS client speaking HTTP/1.1 (node:https) or HTTP/2 (node:http2). */
import { connect as h2connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { registerKesBodies } from '../../../sandbox/log-sweep.ts';

export interface ClientCredential {
  readonly cert: string;
  readonly key: string;
}

export interface CallOptions {
  readonly port: number;
  readonly ca: string;
  /** Absent: no client certificate. */
  readonly client?: ClientCredential;
  readonly method?: string;
  readonly path: string;
  readonly body?: string | Uint8Array;
  readonly headers?: Record<string, string>;
  readonly http2?: boolean;
  /** Give up after this many ms (default 10 s). */
  readonly timeoutMs?: number;
}

export interface CallResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly text: string;
  readonly protocol: string;
}

/** Sends one request on a fresh connection and reads the whole response. */
export async function call(o: CallOptions): Promise<CallResult> {
  const result = await (o.http2 ? call2(o) : call1(o));
  registerKesBodies(o.body, result.body);
  return result;
}

function call1(o: CallOptions): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: o.port,
        method: o.method ?? 'GET',
        path: o.path,
        ca: o.ca,
        servername: 'localhost',
        ...(o.client ? { cert: o.client.cert, key: o.client.key } : {}),
        headers: { ...o.headers, ...(o.body !== undefined ? { 'Content-Length': Buffer.byteLength(o.body) } : {}) },
        agent: false,
        timeout: o.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8'), protocol: 'http/1.1' });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(o.body);
  });
}

function call2(o: CallOptions): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`https://127.0.0.1:${o.port}`, {
      ca: o.ca,
      servername: 'localhost',
      ...(o.client ? { cert: o.client.cert, key: o.client.key } : {}),
    });
    const fail = (err: Error): void => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    };
    session.on('error', (err) => fail(err));
    const timer: NodeJS.Timeout = setTimeout(() => fail(new Error('request timed out')), o.timeoutMs ?? 10_000);
    const headers: Record<string, string | number> = { ':method': o.method ?? 'GET', ':path': o.path, ...o.headers };
    if (o.body !== undefined) headers['content-length'] = Buffer.byteLength(o.body);
    const stream = session.request(headers);
    let status = 0;
    let respHeaders: Record<string, string | string[] | undefined> = {};
    stream.on('response', (h) => {
      status = Number(h[':status']);
      respHeaders = h as Record<string, string | string[] | undefined>;
    });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      clearTimeout(timer);
      session.close();
      if (status === 0) {
        reject(new Error('connection closed without a response'));
        return;
      }
      const body = Buffer.concat(chunks);
      resolve({ status, headers: respHeaders, body, text: body.toString('utf8'), protocol: 'h2' });
    });
    stream.on('error', fail);
    stream.on('close', () => {
      if (status === 0) fail(new Error('connection closed without a response'));
    });
    stream.end(o.body);
  });
}
