/** Log streams (docs/protocol.md#logs) and metrics (docs/protocol.md#server-routes) observed through the API. */
import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session } from 'node:http2';
import { test } from 'node:test';
import { LogHub } from '../../src/log/hub.ts';
import { Metrics, ResponseTimeBuckets } from '../../src/metrics/metrics.ts';
import { call } from '../support/client.ts';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';

/** Opens a log stream and collects its lines. */
function subscribe(session: ClientHttp2Session, path: string): Promise<{ lines: string[]; headers: Record<string, unknown>; close: () => void }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'GET', ':path': path });
    const lines: string[] = [];
    let buf = '';
    stream.on('data', (c: Buffer) => {
      buf += c.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
    });
    stream.on('response', (headers) => resolve({ lines, headers, close: () => stream.close() }));
    stream.on('error', reject);
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

test('audit and error streams deliver only new events; subscribers leave on disconnect', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const stranger = pki.issueClient('stranger');
  const s = await startKes(t, pki, { admin: admin.identity });
  const c = (method: string, path: string, client = admin, body?: string) => call({ port: s.port, ca: pki.caCert, client, method, path, body });
  await c('POST', '/v1/key/create/before');
  const session = connect(`https://127.0.0.1:${s.port}`, { ca: pki.caCert, servername: 'localhost', cert: admin.cert, key: admin.key });
  t.after(() => session.destroy());
  const audit = await subscribe(session, '/v1/log/audit');
  const errors = await subscribe(session, '/v1/log/error');
  assert.equal(audit.headers[':status'], 200);
  assert.equal(audit.headers['content-type'], 'application/x-ndjson');

  await c('POST', '/v1/key/create/k1');
  await c('POST', '/v1/key/generate/k1', admin, '{}'); // not audited
  await c('DELETE', '/v1/key/delete/k1');
  await c('GET', '/v1/status', stranger); // 403 → DEBUG error record
  await until(() => audit.lines.length >= 2 && errors.lines.length >= 1, 'log lines');
  const records = audit.lines.map((l) => JSON.parse(l));
  assert.deepEqual(records.map((r) => r.request.path), ['/v1/key/create/k1', '/v1/key/delete/k1']);
  assert.equal(records[0].request.identity, admin.identity);
  assert.equal(records[0].request.ip, '127.0.0.1');
  assert.equal(records[0].response.code, 200);
  assert.equal(Number.isInteger(records[0].response.time), true);
  const msg = JSON.parse(errors.lines[0]).message as string;
  assert.match(msg, /^time=\S+ level=DEBUG msg="access denied: insufficient permissions" req\.method=GET req\.path=\/v1\/status/);
  assert.ok(msg.includes(stranger.identity));

  const metrics = await c('GET', '/v1/metrics');
  assert.match(metrics.text, /^kes_log_audit_events 2$/m);
  assert.match(metrics.text, /^kes_log_error_events [1-9]\d*$/m);

  audit.close();
  errors.close();
  await until(() => s.server.auditLog.hub.size === 0 && s.server.errorLog.hub.size === 0, 'unsubscribe');
});

test('metrics text: labelled counters appear only with samples; histogram buckets as upstream', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const s = await startKes(t, pki, { admin: admin.identity });
  const get = (path: string, method = 'GET') => call({ port: s.port, ca: pki.caCert, client: admin, method, path });
  let text = (await get('/v1/metrics')).text;
  assert.equal((await get('/v1/metrics')).headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8; escaping=underscores');
  assert.doesNotMatch(text, /kes_http_request_success/);
  assert.doesNotMatch(text, /kes_http_request_error/);
  await get('/v1/key/create/m', 'POST');
  await get('/v1/key/describe/none');
  await get('/v1/status'); // not counted
  text = (await get('/v1/metrics')).text;
  assert.match(text, /^kes_http_request_success\{code="200"\} 1$/m);
  assert.match(text, /^kes_http_request_error\{code="404"\} 1$/m);
  assert.doesNotMatch(text, /kes_http_request_failure/);
  assert.match(text, /^kes_http_response_time_count 2$/m);
  assert.match(text, /^kes_http_request_active 0$/m);
  const les = [...text.matchAll(/kes_http_response_time_bucket\{le="([^"]+)"\}/g)].map((m) => m[1]);
  assert.deepEqual(les, ['0.01', '0.05', '0.1', '0.25', '0.5', '1', '1.5', '3', '5', '10', '+Inf']);
  // Every family has exactly one HELP and one TYPE line and at least one sample.
  const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]);
  assert.equal(new Set(families).size, families.length);
  for (const f of families) assert.match(text, new RegExp(`^${f}(_bucket|_sum|_count)?(\\{[^}]*\\})? \\S+$`, 'm'));
});

test('Metrics.observe sorts statuses into success/error/failure and buckets latencies', () => {
  let now = 0;
  const m = new Metrics(() => now);
  m.observe(200, 0.004);
  m.observe(502, 2);
  m.observe(403, 20);
  now = 12_345;
  const text = m.render({ numCpu: 4, numCpuUsed: 2, threads: 3, heapUsed: 10, heapObjects: 0, stackUsed: 0 });
  assert.match(text, /^kes_http_request_failure\{code="502"\} 1$/m);
  assert.match(text, /^kes_http_request_error\{code="403"\} 1$/m);
  assert.match(text, /^kes_http_response_time_bucket\{le="0.01"\} 1$/m);
  assert.match(text, /^kes_http_response_time_bucket\{le="3"\} 2$/m);
  assert.match(text, /^kes_http_response_time_bucket\{le="10"\} 2$/m);
  assert.match(text, /^kes_http_response_time_bucket\{le="\+Inf"\} 3$/m);
  assert.match(text, /^kes_system_up_time 12.35$/m);
  assert.match(text, /^kes_system_num_threads 3$/m);
  assert.equal(ResponseTimeBuckets.length, 10);
});

test('a backed-up subscriber is skipped instead of blocking the producer', () => {
  const hub = new LogHub();
  const drains: Array<() => void> = [];
  const slow = { got: [] as string[], write(l: string) { this.got.push(l); return false; }, once(_e: 'drain', fn: () => void) { drains.push(fn); } };
  const fast = { got: [] as string[], write(l: string) { this.got.push(l); return true; }, once() {} };
  hub.subscribe(slow);
  const off = hub.subscribe(fast);
  assert.equal(hub.publish('a'), 2);
  assert.equal(hub.publish('b'), 1);
  assert.deepEqual(slow.got, ['a\n']);
  drains[0]();
  assert.equal(hub.publish('c'), 2);
  assert.deepEqual(fast.got, ['a\n', 'b\n', 'c\n']);
  off();
  assert.equal(hub.size, 1);
});
