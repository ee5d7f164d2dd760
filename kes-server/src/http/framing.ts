/**
 * What Go's net/http server decides before any handler runs: which transfer codings a request
 * may use, and which request targets it serves. Doing the same keeps a proxy in front of the
 * server and the server itself agreeing on where one request ends and the next begins.
 */
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

/** The connection as Node hands it to `clientError`, with the response in progress if any. */
interface ClientSocket {
  readonly writable: boolean;
  readonly _httpMessage?: { readonly _headerSent?: boolean } | null;
  end(s?: string): unknown;
  destroy(): unknown;
}

/**
 * The server's `clientError` listener: Node's default answers, except that a transfer coding
 * the parser refuses gets Go's 501 like the ones refused after parsing, and any other
 * malformed request Go's plain-text 400.
 */
export function answerClientError(err: Error & { code?: string }, socket: ClientSocket): void {
  // Once a response has begun on this connection, any bytes would corrupt it (Node's rule).
  if (!socket.writable || socket._httpMessage?._headerSent === true) {
    socket.destroy();
    return;
  }
  // Close our side first and the socket a little later, as Go does: closing at once with the
  // client's unread bytes still queued resets the connection, and the client never reads why.
  socket.end(PARSER_ANSWERS[err.code ?? ''] ?? BAD_REQUEST);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
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

/** Go's answer to such a request: 505, plain text, connection closed. */
export function writeUnsupportedVersion(res: HttpResponse): void {
  const body = Buffer.from('505 HTTP Version Not Supported: unsupported protocol version');
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
