/**
 * Fuzz seeds: hostile requests found by hand that every fuzz run replays before the generated
 * ones (path tricks, method confusion, framing, malformed and oversized bodies).
 */

/** Structured seeds: sent through node:https and node:http2. */
export interface SeedRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
}

const nested = (depth: number): string => `{"context":${'['.repeat(depth)}${']'.repeat(depth)}}`;

export const SEED_REQUESTS: readonly SeedRequest[] = [
  { method: 'GET', path: '/v1/key/describe/..%2fkeep-1' },
  { method: 'GET', path: '/v1/key/describe/%2e%2e/keep-1' },
  { method: 'DELETE', path: '/v1/key/delete/keep-1/../fz-1' },
  { method: 'DELETE', path: '/v1/key/delete/%6beep-1%00' },
  { method: 'GET', path: '/v1/key/describe/keep-1%' },
  { method: 'GET', path: '//v1//key//list//' },
  { method: 'GET', path: '/v1/key/list' },
  { method: 'GET', path: '/v1/key/list/keep-*?x=../../' },
  { method: 'GET', path: `/v1/key/describe/${'a'.repeat(81)}` },
  { method: 'GET', path: `/v1/key/describe/${'%41'.repeat(3000)}` },
  { method: 'POST', path: '/v1/key/create/fz-1' },
  { method: 'PATCH', path: '/v1/key/create/fz-1' },
  { method: 'HEAD', path: '/v1/key/list/' },
  { method: 'GET', path: '/v1/key/create/fz-1' },
  { method: 'PUT', path: '/v1/key/import/fz-2', body: '{"key":"AAAA","cipher":"AES256"}' },
  { method: 'PUT', path: '/v1/key/import/fz-2', body: '{"key":"' + 'A'.repeat(43) + '=","cipher":"toString"}' },
  { method: 'PUT', path: '/v1/key/import/fz-2', body: '{"key":[1,2,3],"cipher":"__proto__"}' },
  { method: 'PUT', path: '/v1/key/encrypt/keep-1', body: '{"plaintext":[104,105],"__proto__":{"x":1}}' },
  { method: 'PUT', path: '/v1/key/encrypt/keep-1', body: '{"plaintext":"AAE","context":"AA-_"}' },
  { method: 'PUT', path: '/v1/key/decrypt/keep-1', body: '{"ciphertext":"' + 'A'.repeat(4000) + '"}' },
  { method: 'PUT', path: '/v1/key/decrypt/keep-1', body: '{"ciphertext":"eyJhZWFkIjoiQUVTLTI1Ni1HQ00ifQ=="}' },
  { method: 'PUT', path: '/v1/key/generate/keep-1', body: nested(10_001) },
  { method: 'PUT', path: '/v1/key/generate/keep-1', body: nested(150_000) },
  { method: 'PUT', path: '/v1/key/generate/keep-1', body: '{"context":' },
  { method: 'PUT', path: '/v1/key/generate/keep-1', body: '\u0000\u0001\u00ff' },
  { method: 'PUT', path: '/v1/key/hmac/keep-1', body: '{"message":null,"MESSAGE":"AA=="}' },
  { method: 'PUT', path: '/v1/key/bulk/decrypt/keep-1', body: JSON.stringify(Array.from({ length: 1001 }, () => ({ ciphertext: 'AA==' }))) },
  { method: 'PUT', path: '/v1/key/encrypt/keep-1', body: '{"plaintext":"' + 'A'.repeat(1_000_000) + '"}' },
  { method: 'GET', path: '/v1/policy/describe/__proto__' },
  { method: 'GET', path: '/v1/identity/describe/constructor' },
  { method: 'GET', path: '/v1/log/error/x' },
];

/** Raw HTTP/1.1 seeds: bytes no well-behaved client library would send. */
export const SEED_RAW: readonly string[] = [
  'PUT /v1/key/generate/keep-1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
  'PUT /v1/key/generate/keep-1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n',
  'PUT /v1/key/generate/keep-1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
  'PUT /v1/key/generate/keep-1 HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
  'PUT /v1/key/generate/keep-1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n',
  'PUT /v1/key/generate/keep-1 HTTP/1.1\r\nHost: x\r\n Transfer-Encoding: chunked\r\n\r\n',
  // Pipelined: both are served, in order (the fuzz ledger pairs answers with request lines).
  'GET /v1/key/list/ HTTP/1.1\r\nHost: x\r\n\r\nDELETE /v1/key/delete/keep-1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  'PUT /v1/key/create/fz-3 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nDELETE /v1/key/delete/keep-2 HTTP/1.0\r\n\r\n',
  'GET /v1/key/list/\u0000 HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /v1/key/list/ HTTP/1.1\nHost: x\n\n',
  'GET /v1/key/list/ HTTP/9.9\r\nHost: x\r\n\r\n',
  'GET https://x/v1/key/list/ HTTP/1.1\r\nHost: x\r\n\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
  'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  'CONNECT localhost:7373 HTTP/1.1\r\nHost: x\r\n\r\n',
  `GET /v1/key/list/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
  'GET /v1/key/list/ HTTP/1.1\r\nHost: x\r\nX-Bad: a\rb\r\n\r\n',
  'G\u00e9T /v1/key/list/ HTTP/1.1\r\nHost: x\r\n\r\n',
];
