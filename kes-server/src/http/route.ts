/** Routes are data: one record per API path, applied by the dispatcher (docs/protocol.md#request-pipeline). */
import type { IncomingHttpHeaders } from 'node:http';
import type { ApiError } from './errors.ts';
import type { ServerState } from './state.ts';

/**
 * `policy`: admin or a policy-allowed identity; `none`: no identity check at all; `self`: the
 * identity is computed when a certificate is present, nothing is checked ("identify only").
 */
export type AuthMode = 'policy' | 'none' | 'self';

/** The part of an HTTP/1 or HTTP/2 compat response the server uses. */
export interface HttpResponse {
  writeHead(status: number, headers?: Record<string, string | number>): unknown;
  write(chunk: string | Uint8Array): boolean;
  end(chunk?: string | Uint8Array): unknown;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  on(event: 'close' | 'finish', listener: () => void): unknown;
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
}

export interface RequestContext {
  readonly method: string;
  /** The full percent-decoded URL path, as policies see it. */
  readonly path: string;
  /** The decoded rest of the path after a prefix route's path; "" for exact routes. */
  readonly resource: string;
  /** The request body, at most the route's `maxBody` bytes; empty when `maxBody` is 0. */
  readonly body: Uint8Array;
  /** The caller's identity, or "" when unknown (routes with auth `none`/`self`). */
  readonly identity: string;
  readonly ip: string;
  readonly headers: IncomingHttpHeaders;
  /** Start of the request, `performance.now()` milliseconds. */
  readonly startedAt: number;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
  /** Only for streaming handlers, which write the response themselves. */
  readonly res: HttpResponse;
  /** For streaming handlers: lifts the connection's idle timeout; call the result when done. */
  readonly holdOpen: () => () => void;
}

export type Reply =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'empty' }
  | { readonly kind: 'raw'; readonly contentType: string; readonly body: string | Uint8Array }
  /** The handler already wrote and ended the response. */
  | { readonly kind: 'streamed' };

export type Handler = (ctx: RequestContext, state: ServerState) => Promise<Reply>;

export interface Route {
  readonly method: 'GET' | 'PUT' | 'DELETE' | 'POST';
  /** Path constant from paths.ts; prefix routes end in `/`. */
  readonly path: string;
  readonly prefix: boolean;
  readonly maxBody: number;
  /** 0 disables the timeout (log streams). */
  readonly timeoutMs: number;
  readonly auth: AuthMode;
  /** Counted in the `kes_http_*` metrics (key, policy and identity routes). */
  readonly counted: boolean;
  /** Answered when the body exceeds `maxBody` or cannot be read. */
  readonly bodyError: ApiError;
  /** The fixed vague answer for unexpected failures (docs/protocol.md#errors); the cause goes to the error log. */
  readonly failure: ApiError;
  readonly handler: Handler;
}

export const json = (value: unknown): Reply => ({ kind: 'json', value });
/**
 * A JSON answer already encoded as encodeJson would (compact, trailing newline): for the fixed
 * shapes of the hot routes, whose values are base64 text that nothing escapes.
 */
export const jsonText = (body: string): Reply => ({ kind: 'raw', contentType: 'application/json', body });
export const empty: Reply = Object.freeze({ kind: 'empty' });
