/**
 * What the server decides before any handler, sent as raw bytes to this server and to minio/kes
 * (same configuration): transfer codings it does not implement are refused with Go's 501 (a
 * proxy and the server must agree on message framing), absolute-form targets and `OPTIONS *`
 * are served, a method Node's HTTP/1 parser does not know is routed as Go routes it (405, 404,
 * 301; also over HTTP/2), one JSON body rule (unknown fields ignored whatever their type, `[]byte` as Go
 * reads it, nesting bounded at 10,000), a body shorter than its Content-Length holds the
 * connection for exactly the route's timeout, and a malformed request pipelined behind a good one
 * waits until the good one is answered.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call } from '../support/client.ts';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';
import { rawExchange } from '../support/raw.ts';
import { startSideBySide } from '../support/side-by-side.ts';

const put = (path: string, body: string, extra = ''): string => `PUT ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const chunked = (te: string): string => `PUT /v1/key/generate/k1 HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: ${te}\r\n\r\n2\r\n{}\r\n0\r\n\r\n`;
const nested = (depth: number): string => `{"x":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

const NOT_IMPLEMENTED = { status: 501, body: 'Unsupported transfer encoding' };
const INVALID_BODY = { status: 400, body: '{"message":"invalid request body"\n}' };
const OK = { status: 200 };
const methodNotAllowed = (got: string, want: string) => ({
  status: 405,
  body: `{"message":"received method '${got}' expected '${want}'"\n}`,
  head: new RegExp(`\r\nAccept: ${want}\r\n`, 'i'),
});
const unknownMethod = (line: string, headers = 'Host: localhost\r\n'): string => `${line}\r\n${headers}\r\n`;

interface Case {
  readonly name: string;
  readonly request: string;
  readonly want: { readonly status: number; readonly body?: string; readonly head?: RegExp };
  /** Where upstream answers otherwise, its answer and why we keep ours. */
  readonly upstream?: { readonly status: number; readonly body?: string; readonly why: string };
}

const H2_CASES: ReadonlyArray<[string, string, Case['want']]> = [
  ['FOO', '/v1/key/list/', methodNotAllowed('FOO', 'GET')],
  ['get', '/version', methodNotAllowed('get', 'GET')],
  ['FOO', '/v1/key/create/x', methodNotAllowed('FOO', 'PUT')],
  ['FOO', '/nope', { status: 404, body: '404 page not found\n' }],
];

