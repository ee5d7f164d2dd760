/**
 * The `kes-server` binary as a subprocess: dev mode used by the real kes CLI, a config file with
 * an fs key store, SIGHUP reload, several workers on one port, argument errors, `identity of`.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { peerPath } from '../../../sandbox/peers.ts';
import { call } from '../support/client.ts';
import { makePki } from '../support/pki.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function exec(bin: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Starts `kes-server` and waits until its banner names the endpoint. */
async function startBinary(t: TestContext, args: string[]): Promise<{ child: ChildProcess; banner: string; endpoint: string; stderr: () => string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kes-server did not start; stderr: ${err}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /Endpoint:\s+(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kes-server exited with ${code}; stderr: ${err}`));
    });
  });
  await new Promise((r) => setTimeout(r, 100)); // rest of the banner
  return { child, banner: out, endpoint, stderr: () => err };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

test('--dev: the printed API key is the admin; the kes CLI works against it; SIGTERM exits 0', async (t) => {
  const { child, banner, endpoint } = await startBinary(t, ['server', '--dev', '--addr', '127.0.0.1:0']);
  const apiKey = /API Key:\s+(kes:v1:\S+)/.exec(banner)?.[1];
  const admin = /Admin:\s+([0-9a-f]{64})/.exec(banner)?.[1];
  assert.ok(apiKey !== undefined && admin !== undefined, 'banner names API key and admin');
  assert.match(endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
  const env = { KES_SERVER: endpoint, KES_API_KEY: apiKey };
  assert.equal((await exec(peerPath('kes'), ['identity', 'of', apiKey], env)).stdout.trim(), admin);
  assert.equal((await exec(peerPath('kes'), ['key', 'create', '-k', 'dev-key'], env)).code, 0);
  const ls = await exec(peerPath('kes'), ['key', 'ls', '-k', '--json'], env);
  assert.deepEqual(JSON.parse(ls.stdout.split('\n')[0]), ['dev-key']);
  child.kill('SIGTERM');
  assert.equal(await exited(child), 0);
});

test('the command restarts once with its start-up flags (same pid) and sends one TLS 1.3 session ticket', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const dir = await mkdtemp(join(tmpdir(), 'kes-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = await writeConfig(dir, pki, admin.identity, pki.issueClient('member').identity, '/v1/key/describe/*');
  const { child, endpoint } = await startBinary(t, ['server', '--config', config]);
  const argv = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8')).split('\0');
  assert.ok(argv.includes('--max-semi-space-size=16'), argv.join(' '));
  assert.equal(argv.filter((a) => a.startsWith('--openssl-config=') && a.endsWith('openssl.cnf')).length, 1, argv.join(' '));
  // OpenSSL sends two tickets unless told otherwise (Go's server, like minio/kes, sends one).
  const port = Number(new URL(endpoint).port);
  const { tickets, reply } = await new Promise<{ tickets: number; reply: string }>((resolve, reject) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca: pki.caCert, cert: admin.cert, key: admin.key, minVersion: 'TLSv1.3' });
    let tickets = 0;
    let reply = '';
    socket.on('session', () => tickets++);
    socket.on('secureConnect', () => socket.write('GET /version HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
    socket.on('data', (c: Buffer) => (reply += c.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ tickets, reply }));
  });
  assert.match(reply, /^HTTP\/1\.1 200 /);
  assert.equal(tickets, 1);
  child.kill('SIGTERM');
  assert.equal(await exited(child), 0);
});

test('argument errors and identity of', async (t) => {
  const both = await exec(process.execPath, [MAIN, 'server', '--dev', '--config', 'x.yml']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /'--config' cannot be used with '--dev'/);
  const none = await exec(process.execPath, [MAIN, 'server']);
  assert.equal(none.code, 2);
  const help = await exec(process.execPath, [MAIN, '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /kes-server server --config FILE/);
  const pki = makePki();
  const api = pki.apiKeyClient();
  assert.equal((await exec(process.execPath, [MAIN, 'identity', 'of', api.apiKey.toString()])).stdout, api.identity + '\n');
  const dir = await mkdtemp(join(tmpdir(), 'kes-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const member = pki.issueClient('member', 'rsa-2048');
  await writeFile(join(dir, 'c.crt'), member.cert);
  assert.equal((await exec(process.execPath, [MAIN, 'identity', 'of', join(dir, 'c.crt')])).stdout, member.identity + '\n');
  // The upstream CLI computes the same identity from the same file.
  assert.equal((await exec(peerPath('kes'), ['identity', 'of', join(dir, 'c.crt')])).stdout.trim(), member.identity);
});

async function writeConfig(dir: string, pki: ReturnType<typeof makePki>, admin: string, member: string, allow: string): Promise<string> {
  await writeFile(join(dir, 'server.key'), pki.server.key);
  await writeFile(join(dir, 'server.crt'), pki.server.cert);
  const path = join(dir, 'config.yml');
  await writeFile(
    path,
    [
      'address: 127.0.0.1:0',
      'admin:',
      `  identity: ${admin}`,
      'tls:',
      `  key: ${join(dir, 'server.key')}`,
      `  cert: ${join(dir, 'server.crt')}`,
      'policy:',
      '  app:',
      `    allow: ["${allow}"]`,
      `    identities: ["${member}"]`,
      'keys:',
      '  - name: startup-key',
      'keystore:',
      '  fs:',
      `    path: ${join(dir, 'keys')}`,
      '',
    ].join('\n'),
  );
  return path;
}

test('--config with an fs key store: startup keys, SIGHUP reload swaps policies, bad reload keeps the old state', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const member = pki.issueClient('member');
  const dir = await mkdtemp(join(tmpdir(), 'kes-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = await writeConfig(dir, pki, admin.identity, member.identity, '/v1/key/describe/*');
  const { child, endpoint, stderr } = await startBinary(t, ['server', '--config', config, '--workers', '1']);
  const port = Number(new URL(endpoint).port);
  const get = (client: typeof admin, path: string) => call({ port, ca: pki.caCert, client, path });
  assert.equal((await get(member, '/v1/key/describe/startup-key')).status, 200);
  assert.equal((await get(member, '/v1/key/list/')).status, 403);

  await writeConfig(dir, pki, admin.identity, member.identity, '/v1/key/list/*');
  child.kill('SIGHUP');
  let status = 0;
  for (let i = 0; i < 100 && status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 50));
    status = (await get(member, '/v1/key/list/')).status;
  }
  assert.equal(status, 200);
  assert.equal((await get(member, '/v1/key/describe/startup-key')).status, 403);

  await writeFile(config, 'admin: [broken');
  child.kill('SIGHUP');
  for (let i = 0; i < 100 && !stderr().includes('failed to reload'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(stderr(), /failed to reload configuration: kesconf/);
  assert.equal((await get(member, '/v1/key/list/')).status, 200);
  child.kill('SIGINT');
  assert.equal(await exited(child), 0);
});

/** A `--workers 2` server with an fs key store in a temporary folder; the banner says 2 workers. */
async function startTwoWorkers(t: TestContext) {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const dir = await mkdtemp(join(tmpdir(), 'kes-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = await writeConfig(dir, pki, admin.identity, pki.issueClient('m').identity, '/v1/status');
  const { child, banner, endpoint } = await startBinary(t, ['server', '--config', config, '--workers', '2']);
  assert.match(banner, /Workers:\s+2/);
  return { pki, admin, child, port: Number(new URL(endpoint).port) };
}

test('--workers 2: both workers serve one port and share the fs key store', async (t) => {
  const { pki, admin, child, port } = await startTwoWorkers(t);
  // Fresh connections are spread over the workers; every one sees every key.
  for (let i = 0; i < 6; i++) {
    const name = `k${i}`;
    assert.equal((await call({ port, ca: pki.caCert, client: admin, method: 'POST', path: `/v1/key/create/${name}` })).status, 200);
    const list = await call({ port, ca: pki.caCert, client: admin, path: '/v1/key/list/', http2: i % 2 === 0 });
    assert.ok(JSON.parse(list.text).names.includes(name));
  }
  const metrics = await call({ port, ca: pki.caCert, client: admin, path: '/v1/metrics' });
  assert.match(metrics.text, /^kes_system_num_threads 2$/m);
  child.kill('SIGTERM');
  assert.equal(await exited(child), 0);
});

test('--workers 2: a delete served by one worker is seen by both at once (404 right after)', async (t) => {
  const { pki, admin, child, port } = await startTwoWorkers(t);
  // One connection per request (agent: false): round-robin alternates between the two workers.
  const req = (method: string, path: string, body?: string) => call({ port, ca: pki.caCert, client: admin, method, path, body });
  assert.equal((await req('POST', '/v1/key/create/gone-soon')).status, 200);
  for (let i = 0; i < 6; i++) assert.equal((await req('GET', '/v1/key/describe/gone-soon')).status, 200, 'both workers cache the key');
  assert.equal((await req('DELETE', '/v1/key/delete/gone-soon')).status, 200);
  const notFound = '{"message":"key does not exist"\n}';
  const answers: Array<{ what: string; status: number; text: string }> = [];
  const ask = async (what: string, method: string, path: string, body?: string) => {
    const r = await req(method, path, body);
    // A 200 generate carries a plaintext data key: keep it out of the test output.
    answers.push({ what, status: r.status, text: r.status === 404 ? r.text : '(body not shown)' });
  };
  // The order alternates so that each worker answers both a describe and a generate.
  for (let i = 0; i < 4; i++) {
    const describe = () => ask(`describe #${i}`, 'GET', '/v1/key/describe/gone-soon');
    const generate = () => ask(`generate #${i}`, 'POST', '/v1/key/generate/gone-soon', '{}');
    if (i % 2 === 0) await describe().then(generate);
    else await generate().then(describe);
  }
  assert.deepEqual(
    answers,
    answers.map(({ what }) => ({ what, status: 404, text: notFound })),
  );
  child.kill('SIGTERM');
  assert.equal(await exited(child), 0);
});

