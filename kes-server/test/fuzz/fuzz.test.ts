/**
 * Fuzzing the server process (fs key store, `tls.auth: on`): property-based requests from
 * fast-check over HTTP/1.1 (keep-alive) and HTTP/2 (one session), raw HTTP/1.1 bytes over
 * fresh TLS connections, and hostile client certificates. Every answer must be in an upstream
 * format with no 5xx but the documented 501; afterwards the process is the same one, its RSS
 * grew by less than RSS_BOUND, and the key store holds exactly what the acknowledged creates and
 * deletes left: a rejected request changed no key, and no key's bytes.
 *
 * Runs: FUZZ_RUNS (default 4,800 per protocol) generated requests plus the corpus; FUZZ_SEED
 * replays a run (the seed is printed).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { call, type ClientCredential } from '../support/client.ts';
import { makePki } from '../support/pki.ts';
import { rawExchange } from '../support/raw.ts';
import { startSideBySide } from '../support/side-by-side.ts';
import { SEED_RAW, SEED_REQUESTS, type SeedRequest } from './corpus.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 4800);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const RAW_RUNS = Math.max(200, Math.round(RUNS / 8));
const STATUS_COUNTS = new Map<number, number>();
/** Growth of the server's resident set over the whole run that still counts as bounded. */
const RSS_BOUND = 96 * 1024 * 1024;

const ROUTE_PREFIXES = [
  '/version', '/v1/ready', '/v1/status', '/v1/metrics', '/v1/api',
  '/v1/key/create/', '/v1/key/import/', '/v1/key/describe/', '/v1/key/list/', '/v1/key/delete/',
  '/v1/key/generate/', '/v1/key/encrypt/', '/v1/key/decrypt/', '/v1/key/hmac/', '/v1/key/bulk/decrypt/',
  '/v1/policy/describe/', '/v1/policy/read/', '/v1/policy/list/', '/v1/identity/describe/', '/v1/identity/list/',
  '/v1/identity/self/describe', '/v1/log/error', '/v1/log/audit',
  '/', '/v1/', '/v1/key/', '/v2/key/create/', '/V1/KEY/CREATE/', '//v1/key/create/', '/v1/./key/describe/', '/v1/key/create',
];
const KEEP = ['keep-1', 'keep-2', 'keep-3'];
const POOL = ['fz-1', 'fz-2', 'fz-3', 'missing', ...KEEP];

/**
 * Bytes outside what a request line may carry are percent-encoded (as a client would); a lone
 * surrogate becomes the bytes of one, which are no valid UTF-8.
 */
const encodePath = (s: string): string =>
  s.replace(/[^\x21-\x7e]|%(?![0-9A-Fa-f]{2})/gu, (c) => (c === '%' ? '%25' : /^[\ud800-\udfff]$/.test(c) ? '%ED%A0%80' : encodeURIComponent(c)));

const name = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...POOL) },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_*-]{0,90}$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.constantFrom('..', '.', '%2e%2e', '%2F', 'a%00b', '%zz', '*', 'keep-1/../fz-1', 'keep-1/', '%6beep-1', '__proto__', 'constructor') },
);
const path = fc
  .tuple(fc.constantFrom(...ROUTE_PREFIXES), name, fc.option(fc.constantFrom('?x=1', '?', '?a=%zz&b', '#frag'), { nil: '' }))
  .map(([prefix, n, q]) => encodePath(prefix + (prefix.endsWith('/') ? n : '')) + q);
const method = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE') }, { weight: 1, arbitrary: fc.constantFrom('HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'FOO', 'get') });
/** The method a route expects, so that most requests get past the method check. */
const routeMethod = (p: string): string => (/\/v1\/key\/delete\//.test(p) ? 'DELETE' : /\/v1\/key\/(create|import|generate|encrypt|decrypt|hmac|bulk)\//.test(p) ? 'PUT' : 'GET');
const methodAndPath = fc.tuple(path, fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: method })).map(([p, m]) => ({ path: p, method: m ?? routeMethod(p) }));

