/**
 * Process faults on the fs key store: `kill -9` of the server, and of one of two workers, in a
 * storm of creates and deletes (after restart no torn key file, every acknowledged create there,
 * every acknowledged delete gone); SIGTERM lets the request in flight finish, refuses new
 * connections and exits within 4 s (1 s of grace for open connections plus slack).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { test } from 'node:test';
import { call, type ClientCredential } from '../support/client.ts';
import { makePki } from '../support/pki.ts';
import { rawExchange } from '../support/raw.ts';
import { type Running, startSideBySide } from '../support/side-by-side.ts';

/** Status of one request on a keep-alive agent; 0 when the connection failed. */
function send(port: number, ca: string, agent: Agent, method: string, path: string): Promise<number> {
  return new Promise((resolve) => {
    const rq = request({ host: '127.0.0.1', port, method, path, agent, ca, servername: 'localhost', timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    rq.on('timeout', () => rq.destroy());
    rq.on('error', () => resolve(0));
    rq.end();
  });
}

interface Storm {
  /** Names whose create was acknowledged and never asked to be deleted. */
  readonly kept: Set<string>;
  /** Names whose delete was acknowledged. */
  readonly deleted: Set<string>;
  readonly acknowledged: () => number;
  readonly stop: () => Promise<void>;
}

/** `loops` clients creating fresh keys and deleting every second one, until stopped. */
function storm(s: Running, ca: string, client: ClientCredential, loops: number): Storm {
  const kept = new Set<string>();
  const deleted = new Set<string>();
  let acks = 0;
  let running = true;
  const workers = Array.from({ length: loops }, async (_, loop) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, cert: client.cert, key: client.key });
    for (let i = 0; running; i++) {
      const name = `storm-${loop}-${i}`;
      if ((await send(s.port, ca, agent, 'PUT', `/v1/key/create/${name}`)) !== 200) continue;
      acks++;
      if (i % 2 === 1) {
        kept.add(name);
        continue;
      }
      if ((await send(s.port, ca, agent, 'DELETE', `/v1/key/delete/${name}`)) === 200) {
        deleted.add(name);
        acks++;
      }
    }
    agent.destroy();
  });
  return { kept, deleted, acknowledged: () => acks, stop: async () => void ((running = false), await Promise.all(workers)) };
}

/** Every key the restarted server lists must be usable: a torn file could not be read. */
async function checkStore(s: Running, ca: string, admin: ClientCredential, st: Storm): Promise<void> {
  const files = readdirSync(s.keyDir).filter((f) => !f.startsWith('.'));
  for (const name of files) {
    const r = await call({ port: s.port, ca, client: admin, method: 'PUT', path: `/v1/key/generate/${name}` });
    assert.equal(r.status, 200, `key file ${name} is unreadable after the crash: ${r.text}`);
  }
  const present = new Set(files);
  const missing = [...st.kept].filter((n) => !present.has(n));
  const resurrected = [...st.deleted].filter((n) => present.has(n));
  assert.deepEqual(missing, [], 'acknowledged creates lost');
  assert.deepEqual(resurrected, [], 'acknowledged deletes undone');
}

/** Waits until `ok()` holds, at most 30 s (the storm's pace depends on the machine's load). */
async function until(ok: () => boolean): Promise<void> {
  for (const end = performance.now() + 30_000; !ok() && performance.now() < end; ) await new Promise((r) => setTimeout(r, 50));
}

const childPids = (pid: number): number[] =>
  execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);

test('kill -9 of the server in a storm of creates and deletes: after restart no torn file, every acknowledged create present', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const servers = await startSideBySide(t, pki, { admin: admin.identity, policies: {}, probe: admin, implementations: ['ts'] });
  const s = servers.get('ts')!;
  const st = storm(s, pki.caCert, admin, 8);
  await until(() => st.kept.size >= 40);
  await s.process.kill();
  await st.stop();
  console.log(`kill -9 after ${st.acknowledged()} acknowledged operations: ${st.kept.size} kept, ${st.deleted.size} deleted`);
  assert.ok(st.kept.size >= 40, `storm too small: ${st.kept.size}`);
  await s.process.start();
  await checkStore(s, pki.caCert, admin, st);
});

test('kill -9 of one of two workers in a storm: the other keeps serving, a new worker replaces it, no acknowledged operation lost', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const servers = await startSideBySide(t, pki, { admin: admin.identity, policies: {}, probe: admin, implementations: ['ts'], workers: 2 });
  const s = servers.get('ts')!;
  const primary = s.process.process!.pid;
  const before = childPids(primary);
  assert.equal(before.length, 2);
  const st = storm(s, pki.caCert, admin, 8);
  await until(() => st.acknowledged() >= 40);
  const acksAtKill = st.acknowledged();
  process.kill(before[0], 'SIGKILL');
  await until(() => st.acknowledged() - acksAtKill > 40 && childPids(primary).length === 2);
  const acksAfter = st.acknowledged();
  await st.stop();
  assert.ok(acksAfter - acksAtKill > 40, `only ${acksAfter - acksAtKill} operations acknowledged after the kill`);
  const after = childPids(primary);
  assert.equal(after.length, 2, 'a replacement worker was started');
  assert.ok(after.includes(before[1]) && !after.includes(before[0]));
  await checkStore(s, pki.caCert, admin, st);
});

test('SIGTERM: the request in flight is answered, new connections are refused, the process exits within 1 s of grace plus slack', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const servers = await startSideBySide(t, pki, { admin: admin.identity, policies: {}, probe: admin, implementations: ['ts'] });
  const s = servers.get('ts')!;
  assert.equal((await call({ port: s.port, ca: pki.caCert, client: admin, method: 'PUT', path: '/v1/key/create/k' })).status, 200);
  const body = '{"context":"AAE="}';
  // The body trickles in for 600 ms; SIGTERM arrives after 200 ms.
  const inflight = rawExchange({
    port: s.port,
    ca: pki.caCert,
    client: admin,
    parts: [`PUT /v1/key/generate/k HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n`, body.slice(0, 5), 600, body.slice(5)],
    limitMs: 5000,
    firstResponse: true,
  });
  await new Promise((r) => setTimeout(r, 200));
  const t0 = performance.now();
  s.process.process!.signal('SIGTERM');
  await new Promise((r) => setTimeout(r, 100));
  const refused = await call({ port: s.port, ca: pki.caCert, client: admin, path: '/version', timeoutMs: 2000 }).then(
    (r) => `answered ${r.status}`,
    (e: Error) => e.message,
  );
  const answer = await inflight;
  const exit = await s.process.process!.exited;
  const ms = performance.now() - t0;
  assert.equal(answer.status, 200, `in-flight request: ${answer.text}`);
  assert.match(answer.body, /"plaintext"/);
  assert.match(refused, /ECONNREFUSED/);
  assert.equal(exit.code, 0);
  // 1 s of grace for open connections, the rest is slack for a loaded machine.
  assert.ok(ms < 4000, `exit after ${Math.round(ms)} ms`);
});
