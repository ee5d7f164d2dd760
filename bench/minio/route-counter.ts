/**
 * A TLS front for one KES server that counts MinIO's requests by route (`generate`, `decrypt`, …)
 * and forwards each to the server over HTTP/2 with MinIO's own client certificate. KES metrics
 * count requests but not which ones; the smoke test puts this front between MinIO and each KES to
 * show that a PUT costs one `generate` and a GET one `decrypt`. Not used when measuring: it adds
 * a hop.
 */
import type { TLSSocket } from 'node:tls';
import { connect, createSecureServer, type ClientHttp2Session, type Http2SecureServer, type IncomingHttpHeaders } from 'node:http2';

export interface FrontTls {
  /** Certificate and key the front serves (MinIO trusts the KES server certificate). */
  readonly serverCert: string;
  readonly serverKey: string;
  /** MinIO's client certificate and key, presented to the KES server. */
  readonly clientCert: string;
  readonly clientKey: string;
}

/** `/v1/key/generate/bench-key` → `generate`; `/v1/status` → `status`. */
export function routeOf(path: string): string {
  const m = /^\/v1\/(?:key\/)?([a-z]+)/.exec(path);
  return m ? m[1] : path;
}

const HOP_BY_HOP = new Set([':status', 'connection', 'keep-alive', 'transfer-encoding']);

export class RouteCounter {
  readonly counts = new Map<string, number>();
  /** Requests by HTTP version MinIO used (`2.0` or `1.1`). */
  readonly versions = new Map<string, number>();
  readonly #server: Http2SecureServer;
  readonly #upstream: ClientHttp2Session;
  readonly #sockets = new Set<TLSSocket>();
  port = 0;

  private constructor(server: Http2SecureServer, upstream: ClientHttp2Session) {
    this.#server = server;
    this.#upstream = upstream;
  }

  /** Listens on a free loopback port and forwards to the KES server on `kesPort`. */
  static async start(kesPort: number, tls: FrontTls): Promise<RouteCounter> {
    const upstream = connect(`https://127.0.0.1:${kesPort}`, { ca: tls.serverCert, cert: tls.clientCert, key: tls.clientKey, servername: 'localhost' });
    upstream.on('error', () => {});
    // HTTP/1.1 too, in case MinIO's client does not negotiate h2: the compatibility API serves both.
    const server = createSecureServer({ cert: tls.serverCert, key: tls.serverKey, allowHTTP1: true });
    const front = new RouteCounter(server, upstream);
    server.on('secureConnection', (socket: TLSSocket) => {
      front.#sockets.add(socket);
      socket.once('close', () => front.#sockets.delete(socket));
    });
    server.on('request', (req, res) => {
      const path = req.url;
      const route = routeOf(path);
      front.counts.set(route, (front.counts.get(route) ?? 0) + 1);
      front.versions.set(req.httpVersion, (front.versions.get(req.httpVersion) ?? 0) + 1);
      const headers: IncomingHttpHeaders = { ':method': req.method, ':path': path };
      for (const name of ['content-type', 'content-length', 'accept']) if (req.headers[name] !== undefined) headers[name] = req.headers[name];
      const forwarded = upstream.request(headers);
      forwarded.on('response', (h) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(h)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v as string | string[];
        res.writeHead(Number(h[':status']), out);
        forwarded.pipe(res);
      });
      forwarded.on('error', () => res.destroy());
      req.pipe(forwarded);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    front.port = typeof address === 'object' && address !== null ? address.port : 0;
    return front;
  }

  async close(): Promise<void> {
    this.#upstream.destroy();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