const b64 = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('base64'));
const fieldValue = (ciphertexts: readonly string[]) =>
  fc.oneof(
    { weight: 4, arbitrary: b64(0, 48) },
    { weight: 2, arbitrary: fc.constantFrom(...ciphertexts) },
    { weight: 2, arbitrary: fc.constantFrom('A', 'AA-_', '====', 'AAE', ' AAE=', 'AAE=\n', 'é', 'AES256', 'ChaCha20', 'aes256', 'toString') },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false, 1.5, -0) },
    { weight: 1, arbitrary: fc.array(fc.integer({ min: -2, max: 300 }), { maxLength: 40 }) },
    { weight: 1, arbitrary: fc.object({ maxDepth: 3 }) },
  );
const field = fc.constantFrom('plaintext', 'ciphertext', 'context', 'message', 'key', 'cipher', 'version', 'Plaintext', 'CIPHER', 'x', '__proto__');
const deep = (d: number): string => `{"context":${'['.repeat(d)}${']'.repeat(d)}}`;
const body = (ciphertexts: readonly string[]) => {
  const object = fc.dictionary(field, fieldValue(ciphertexts), { maxKeys: 5 }).map((o) => JSON.stringify(o));
  return fc.oneof(
    { weight: 8, arbitrary: object },
    { weight: 2, arbitrary: object.chain((s) => fc.nat(s.length).map((n) => s.slice(0, n))) },
    { weight: 1, arbitrary: fc.array(object, { maxLength: 4 }).map((a) => `[${a.join(',')}]`) },
    { weight: 1, arbitrary: fc.json() },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 12_000 }).map(deep) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
};

interface Req {
  readonly method: string;
  readonly path: string;
  readonly body: string | undefined;
  readonly chunked: boolean;
  readonly limited: boolean;
  readonly headers: Record<string, string>;
}
const header = fc.dictionary(
  fc.constantFrom('content-type', 'accept', 'x-forwarded-for', 'x-forwarded-client-cert', 'accept-encoding', 'x-kes'),
  fc.stringMatching(/^[\x20-\x7e]{0,40}$/).map((s) => s.trim()),
  { maxKeys: 3 },
);
const req = (ciphertexts: readonly string[]): fc.Arbitrary<Req> =>
  fc
    .record({ target: methodAndPath, body: body(ciphertexts), chunked: fc.boolean(), limited: fc.boolean(), headers: header })
    .map(({ target, ...rest }) => ({ ...target, ...rest }));

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** The only 5xx answers: Go's refusals of a transfer coding or protocol version (docs/reliability.md). */
const DOCUMENTED_5XX = new Map([
  [501, 'Unsupported transfer encoding'],
  [505, '505 HTTP Version Not Supported: unsupported protocol version'],
]);

const JSON_ERROR = /^\{"message":"(?:[^"\\]|\\.)*"\n\}$/;

/** Why an answer breaks the rules, or undefined. */
function problem(method: string, a: Answer): string | undefined {
  const documented = DOCUMENTED_5XX.get(a.status);
  if (a.status >= 500 && documented === undefined) return `${a.status} is a server error`;
  if (method === 'HEAD') return undefined;
  if (documented !== undefined) return a.body === documented ? undefined : `${a.status} body ${JSON.stringify(a.body)}`;
  if (a.status === 301) return undefined;
  // A request Node's parser refuses (an unregistered method, a broken header): Go's plain 400.
  if (a.status === 400 && a.contentType.startsWith('text/plain')) return a.body === '400 Bad Request' ? undefined : `400 body ${JSON.stringify(a.body)}`;
  if (a.status === 404 && a.contentType.startsWith('text/plain')) return a.body === '404 page not found\n' ? undefined : `404 body ${JSON.stringify(a.body)}`;
  if (a.status >= 400) {
    if (!a.contentType.startsWith('application/json')) return `${a.status} with content type ${a.contentType}`;
    return JSON_ERROR.test(a.body) ? undefined : `${a.status} body not an upstream error: ${JSON.stringify(a.body.slice(0, 200))}`;
  }
  if (a.status === 200) return undefined;
  return `unexpected status ${a.status}`;
}

/** Acknowledged key mutations, by name. */
class Ledger {
  readonly created = new Set<string>();
  readonly deleted = new Set<string>();

