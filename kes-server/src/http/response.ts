/** The writers of every response the dispatcher produces. */
import { type ApiError, errorBody } from './errors.ts';
import { encodeJson } from './json.ts';
import type { HttpResponse, Reply } from './route.ts';

/** `{"message":"…"\n}` with `Content-Type: application/json` and an explicit length (docs/protocol.md#errors). */
export function writeError(res: HttpResponse, err: ApiError, headers: Record<string, string> = {}): void {
  const body = errorBody(err.message);
  res.writeHead(err.status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

export function writeReply(res: HttpResponse, reply: Reply): void {
  switch (reply.kind) {
    case 'json': {
      const body = encodeJson(reply.value);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
      res.end(body);
      return;
    }
    case 'empty':
      // Clients require exactly 200 with no body (docs/protocol.md#response-bodies).
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
      return;
    case 'raw': {
      // Text goes to Node as text: HTTP/1.1 then sends the head and the body in one write
      // instead of gathering a string and a buffer.
      const length = typeof reply.body === 'string' ? Buffer.byteLength(reply.body) : reply.body.byteLength;
      res.writeHead(200, { 'Content-Type': reply.contentType, 'Content-Length': length });
      res.end(reply.body);
      return;
    }
    case 'streamed':
      return;
    default: {
      const never: never = reply;
      throw new Error(`http: unknown reply ${String(never)}`);
    }
  }
}

/** Go ServeMux's answer for an unknown path (docs/protocol.md#routing); plain text, not JSON. */
export function writeNotFound(res: HttpResponse): void {
  const body = Buffer.from('404 page not found\n');
  res.writeHead(404, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': body.length,
  });
  res.end(body);
}

/** ServeMux's 301 to the canonical path (trailing slash, cleaned path). */
export function writeRedirect(res: HttpResponse, location: string, method: string): void {
  const body = method === 'GET' ? Buffer.from(`<a href="${escapeHtml(location)}">Moved Permanently</a>.\n\n`) : Buffer.alloc(0);
  const headers: Record<string, string | number> = { Location: location, 'Content-Length': body.length };
  if (body.length > 0) headers['Content-Type'] = 'text/html; charset=utf-8';
  res.writeHead(301, headers);
  res.end(body);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
