/**
 * A plain-HTTP forwarding proxy that records the method and path of every request it passes on:
 * put in front of OpenBao, it counts what a KES key store really asks Vault for.
 */
import { createServer, request, type Server } from 'node:http';

export interface CountingProxy {
  readonly server: Server;
  /** `http://127.0.0.1:<port>`: the address to give the client instead of the target's. */
  readonly address: string;
  /** `METHOD /path?query` of every request so far, in arrival order. */
  readonly seen: string[];
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port that forwards every request to `target` (plain HTTP). */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const seen: string[] = [];
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    server,
    address: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