  record(method: string, path: string, status: number): void {
    if (status !== 200 || !['PUT', 'POST', 'DELETE'].includes(method)) return;
    const clean = path.split(/[?#]/)[0];
    for (const [prefix, set] of [['/v1/key/create/', this.created], ['/v1/key/import/', this.created], ['/v1/key/delete/', this.deleted]] as const) {
      if (clean.startsWith(prefix)) set.add(decode(clean.slice(prefix.length)));
    }
  }
}

/** The name a path segment stands for; a server that answered 200 must have decoded it. */
function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new Error(`200 for an undecodable name '${segment}'`);
  }
}

function snapshot(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

function sendH1(port: number, ca: string, agent: Agent, r: Req): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...r.headers };
    // Node frames a GET or DELETE body only when told how: without either header it would send
    // the bytes unframed, as the start of a next request.
    if (r.body !== undefined) {
      if (r.chunked) headers['transfer-encoding'] = 'chunked';
      else headers['content-length'] = String(Buffer.byteLength(r.body));
    }
    const rq = request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent, ca, servername: 'localhost', timeout: 20_000 }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      // A log stream never ends: its headers are the answer.
      if (res.statusCode === 200 && String(res.headers['content-type']).includes('ndjson')) {
        rq.destroy();
        return resolve({ status: 200, contentType: 'application/x-ndjson', body: '' });
      }
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.from(text, 'latin1').toString('utf8') }));
    });
    rq.on('timeout', () => rq.destroy(new Error('no answer in 20 s')));
    rq.on('error', reject);
    rq.end(r.body);
  });
}

function sendH2(session: ClientHttp2Session, r: Req): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ':method': r.method, ':path': r.path, ...r.headers };
    if (r.body !== undefined && !r.chunked) headers['content-length'] = String(Buffer.byteLength(r.body));
    // Node ends a GET or HEAD stream at once unless told that a body follows.
    const stream = session.request(headers, { endStream: r.body === undefined });
    let status = 0;
    let contentType = '';
    let text = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      status = Number(h[':status']);
      contentType = String(h['content-type'] ?? '');
      if (status === 200 && contentType.includes('ndjson')) {
        stream.close();
        resolve({ status, contentType, body: '' });
      }
    });
    stream.on('data', (c: string) => (text += c));
    stream.on('end', () => resolve({ status, contentType, body: text }));
    // A server may answer before it has read the body and close the stream; the client then
    // fails writing the rest. The answer counts, the write error does not.
    stream.on('error', (err) => (status !== 0 ? resolve({ status, contentType, body: text }) : reject(err)));
    stream.end(r.body);
  });
}

