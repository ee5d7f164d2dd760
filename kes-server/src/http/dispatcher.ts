/**
 * The one request dispatcher. Per request, in kes's order (docs/protocol.md#request-pipeline): routing, method check,
 * resource extraction, body cap, timeout, authentication/authorization, handler.
 */
import { errorMessage } from '../errors.ts';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import { ApiError, ErrInvalidPath, errMethodNotAllowed, InternalFailure, isApiError } from './errors.ts';
import { answeredBeforeDispatch, type Exchange, http1Exchange, Http2Exchange } from './exchange.ts';
import { hasUnsupportedTransferCoding, hasUnsupportedVersion, targetPath, writeServerOptions, writeUnsupportedTransferCoding, writeUnsupportedVersion } from './framing.ts';
import { peerIdentity } from './peer.ts';
import { writeError, writeNotFound, writeRedirect, writeReply } from './response.ts';
import type { HttpResponse, RequestContext, Route } from './route.ts';
import type { ServerState } from './state.ts';
import { PathIdentityList, PathKeyList, PathPolicyList } from './paths.ts';

/** The list routes the Go client calls without trailing slash for an empty prefix (docs/protocol.md#routing). */
const LIST_ROUTES = new Set([PathKeyList, PathPolicyList, PathIdentityList].map((p) => p.slice(0, -1)));

interface Match {
  readonly route: Route;
  readonly resource: string;
}

type Resolution = Match | { readonly redirect: string } | { readonly notFound: true };

/** Finds the route of a decoded path: exact routes, then the longest matching prefix route. */
function resolve(routes: readonly Route[], path: string): Resolution {
  let best: Route | undefined;
  for (const r of routes) {
    if (r.prefix) {
      if (path.startsWith(r.path) && (best === undefined || r.path.length > best.path.length)) best = r;
    } else if (r.path === path) {
      return { route: r, resource: '' };
    }
  }
  if (best !== undefined) return { route: best, resource: path.slice(best.path.length) };
  if (LIST_ROUTES.has(path)) {
    const route = routes.find((r) => r.path === path + '/');
    if (route) return { route, resource: '' };
  }
  if (routes.some((r) => r.prefix && r.path === path + '/')) return { redirect: path + '/' };
  return { notFound: true };
}

/** An empty, `.` or `..` segment; a trailing slash (an empty last segment) is kept by cleanPath. */
const UNCLEAN_SEGMENT = /\/\/|\/\.\.?(?:\/|$)/;

/** Go's path.Clean for absolute URL paths, keeping a trailing slash. */
function cleanPath(p: string): string {
  // Nearly every request path is already clean; splitting and joining it would change nothing.
  if (p.startsWith('/') && !UNCLEAN_SEGMENT.test(p)) return p;
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  let cleaned = '/' + out.join('/');
  if (p.endsWith('/') && cleaned !== '/') cleaned += '/';
  return cleaned;
}

/** Reads at most `max` bytes; resolves undefined when the body is longer or unreadable. */
function readBody(ex: Exchange, max: number): Promise<Uint8Array | undefined> {
  const declared = Number(ex.headers['content-length'] ?? NaN);
  const req = ex.body;
  if (declared > max) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (v: Uint8Array | undefined): void => {
      if (settled) return;
      settled = true;
      resolve(v);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        settle(undefined);
        return;
      }
      chunks.push(chunk);
    });
    // A body in one chunk (nearly every one) is that chunk, which Node made for this request
    // alone: copying it cost an off-heap allocation for any body over 64 bytes.
    req.on('end', () => settle(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', () => settle(undefined));
    req.on('aborted', () => settle(undefined));
  });
}

function requestId(): string {
  return randomBytes(8).toString('hex');
}

/** What a handler gets; its `signal` is made on first read. */
class Context implements RequestContext {
  readonly method: string;
  readonly path: string;
  readonly resource: string;
  readonly body: Uint8Array;
  readonly identity: string;
  readonly ip: string;
  readonly startedAt: number;
  readonly #ex: Exchange;
  readonly #signal: () => AbortSignal;

