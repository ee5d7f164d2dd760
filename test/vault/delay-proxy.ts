/**
 * A TCP proxy on loopback in front of a plain-HTTP OpenBao that makes it slow: every accepted
 * connection waits `delayMs` before it is joined to OpenBao (what the client sent meanwhile is
 * passed on then). KES sends one request per connection, so connections are requests: the proxy
 * counts them, remembers the request line of each and the most it held open at once.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class DelayProxy {
  /** Delay before a new connection reaches OpenBao; changeable at any time. */
  delayMs = 0;
  /** Request lines (`GET /v1/kv/data/kes/k?version=1`) in order of arrival. */
  readonly requests: string[] = [];
  #open = 0;
  #maxOpen = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(target: { host: string; port: number }) {
    this.#server = createServer((client) => this.#accept(client, target));
  }

  /** Listens on a free loopback port in front of `targetUrl` (`http://127.0.0.1:port`). */
  static async start(targetUrl: string): Promise<DelayProxy> {
    const url = new URL(targetUrl);
    const proxy = new DelayProxy({ host: url.hostname, port: Number(url.port) });
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get address(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Connections open right now. */
  get open(): number {
    return this.#open;
  }

  /** The most connections open at once since the last `resetCounts`. */
  get maxOpen(): number {
    return this.#maxOpen;
  }

  resetCounts(): void {
    this.requests.length = 0;
    this.#maxOpen = this.#open;
  }

  /** Requests whose path contains `fragment`. */
  count(fragment: string): number {
    return this.requests.filter((r) => r.includes(fragment)).length;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket, target: { host: string; port: number }): void {
    this.#track(client);
    this.#open++;
    this.#maxOpen = Math.max(this.#maxOpen, this.#open);
    client.once('close', () => this.#open--);
    let head = '';
    const record = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n')) return;
      this.requests.push(head.slice(0, head.indexOf('\r\n')).replace(/ HTTP\/1\.\d$/, ''));
      client.off('data', record);
    };
    const early: Buffer[] = [];
    const collect = (chunk: Buffer): void => void early.push(chunk);
    client.on('data', record);
    client.on('data', collect);
    client.on('error', () => {});
    setTimeout(() => {
      if (client.destroyed) return;
      const upstream = connect(target, () => {
        client.off('data', collect);
        for (const chunk of early) upstream.write(chunk);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      this.#track(upstream);
      upstream.on('error', () => client.destroy());
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.end());
    }, this.delayMs).unref();
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }
}
