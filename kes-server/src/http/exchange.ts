/**
 * One request and its response as the dispatcher sees them, whichever protocol carried them.
 * HTTP/1.1 requests arrive as node:http's request and response objects; HTTP/2 streams are served
 * directly on the stream, without the request/response objects of Node's HTTP/2 compatibility
 * layer: 4 % fewer instructions per generate request (bench/README.md). The HTTP/2 answers are
 * the ones the compatibility layer sent: same status, lower-cased headers, `date`, body.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { constants, type ServerHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { HttpResponse } from './route.ts';

export interface Exchange {
  readonly method: string;
  /** The request target (path and query). */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly socket: TLSSocket;
  /** The request body ('data', 'end', 'error', 'aborted'). */
  readonly body: Readable;
  readonly res: HttpResponse;
  /** Ends the exchange without an answer: the HTTP/2 stream is reset, an HTTP/1 connection closed. */
  tearDown(): void;
  /**
   * Lifts the idle timeout of the connection (HTTP/1 socket, HTTP/2 session) for a long-lived
   * response; returns the function that restores it.
   */
  holdOpen(): () => void;
}

/** What `setTimeout` on a connection needs, and the server's idle timeout to restore. */
interface Timed {
  setTimeout(ms: number): unknown;
}

function holdOpenOn(target: Timed, socket: TLSSocket): () => void {
  const server = (socket as unknown as { server?: { timeout?: number } }).server;
  target.setTimeout(0);
  return () => {
    if (server?.timeout) target.setTimeout(server.timeout);
  };
}

/** An HTTP/1.1 exchange: node:http's request and response. */
export function http1Exchange(req: IncomingMessage, res: ServerResponse): Exchange {
  const socket = req.socket as TLSSocket;
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers: req.headers,
    socket,
    body: req,
    res: res as unknown as HttpResponse,
    tearDown: () => socket.destroy(),
    holdOpen: () => holdOpenOn(socket, socket),
  };
}

/**
 * An HTTP/2 exchange on one stream; it is its own response. Headers given to `writeHead` are
 * sent with the first `write` or with `end`, so a short answer leaves in one HEADERS frame and
 * one DATA frame that ends the stream.
 */
export class Http2Exchange implements Exchange, HttpResponse {
  readonly stream: ServerHttp2Stream;
  readonly headers: IncomingHttpHeaders;
  #head: OutgoingHttpHeaders | undefined;
  #ended = false;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders) {
    this.stream = stream;
    this.headers = headers;
  }

  get method(): string {
    return (this.headers[':method'] as string | undefined) ?? 'GET';
  }

  get url(): string {
    return (this.headers[':path'] as string | undefined) ?? '/';
  }

  get socket(): TLSSocket {
    return this.stream.session!.socket as TLSSocket;
  }

  get body(): Readable {
    return this.stream;
  }

  get res(): HttpResponse {
    return this;
  }

  // INTERNAL_ERROR, the code Go's HTTP/2 server resets a stream with when its write deadline passes.
  tearDown(): void {
    this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }

  holdOpen(): () => void {
    return holdOpenOn(this.stream.session!, this.socket);
  }

  get headersSent(): boolean {
    return this.#head !== undefined || this.stream.headersSent;
  }

  get writableEnded(): boolean {
    return this.#ended;
  }

  #gone(): boolean {
    return this.stream.destroyed || this.stream.closed;
  }

  writeHead(status: number, headers: Record<string, string | number> = {}): this {
    if (this.#gone()) return this;
    const head: OutgoingHttpHeaders = { ':status': status };
    for (const name in headers) head[name.toLowerCase()] = headers[name];
    this.#head = head;
    return this;
  }

  #sendHead(endStream: boolean): void {
    const head = this.#head ?? { ':status': 200 };
    this.#head = undefined;
    this.stream.respond(head, { endStream });
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.#ended || this.#gone()) return false;
    if (!this.stream.headersSent) this.#sendHead(false);
    return this.stream.writableEnded ? false : this.stream.write(chunk);
  }

  end(chunk?: string | Uint8Array): this {
    if (this.#ended) return this;
    this.#ended = true;
    if (this.#gone()) return this;
    const empty = chunk === undefined || chunk.length === 0;
    if (!this.stream.headersSent) this.#sendHead(empty);
    // A HEAD request's stream ends with its headers, as does one ended by them.
    if (!this.stream.writableEnded) {
      if (empty) {
        this.stream.end();
      } else {
        this.stream.destroy = destroyOnceWritten;
        this.stream.end(chunk);
      }
    }
    return this;
  }

  once(event: 'drain' | 'close', listener: () => void): this {
    this.stream.once(event, listener);
    return this;
  }

  on(event: 'close' | 'finish', listener: () => void): this {
    this.stream.on(event, listener);
    return this;
  }
}

/**
 * Node closes an HTTP/2 stream as soon as nghttp2 has sent its END_STREAM, and destroys it right
 * then when the request body was read, which for a short answer is before its last write is
 * reported done; that write's completion then finds the stream destroyed and Node's Writable
 * builds an ERR_STREAM_DESTROYED, stack trace included, that nothing receives (14 % of the
 * instructions of an HTTP/2 generate). So a clean close that comes while the last write is
 * still under way does not destroy: once the write is done, the 'finish' listener Node added
 * when it ended the stream destroys it, as it does for a stream whose body was not read.
 * A destroy with an error, after a reset, on a destroyed session or once the write is done goes
 * through at once. (An own property, never deleted: a delete turns the stream's properties into
 * a dictionary, slower for every access after it.)
 */
function destroyOnceWritten(this: ServerHttp2Stream, err?: Error): ServerHttp2Stream {
  const session = this.session;
  if (err == null && this.closed && this.rstCode === constants.NGHTTP2_NO_ERROR && !this.writableFinished && session !== undefined && !session.destroyed) return this;
  return (Object.getPrototypeOf(this) as ServerHttp2Stream).destroy.call(this, err);
}

/**
 * What Node's compatibility layer answers before any handler runs: CONNECT is refused (405),
 * `Expect: 100-continue` gets its interim 100, any other expectation 417. Returns true when the
 * stream was answered here.
 */
export function answeredBeforeDispatch(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): boolean {
  if (headers[':method'] === 'CONNECT') {
    stream.respond({ ':status': 405 }, { endStream: true });
    return true;
  }
  const expect = headers.expect;
  if (expect === undefined) return false;
  if (expect === '100-continue') {
    stream.additionalHeaders({ ':status': 100 });
    return false;
  }
  stream.respond({ ':status': 417 }, { endStream: true });
  return true;
}