  constructor(method: string, path: string, resource: string, body: Uint8Array, identity: string, ip: string, ex: Exchange, startedAt: number, signal: () => AbortSignal) {
    this.method = method;
    this.path = path;
    this.resource = resource;
    this.body = body;
    this.identity = identity;
    this.ip = ip;
    this.startedAt = startedAt;
    this.#ex = ex;
    this.#signal = signal;
  }

  get headers(): IncomingHttpHeaders {
    return this.#ex.headers;
  }

  get res(): HttpResponse {
    return this.#ex.res;
  }

  get signal(): AbortSignal {
    return this.#signal();
  }

  holdOpen(): () => void {
    return this.#ex.holdOpen();
  }
}

/** The listeners of the server for both protocols; `state()` is read once per request. */
interface Dispatcher {
  /** HTTP/1.1 requests (the server's 'request' event). */
  readonly request: (req: IncomingMessage, res: ServerResponse) => void;
  /** HTTP/2 streams (the server's 'stream' event). */
  readonly stream: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;
  /**
   * An HTTP/1 request that Node's parser refused only for its method (`FOO`, `get`): Go routes
   * any method token, so this answers what routing answers (404, 301 or 405).
   */
  readonly unknownMethod: (method: string, target: string, res: HttpResponse) => void;
}

// For failures that concern one exchange alone, already gone (timeout, disconnect, reset).
const ignore = (): void => {};

export function createDispatcher(state: () => ServerState): Dispatcher {
  return {
    request: (req, res) => {
      if (hasUnsupportedVersion(req)) return writeUnsupportedVersion(res as unknown as HttpResponse);
      void serve(state(), http1Exchange(req, res)).catch(ignore);
    },
    stream: (stream, headers) => {
      // A reset with any code but CANCEL, by the client or by a route timeout, is emitted as an
      // 'error' on the stream; without a listener it would end the process. 'close' follows.
      stream.on('error', ignore);
      if (answeredBeforeDispatch(stream, headers)) return;
      void serve(state(), new Http2Exchange(stream, headers)).catch(ignore);
    },
    unknownMethod: (method, target, res) => {
      // A method that routes is one Node's parser knows, so this never finds a route.
      if (routeRequest(state(), method, target, res) !== undefined) writeError(res, ErrInvalidPath);
    },
  };
}

type Routed = Match & { readonly path: string };

/**
 * The routing of the request targets seen last, per route table: a client sends the same few
 * targets again and again, and finding their route (path cleaning, decoding, the prefix search
 * over every route) cost more than a lookup. Bounded: emptied when full.
 */
const routedTargets = new WeakMap<readonly Route[], Map<string, Routed>>();
const MaxRoutedTargets = 1024;

/**
 * Routing and the method check (docs/protocol.md#request-pipeline): the matched route, or
 * undefined when the answer (400, 301, 404, 405) is already written.
 */
function routeRequest(state: ServerState, method: string, target: string, res: HttpResponse): Routed | undefined {
  let known = routedTargets.get(state.routes);
  if (known === undefined) routedTargets.set(state.routes, (known = new Map()));
  let routed = known.get(target);
  if (routed === undefined) {
    routed = routeTarget(state, method, target, res);
    if (routed === undefined) return undefined;
    if (known.size >= MaxRoutedTargets) known.clear();
    known.set(target, routed);
  }
  const { route } = routed;
  if (method !== route.method && !(route.method === 'PUT' && method === 'POST')) {
    return void writeError(res, errMethodNotAllowed(method, route.method), { Accept: route.method });
  }
  return routed;
}

/** The route of a request target, or undefined when the answer (400, 301, 404) is already written. */
function routeTarget(state: ServerState, method: string, target: string, res: HttpResponse): Routed | undefined {
  if (target === '*' && method === 'OPTIONS') return void writeServerOptions(res);
  const rawPath = targetPath(target);
  if (!rawPath.startsWith('/')) return void writeError(res, ErrInvalidPath);
  const cleaned = cleanPath(rawPath);
  if (cleaned !== rawPath) return void writeRedirect(res, cleaned, method);
  let path = rawPath;
  // Without a `%` there is nothing to decode, and decodeURIComponent is slow even then.
  if (rawPath.includes('%')) {
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return void writeError(res, ErrInvalidPath);
    }
  }
  const found = resolve(state.routes, path);
  if ('notFound' in found) return void writeNotFound(res);
  if ('redirect' in found) return void writeRedirect(res, found.redirect, method);
  return { route: found.route, resource: found.resource, path };
}