const CASES: readonly Case[] = [
  { name: 'gzip, chunked', request: chunked('gzip, chunked'), want: NOT_IMPLEMENTED },
  { name: 'gzip alone', request: chunked('gzip'), want: NOT_IMPLEMENTED },
  { name: 'identity', request: chunked('identity'), want: NOT_IMPLEMENTED },
  { name: 'chunked twice', request: chunked('chunked, chunked'), want: NOT_IMPLEMENTED },
  { name: 'two Transfer-Encoding lines', request: chunked('chunked\r\nTransfer-Encoding: chunked'), want: NOT_IMPLEMENTED },
  { name: 'Chunked (case)', request: chunked('Chunked'), want: OK },
  {
    name: 'Transfer-Encoding with Content-Length',
    request: put('/v1/key/generate/k1', '2\r\n{}\r\n0\r\n\r\n', 'Transfer-Encoding: chunked\r\n'),
    want: { status: 400, body: '400 Bad Request' },
    upstream: { status: 200, why: 'Go drops the Content-Length and reads chunked; Node refuses the ambiguous framing outright (safer)' },
  },
  { name: 'absolute-form target', request: 'GET https://localhost/v1/key/list/ HTTP/1.1\r\nHost: localhost\r\n\r\n', want: { status: 200, body: '{"names":["k1"]}\n' } },
  { name: 'absolute-form with query', request: 'GET http://localhost:1/v1/key/list/?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n', want: { status: 200, body: '{"names":["k1"]}\n' } },
  { name: 'OPTIONS *', request: 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n', want: { status: 200, body: '' } },
  {
    name: 'GET *',
    request: 'GET * HTTP/1.1\r\nHost: localhost\r\n\r\n',
    want: { status: 400, body: '{"message":"invalid request path"\n}' },
    upstream: { status: 400, body: '', why: 'same status; ours carries the KES error body' },
  },
  {
    name: 'HTTP/2.0 in an HTTP/1 request line',
    request: 'GET /version HTTP/2.0\r\nHost: localhost\r\n\r\n',
    want: { status: 505, body: '505 HTTP Version Not Supported: unsupported protocol version' },
  },
  { name: 'bare word target', request: 'GET foo HTTP/1.1\r\nHost: localhost\r\n\r\n', want: { status: 400, body: '400 Bad Request' } },
  // Node's parser knows only registered methods; Go routes any token (then 405, 404 or 301).
  { name: 'unknown method', request: unknownMethod('FOO /v1/key/list/ HTTP/1.1'), want: methodNotAllowed('FOO', 'GET') },
  { name: 'unknown method on a PUT route', request: unknownMethod('FOO /v1/key/create/x HTTP/1.1'), want: methodNotAllowed('FOO', 'PUT') },
  { name: 'lower-case get', request: unknownMethod('get /version HTTP/1.1'), want: methodNotAllowed('get', 'GET') },
  { name: 'unknown method, HTTP/1.0', request: unknownMethod('FOO /version HTTP/1.0', ''), want: { ...methodNotAllowed('FOO', 'GET'), head: /^HTTP\/1\.0 405 / } },
  { name: 'unknown method, absolute form', request: unknownMethod('FOO https://localhost/version HTTP/1.1'), want: methodNotAllowed('FOO', 'GET') },
  { name: 'unknown method with a body', request: unknownMethod('FOO /version HTTP/1.1', 'Host: localhost\r\nContent-Length: 5\r\n') + 'hello', want: methodNotAllowed('FOO', 'GET') },
  { name: 'unknown method, unknown path', request: unknownMethod('FOO /nope HTTP/1.1'), want: { status: 404, body: '404 page not found\n' } },
  { name: 'unknown method, unclean path', request: unknownMethod('FOO /v1//key/list/ HTTP/1.1'), want: { status: 301, body: '', head: /\r\nLocation: \/v1\/key\/list\/\r\n/i } },
  { name: 'unknown method, gzip coding', request: unknownMethod('FOO /version HTTP/1.1', 'Host: localhost\r\nTransfer-Encoding: gzip\r\n'), want: NOT_IMPLEMENTED },
  { name: 'unknown method, HTTP/2.0', request: unknownMethod('FOO /version HTTP/2.0'), want: { status: 505, body: '505 HTTP Version Not Supported: unsupported protocol version' } },
  { name: 'unknown method without Host', request: unknownMethod('FOO /version HTTP/1.1', ''), want: { status: 400 } },
  { name: 'method that is no token', request: unknownMethod('F@O /version HTTP/1.1'), want: { status: 400, body: '400 Bad Request' } },
  { name: 'unknown field of another type', request: put('/v1/key/generate/k1', '{"version":1,"x":{"y":[1]}}'), want: OK },
  { name: 'plaintext as byte array', request: put('/v1/key/encrypt/k1', '{"plaintext":[104,105]}'), want: OK },
  { name: 'byte array out of range', request: put('/v1/key/encrypt/k1', '{"plaintext":[300]}'), want: INVALID_BODY },
  { name: 'known field of another type', request: put('/v1/key/generate/k1', '{"context":1}'), want: INVALID_BODY },
  { name: 'invalid base64', request: put('/v1/key/encrypt/k1', '{"plaintext":"A-_="}'), want: INVALID_BODY },
  { name: 'nesting 10,000', request: put('/v1/key/generate/k1', nested(10_000)), want: OK },
  { name: 'nesting 10,001', request: put('/v1/key/generate/k1', nested(10_001)), want: INVALID_BODY },
  { name: 'nesting 150,000', request: put('/v1/key/generate/k1', nested(150_000)), want: INVALID_BODY },
];

test('framing, request targets and JSON bodies: this server and minio/kes answer the same table', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const servers = await startSideBySide(t, pki, { admin: admin.identity, policies: {}, probe: admin });
  for (const s of servers.values()) {
    const r = await call({ port: s.port, ca: pki.caCert, client: admin, method: 'PUT', path: '/v1/key/create/k1' });
    assert.equal(r.status, 200, `${s.name}: ${r.text}`);
  }
  const mismatches: string[] = [];
  for (const c of CASES) {
    for (const s of servers.values()) {
      const want = s.name === 'upstream' && c.upstream ? c.upstream : c.want;
      const r = await rawExchange({ port: s.port, ca: pki.caCert, client: admin, parts: [c.request], limitMs: 3000, firstResponse: true });
      const bodyOk = want.body === undefined || r.body === want.body;
      const headOk = !('head' in want) || want.head === undefined || want.head.test(r.head);
      if (r.status !== want.status || !bodyOk || !headOk) mismatches.push(`${s.name} ${c.name}: ${r.status} ${JSON.stringify(r.body.slice(0, 120))}, want ${want.status} ${JSON.stringify(want.body)}`);
      if (want.status === 501) assert.match(r.text, /\r\nConnection: close\r\n/i, `${s.name} ${c.name} keeps the connection`);
    }
  }
  // Over HTTP/2 any :method reaches the router on both servers.
  for (const [method, path, want] of H2_CASES) {
    for (const s of servers.values()) {
      const r = await call({ port: s.port, ca: pki.caCert, client: admin, method, path, http2: true });
      const got = { status: r.status, body: r.text, accept: r.headers.accept };
      const expected = { status: want.status, body: want.body, accept: want.status === 405 ? want.head?.source.match(/Accept: (\w+)/)?.[1] : undefined };
      if (JSON.stringify(got) !== JSON.stringify(expected)) mismatches.push(`${s.name} h2 ${method} ${path}: ${JSON.stringify(got)}, want ${JSON.stringify(expected)}`);
    }
  }
  assert.deepEqual(mismatches, []);
});