/** Opens `/v1/log/<stream>` over HTTP/1.1 on a connection of its own and collects the lines. */
function subscribeLog(t: TestContext, port: number, ca: string, client: { cert: string; key: string }, path: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, ca, servername: 'localhost', cert: client.cert, key: client.key, agent: false }, (res) => {
      assert.equal(res.statusCode, 200);
      const lines: string[] = [];
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString();
        const parts = buf.split('\n');
        buf = parts.pop()!;
        lines.push(...parts);
      });
      res.on('error', () => {});
      resolve(lines);
    });
    t.after(() => req.destroy());
    req.on('error', reject);
    req.end();
  });
}

test('--workers 2: log subscribers see the events of both workers; metrics add up both workers', async (t) => {
  const { pki, admin, child, port } = await startTwoWorkers(t);
  // Two subscribers on two connections: round-robin puts them on different workers.
  const auditA = await subscribeLog(t, port, pki.caCert, admin, '/v1/log/audit');
  const auditB = await subscribeLog(t, port, pki.caCert, admin, '/v1/log/audit');
  await new Promise((r) => setTimeout(r, 300)); // subscriber counts reach the primary
  const names = ['w0', 'w1', 'w2', 'w3', 'w4', 'w5'];
  // One connection per request (agent: false): the creates are spread over both workers.
  for (const name of names) {
    assert.equal((await call({ port, ca: pki.caCert, client: admin, method: 'POST', path: `/v1/key/create/${name}` })).status, 200);
  }
  const want = names.map((n) => `/v1/key/create/${n}`);
  const paths = (lines: string[]) => lines.map((l) => (JSON.parse(l) as { request: { path: string } }).request.path).sort();
  for (let i = 0; i < 100 && (auditA.length < names.length || auditB.length < names.length); i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(paths(auditA), want, 'subscriber A sees every create');
  assert.deepEqual(paths(auditB), want, 'subscriber B sees every create');

  // Scrapes on two connections (two workers) report the same totals: 6 creates, 12 lines written.
  for (let i = 0; i < 2; i++) {
    const text = (await call({ port, ca: pki.caCert, client: admin, path: '/v1/metrics' })).text;
    assert.match(text, /^kes_http_request_success\{code="200"\} 6$/m);
    assert.match(text, /^kes_http_response_time_count 6$/m);
    assert.match(text, /^kes_log_audit_events 12$/m);
    assert.match(text, /^kes_system_num_threads 2$/m);
  }
  child.kill('SIGTERM');
  assert.equal(await exited(child), 0);
});
