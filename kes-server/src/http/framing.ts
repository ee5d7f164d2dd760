/**
 * What Go's net/http server decides before any handler runs: which transfer codings a request
 * may use, and which request targets it serves. Doing the same keeps a proxy in front of the
 * server and the server itself agreeing on where one request ends and the next begins.
 */
import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from './route.ts';

/**
 * True when a request names a transfer coding the server does not implement. Only a single
 * `chunked` is understood; `gzip, chunked`, a repeated header or anything else is refused,
 * because a server that skips a coding it cannot decode reads a different message than the
 * client (or a proxy) sent.
 */
export function hasUnsupportedTransferCoding(transferEncoding: string | undefined): boolean {
  return transferEncoding !== undefined && transferEncoding.trim().toLowerCase() !== 'chunked';
}

/** Go's answer to an unsupported transfer coding: 501, plain text, connection closed. */
export function writeUnsupportedTransferCoding(res: HttpResponse): void {
  const body = Buffer.from('Unsupported transfer encoding');
  res.writeHead(501, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close', 'Content-Length': body.length });
  res.end(body);
}

/** Node's own answers to an HTTP/1 request it cannot parse, by parser error code. */
const PARSER_ANSWERS: Record<string, string> = {
  // Also a transfer coding Go does not implement (`chunked` not last, a repeated header): 501.
  HPE_INVALID_TRANSFER_ENCODING:
    'HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nUnsupported transfer encoding',
  HPE_HEADER_OVERFLOW: 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n',
  ERR_HTTP_REQUEST_TIMEOUT: 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n',
};
/** Go's answer to any other unparsable request. */
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request';

/** The response Node is still writing on a connection, to a request read before the bad one. */
interface PendingResponse {
  readonly writableFinished?: boolean;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

/** The connection as Node hands it to `clientError`, with the response in progress if any. */
interface ClientSocket {
  readonly writable: boolean;
  readonly _httpMessage?: PendingResponse | null;
  end(s?: string | Uint8Array): unknown;
  destroy(): unknown;
}

/** A parser error as Node hands it to `clientError`: the bytes it was parsing and where it stopped. */
export interface ParserError extends Error {
  readonly code?: string;
  readonly rawPacket?: Buffer;
  readonly bytesParsed?: number;
}

/** Answers a request whose method Node's parser refused; see the dispatcher's `unknownMethod`. */
export type UnknownMethodRouter = (method: string, target: string, res: HttpResponse) => void;

/**
 * The server's `clientError` listener: Node's default answers, except that a transfer coding
 * the parser refuses gets Go's 501 like the ones refused after parsing, a method Node's parser
 * does not know is routed as Go routes it, and any other malformed request gets Go's plain-text
 * 400. The connection is closed either way: Node's parser cannot go on after an error.
 */
export function answerClientError(err: ParserError, socket: ClientSocket, route?: UnknownMethodRouter): void {
  // A request read before the bad one (pipelined in the same packet) is still being served. Go
  // serves it to the end and only then reads on: the refusal waits for that answer, and is not
  // sent when the connection closes after it (HTTP/1.0, `Connection: close`). Refusing at once
  // would cut off an answer whose work is done: a key created, its 200 never sent.
  const pending = socket._httpMessage;
  if (pending != null && pending.writableFinished !== true) {
    let answered = false;
    const next = (): void => {
      if (answered) return;
      answered = true;
      answerClientError(err, socket, route);
    };
    pending.once('finish', next);
    pending.once('close', next);
    return;
  }
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const routed = err.code === 'HPE_INVALID_METHOD' && route ? answerUnknownMethod(err, route) : undefined;
  // Close our side first and the socket a little later, as Go does: closing at once with the
  // client's unread bytes still queued resets the connection, and the client never reads why.
  socket.end(routed ?? PARSER_ANSWERS[err.code ?? ''] ?? BAD_REQUEST);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/** A complete request head with any method token (RFC 9110 `token`), as Go's server reads it. */
const REQUEST_HEAD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/(\d)\.(\d)\r\n((?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n]*\r\n)*)\r\n/;

/**
 * The answer Go gives a request whose only fault, for Node, is an unknown method, or undefined
 * when the request is malformed for Go too (or not wholly in the packet Node was parsing).
 */
function answerUnknownMethod(err: ParserError, route: UnknownMethodRouter): Buffer | undefined {
  const packet = err.rawPacket;
  if (packet === undefined) return undefined;
  // The refused method begins the line the parser stopped in (after a pipelined request, too).
  const stop = Math.min(err.bytesParsed ?? 0, packet.length);
  const start = stop > 0 ? packet.lastIndexOf(0x0a, stop - 1) + 1 : 0;
  const head = REQUEST_HEAD.exec(packet.toString('latin1', start));
  if (head === null) return undefined;
  const [, method, target, major, minor, headerLines] = head;
  if (major !== '1') return Buffer.from(UNSUPPORTED_VERSION);
  const headers = headerLines.split('\r\n').map((line) => line.slice(0, line.indexOf(':')).toLowerCase());
  // Go's own checks before routing: exactly one Host on HTTP/1.1, and the transfer coding.
  if (minor !== '0' && headers.filter((h) => h === 'host').length !== 1) return undefined;
  const te = /\r\n?transfer-encoding:[ \t]*([^\r\n]*)/i.exec(`\r\n${headerLines}`);
  if (te !== null && hasUnsupportedTransferCoding(te[1])) return Buffer.from(PARSER_ANSWERS.HPE_INVALID_TRANSFER_ENCODING);
  const res = new ClosingResponse(minor === '0' ? 'HTTP/1.0' : 'HTTP/1.1');
  route(method, target, res);
  return res.bytes();
}

/** A response written as raw bytes for a connection that closes after it. */
class ClosingResponse implements HttpResponse {
  readonly #version: string;
  #head = '';
  readonly #body: Buffer[] = [];
  headersSent = false;
  writableEnded = false;

  constructor(version: string) {
    this.#version = version;
  }

  writeHead(status: number, headers: Record<string, string | number> = {}): this {
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
    this.#head = `${this.#version} ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines.join('')}Date: ${new Date().toUTCString()}\r\nConnection: close\r\n\r\n`;
    this.headersSent = true;
    return this;
  }

  write(chunk: string | Uint8Array): boolean {
    this.#body.push(Buffer.from(chunk));
    return true;
  }

  end(chunk?: string | Uint8Array): this {
    if (chunk !== undefined) this.write(chunk);
    this.writableEnded = true;
    return this;
  }

  once(): this {
    return this;
  }

  on(): this {
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat([Buffer.from(this.#head, 'latin1'), ...this.#body]);
  }
}

/** How long a refused connection may stay half-closed. */
const LINGER_MS = 500;

/**
 * True for an HTTP/1 connection's request whose version is not 1.x (`HTTP/2.0` in a request
 * line): Node's parser reads it as HTTP/1.1, Go refuses it.
 */
export function hasUnsupportedVersion(req: { readonly httpVersionMajor: number; readonly stream?: unknown }): boolean {
  return req.httpVersionMajor !== 1 && req.stream === undefined;
}

const UNSUPPORTED_VERSION_TEXT = '505 HTTP Version Not Supported: unsupported protocol version';
const UNSUPPORTED_VERSION = `HTTP/1.1 ${UNSUPPORTED_VERSION_TEXT}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${UNSUPPORTED_VERSION_TEXT}`;

/** Go's answer to such a request: 505, plain text, connection closed. */
export function writeUnsupportedVersion(res: HttpResponse): void {
  const body = Buffer.from(UNSUPPORTED_VERSION_TEXT);
  res.writeHead(505, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close', 'Content-Length': body.length });
  res.end(body);
}

/** `scheme://authority` at the start of an absolute-form request target. */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/**
 * The path of a request target, query dropped: origin form as is, absolute form
 * (`https://host/v1/key/list/`, what a client talking to a proxy sends) reduced to its path.
 * Anything else (`*`, a bare word) comes back unchanged for the caller to refuse.
 */
export function targetPath(target: string): string {
  const authority = ABSOLUTE_FORM.exec(target);
  const rest = authority ? target.slice(authority[0].length) || '/' : target;
  const query = rest.indexOf('?');
  return query < 0 ? rest : rest.slice(0, query);
}

/** `OPTIONS *` asks about the server as a whole; Go answers 200 with an empty body. */
export function writeServerOptions(res: HttpResponse): void {
  res.writeHead(200, { 'Content-Length': 0 });
  res.end();
}