test('a body shorter than its Content-Length holds the connection for the route timeout, then it is closed unanswered', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const timeoutMs = 600;
  const s = await startKes(t, pki, { admin: admin.identity, keys: ['k1'], api: new Map([['/v1/key/generate/', { skipAuth: false, timeoutMs }]]) });
  for (const [declared, sent] of [[100, '{"context":'], [1_000_000, '{']] as const) {
    const t0 = performance.now();
    const r = await rawExchange({
      port: s.port,
      ca: pki.caCert,
      client: admin,
      parts: [`PUT /v1/key/generate/k1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${declared}\r\n\r\n${sent}`],
      limitMs: 5000,
    });
    const ms = performance.now() - t0;
    assert.equal(r.closed, true, 'still open after 5 s');
    assert.equal(r.text, '', 'a half-read request is never answered');
    assert.ok(ms >= timeoutMs && ms < timeoutMs + 1500, `closed after ${Math.round(ms)} ms, bound ${timeoutMs} ms`);
  }
  // Over Content-Length's limit: refused at once, before reading.
  const big = await rawExchange({ port: s.port, ca: pki.caCert, client: admin, parts: ['PUT /v1/key/generate/k1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000001\r\n\r\n'], limitMs: 2000, firstResponse: true });
  assert.equal(big.status, 400);
  assert.equal(big.body, '{"message":"invalid request body"\n}');
});

test('a malformed request pipelined behind a good one: the good one is answered first, as minio/kes does, and its key kept', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const servers = await startSideBySide(t, pki, { admin: admin.identity, policies: {}, probe: admin });
  const cases: ReadonlyArray<[string, (key: string) => string, readonly number[]]> = [
    ['HTTP/1.1, then a line that is no request', (key) => `PUT /v1/key/create/${key} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\nzz\r\n\r\n`, [200, 400]],
    // HTTP/1.0 without keep-alive: the connection closes after the first answer, nothing is read after it.
    ['HTTP/1.0, then a chunked body it does not have', (key) => `POST /v1/key/create/${key} HTTP/1.0\r\nHost: localhost\r\n\r\n2\r\n{}\r\n0\r\n\r\n`, [200]],
  ];
  for (const [i, [name, request, statuses]] of cases.entries()) {
    for (const s of servers.values()) {
      const key = `pipelined-${i}`;
      const r = await rawExchange({ port: s.port, ca: pki.caCert, client: admin, parts: [request(key)], limitMs: 3000 });
      const answered = [...r.text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
      const kept = (await call({ port: s.port, ca: pki.caCert, client: admin, method: 'GET', path: `/v1/key/describe/${key}` })).status;
      assert.deepEqual(answered, statuses, `${s.name} ${name}: ${JSON.stringify(r.text)}`);
      assert.equal(kept, 200, `${s.name} ${name}: the created key`);
    }
  }
});