async function serve(state: ServerState, ex: Exchange): Promise<void> {
  const startedAt = performance.now();
  const res = ex.res;
  // Drawn only for an error-log line: most requests never need one.
  let id: string | undefined;
  const idOf = (): string => (id ??= requestId());
  const method = ex.method;
  if (hasUnsupportedTransferCoding(ex.headers['transfer-encoding'] as string | undefined)) return writeUnsupportedTransferCoding(res);
  const routed = routeRequest(state, method, ex.url, res);
  if (routed === undefined) return;
  const { route, resource, path } = routed;

  const socket = ex.socket;
  const ip = socket.remoteAddress ?? '';
  let timer: NodeJS.Timeout | undefined;
  if (route.timeoutMs > 0) {
    // A write deadline, not a 503: an unfinished response is torn down (docs/protocol.md#request-pipeline).
    // One timer per request: a shared map of the responses under way, checked by one timer, made
    // the young generation promote 4-5 % of what it allocated (none with a timer per request).
    timer = setTimeout(() => {
      if (!res.writableEnded) ex.tearDown();
    }, route.timeoutMs);
    timer.unref();
  }
  // The signal tells a running handler that the client is gone. Few handlers ask for it, so it
  // is made on demand. Once `serve` has finished no handler is left to tell, and aborting then
  // would only build an unused AbortError.
  let settled = false;
  let gone = false;
  let abort: AbortController | undefined;
  // 'close' comes once: `on` spares the wrapper `once` would make.
  res.on('close', () => {
    clearTimeout(timer);
    if (settled) return;
    gone = true;
    abort?.abort();
  });
  const signal = (): AbortSignal => {
    if (abort === undefined) {
      abort = new AbortController();
      if (gone) abort.abort();
    }
    return abort.signal;
  };

  let identity = '';
  let done: ((status: number) => void) | undefined;
  try {
    if (route.auth === 'policy') {
      identity = peerIdentity(socket);
      try {
        // Policies see the canonical path: a slash-less list request is authorized as the
        // `/v1/key/list/` that upstream's 301 would have sent the client to (docs/protocol.md#routing).
        state.policies.authorize(identity, route.path + resource);
      } catch (err) {
        state.errorLog.debug('access denied: insufficient permissions', [
          ['req.method', method],
          ['req.path', path],
          ['req.ip', ip],
          ['req.identity', identity],
        ]);
        throw err;
      }
    } else if (route.auth === 'self') {
      try {
        identity = peerIdentity(socket);
      } catch {
        identity = '';
      }
    }
    if (route.counted) done = state.metrics.begin();

    let body: Uint8Array = new Uint8Array(0);
    if (route.maxBody > 0) {
      const read = await readBody(ex, route.maxBody);
      if (read === undefined) throw route.bodyError;
      body = read;
    }
    const ctx = new Context(method, path, resource, body, identity, ip, ex, startedAt, signal);
    const reply = await route.handler(ctx, state);
    if (!gone && !res.writableEnded && !res.headersSent) writeReply(res, reply);
    done?.(200);
  } catch (err) {
    let apiErr: ApiError;
    if (isApiError(err)) {
      apiErr = err;
    } else {
      apiErr = err instanceof InternalFailure ? err.answer : route.failure;
      state.errorLog.error(err instanceof InternalFailure ? err.message : `${apiErr.message}: ${errorMessage(err)}`, [
        ['req.id', idOf()],
        ['req.method', method],
        ['req.path', path],
        ['req.ip', ip],
        ['req.identity', identity],
      ]);
    }
    done?.(apiErr.status);
    if (gone) return;
    if (!res.headersSent && !res.writableEnded) writeError(res, apiErr);
    else if (!res.writableEnded) res.end();
  } finally {
    settled = true;
    // The deadline only tears down an unfinished response: once ended, the timer has nothing
    // left to do, and clearing it now rather than at 'close' lets the exchange go sooner.
    if (res.writableEnded) clearTimeout(timer);
  }
}