test(`fuzz: ${RUNS} generated requests per protocol, ${RAW_RUNS} raw, the corpus and hostile certificates leave the server up, its answers in upstream format and its keys untouched`, async (t) => {
  console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays this run)`);
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const limited = pki.issueClient('limited');
  const servers = await startSideBySide(t, pki, {
    admin: admin.identity,
    probe: admin,
    implementations: ['ts'],
    policies: { limited: { allow: ['/v1/key/*', '/v1/policy/*', '/v1/identity/*', '/v1/status'], deny: ['/v1/key/delete/keep-*', '/v1/key/create/keep-*', '/v1/key/import/keep-*'], identities: [limited.identity] } },
  });
  const ts = servers.get('ts')!;
  const proc = ts.process.process!;
  const ledger = new Ledger();
  for (const k of [...KEEP, 'fz-1']) assert.equal((await call({ port: ts.port, ca: pki.caCert, client: admin, method: 'PUT', path: `/v1/key/create/${k}` })).status, 200);
  const ciphertexts: string[] = [];
  for (const k of KEEP) {
    const r = await call({ port: ts.port, ca: pki.caCert, client: admin, method: 'PUT', path: `/v1/key/encrypt/${k}`, body: JSON.stringify({ plaintext: 'aGk=' }) });
    ciphertexts.push((JSON.parse(r.text) as { ciphertext: string }).ciphertext);
  }
  const before = snapshot(ts.keyDir);
  const agents = new Map<boolean, Agent>();
  const sessions = new Map<boolean, ClientHttp2Session>();
  const credential = (l: boolean): ClientCredential => (l ? limited : admin);
  const agentFor = (l: boolean): Agent => {
    let a = agents.get(l);
    if (!a) agents.set(l, (a = new Agent({ keepAlive: true, maxSockets: 2, cert: credential(l).cert, key: credential(l).key })));
    return a;
  };
  const sessionFor = (l: boolean): ClientHttp2Session => {
    let s = sessions.get(l);
    if (!s || s.closed || s.destroyed) {
      s = h2connect(`https://127.0.0.1:${ts.port}`, { ca: pki.caCert, servername: 'localhost', cert: credential(l).cert, key: credential(l).key });
      s.on('error', () => {});
      sessions.set(l, s);
    }
    return s;
  };
  t.after(() => {
    for (const a of agents.values()) a.destroy();
    for (const s of sessions.values()) s.destroy();
  });

  let sent = 0;
  const failures: string[] = [];
  const check = (proto: string, r: Req | SeedRequest, a: Answer): void => {
    sent++;
    STATUS_COUNTS.set(a.status, (STATUS_COUNTS.get(a.status) ?? 0) + 1);
    ledger.record(r.method, r.path, a.status);
    const p = problem(r.method, a);
    if (p !== undefined) failures.push(`${proto} ${r.method} ${r.path.slice(0, 120)}: ${p}`);
  };
  const asReq = (s: SeedRequest): Req => ({ method: s.method, path: s.path, body: s.body, chunked: false, limited: false, headers: {} });

  // Warm up with the corpus, then take the reference RSS.
  for (const s of SEED_REQUESTS) check('h1', s, await sendH1(ts.port, pki.caCert, agentFor(false), asReq(s)));
  for (const s of SEED_REQUESTS) check('h2', s, await sendH2(sessionFor(false), asReq(s)));
  const rssBefore = rssBytes(proc.pid);
  const t0 = performance.now();

  await fc.assert(
    fc.asyncProperty(req(ciphertexts), async (r) => {
      const a = await sendH1(ts.port, pki.caCert, agentFor(r.limited), r);
      check('h1', r, a);
      assert.equal(problem(r.method, a), undefined);
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
  await fc.assert(
    fc.asyncProperty(req(ciphertexts), async (r) => {
      // HTTP/2 has no transfer codings: a body without length is sent as DATA frames.
      const a = await sendH2(sessionFor(r.limited), r);
      check('h2', r, a);
      assert.equal(problem(r.method, a), undefined);
    }),
    { numRuns: RUNS, seed: SEED + 1, endOnFailure: true },
  );

  // Raw bytes: the corpus, then generated request lines, header blocks and framings.
  const rawLine = fc
    .tuple(
      fc.oneof(method, fc.stringMatching(/^[\x21-\x7e]{1,8}$/)),
      fc.oneof(path, fc.constantFrom('*', 'foo', 'https://x/v1/key/list/', '/v1/key/list/\x00', '')),
      fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'http/1.1', ''),
      fc.array(fc.constantFrom('Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: identity', 'Transfer-Encoding:\tchunked', 'Content-Length: 2', 'Content-Length: 0', 'Content-Length: 2, 2', 'Content-Length: +2', 'Expect: 100-continue', 'Connection: close', 'Host: y', 'X: \u00ff', ' folded: x', 'Bad Header: x', ':authority: x'), { maxLength: 4 }),
      fc.constantFrom('', '{}', '2\r\n{}\r\n0\r\n\r\n', '0\r\n\r\n', 'zz\r\n', '{"context":"AAE="}'),
    )
    .map(([m, p, v, hs, b]) => `${m} ${p} ${v}\r\nHost: localhost\r\n${hs.map((h) => h + '\r\n').join('')}\r\n${b}`);
  const rawRequests = [...SEED_RAW, ...fc.sample(rawLine, { numRuns: RAW_RUNS, seed: SEED + 2 })];
  for (const raw of rawRequests) {
    // Request lines whatever their version token: the parser may accept more than HTTP/1.0 and 1.1.
    const lines = [...raw.matchAll(/^([A-Za-z]+) (\/\S*)(?: [^\r\n]*)?\r?\n/gm)];
    // A pipeline is read to its end (its last request closes), so every answer is seen.
    const r = await rawExchange({ port: ts.port, ca: pki.caCert, client: admin, parts: [raw], limitMs: 400, firstResponse: lines.length < 2 });
    sent++;
    [...r.text.matchAll(/HTTP\/1\.1 ([2-5]\d\d) /g)].forEach((m, i) => lines[i] && ledger.record(lines[i][1], lines[i][2], Number(m[1])));
    if (r.status === 0) continue; // closed or held without an answer (a body still to come)
    const m = /\r\ncontent-type: *([^\r]*)/i.exec(r.head);
    const contentType = m?.[1] ?? '';
    const method0 = raw.slice(0, raw.indexOf(' '));
    // Go's plain-text refusals of requests that cannot be parsed at all.
    if (r.status === 400 && r.body === '400 Bad Request') continue;
    if ([408, 413, 431].includes(r.status) && r.body === '') continue;
    const p = problem(method0, { status: r.status, contentType, body: r.body });
    if (p !== undefined) failures.push(`raw ${JSON.stringify(raw.slice(0, 100))}: ${p}`);
  }

  // Hostile certificates: refused at the handshake, or 400 with the upstream message.
  const stranger = pki.selfSignedClient('stranger');
  const other = makePki().issueClient('other-ca');
  const hostile: Array<[string, ClientCredential | undefined]> = [
    ['no certificate', undefined],
    ['expired', pki.expiredClient('expired')],
    ['CA-marked', pki.caMarkedClient('ca-marked')],
    ['other CA', other],
    ['self-signed', stranger],
    ['unknown API key', pki.apiKeyClient()],
  ];
  for (const [label, cred] of hostile) {
    for (const http2 of [false, true]) {
      for (const p of ['/v1/key/list/', '/v1/key/delete/keep-1', '/version']) {
        const m = p.includes('delete') ? 'DELETE' : 'GET';
        sent++;
        try {
          const r = await call({ port: ts.port, ca: pki.caCert, ...(cred ? { client: cred } : {}), method: m, path: p, http2, timeoutMs: 5000 });
          // `/version` asks for no identity: a certificate that passed the handshake reads it.
          const versionRead = p === '/version' && r.status === 200 && r.text.includes('"version"');
          if (!versionRead && (r.status !== 400 || r.text !== '{"message":"tls: client certificate is required"\n}')) failures.push(`${label} ${http2 ? 'h2' : 'h1'} ${p}: ${r.status} ${r.text}`);
        } catch {
          // refused during or right after the handshake
        }
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const rssAfter = rssBytes(proc.pid);
  console.log(`fuzz: ${sent} requests in ${seconds.toFixed(1)} s; server RSS ${(rssBefore / 2 ** 20).toFixed(1)} → ${(rssAfter / 2 ** 20).toFixed(1)} MiB`);
  console.log(`fuzz: structured answers by status ${JSON.stringify(Object.fromEntries([...STATUS_COUNTS].sort((x, y) => x[0] - y[0])))}; acknowledged creates of ${ledger.created.size} names, deletes of ${ledger.deleted.size}`);

  assert.deepEqual(failures, []);
  assert.ok(sent >= 2 * RUNS + RAW_RUNS, `only ${sent} requests sent`);
  assert.equal(proc.running, true, 'the server process died');
  assert.ok(rssAfter - rssBefore < RSS_BOUND, `RSS grew by ${((rssAfter - rssBefore) / 2 ** 20).toFixed(1)} MiB`);

  const after = snapshot(ts.keyDir);
  const mismatch: string[] = [];
  for (const f of new Set([...before.keys(), ...after.keys()])) {
    if (f.startsWith('.')) {
      mismatch.push(`${f}: leftover temporary file`);
      continue;
    }
    const c = ledger.created.has(f);
    const d = ledger.deleted.has(f);
    if (!c && !d) {
      if (before.get(f) !== after.get(f)) mismatch.push(`${f}: changed by requests that were all refused`);
    } else if (c && !d && !after.has(f)) mismatch.push(`${f}: acknowledged create, key missing`);
    else if (d && !c && after.has(f)) mismatch.push(`${f}: acknowledged delete, key present`);
    else if (!c && d && before.has(f) && after.has(f)) mismatch.push(`${f}: deleted yet present`);
  }
  for (const k of KEEP) if (!ledger.deleted.has(k)) assert.equal(after.get(k), before.get(k), `${k} bytes changed`);
  assert.deepEqual(mismatch, []);
});
