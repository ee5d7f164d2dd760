/**
 * `node scripts/sandbox.ts` as a user runs it: it comes up, serves an encrypted PUT/GET through
 * mc, and on SIGINT leaves no process and no temporary folder behind. Without the peers it says
 * how to install them and starts nothing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Mc } from '../../sandbox/mc.ts';
import { sha256, testData } from './helpers.ts';

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const script = join(repoRoot, 'scripts', 'sandbox.ts');

/** Parent pid of every process, from /proc. */
function parentMap(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid …"; comm may contain spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(name), Number(fields[1]));
    } catch {
      // exited while we looked
    }
  }
  return parents;
}

/** Every process below `root` (children, grandchildren, …). */
function descendants(root: number): number[] {
  const parents = parentMap();
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    for (const [child, parent] of parents) {
      if (parent === pid) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** True while `pid` exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Collects the child's stdout and resolves when a line matches (or the child exits / time runs out). */
function waitForLine(child: ChildProcess, output: { text: string }, pattern: RegExp, timeoutMs: number): Promise<boolean> {
  return new Promise((resolveWait) => {
    const timer = setTimeout(() => finish(false), timeoutMs);
    const check = () => {
      if (pattern.test(output.text)) finish(true);
    };
    const onExit = () => finish(pattern.test(output.text));
    function finish(ok: boolean) {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.off('exit', onExit);
      resolveWait(ok);
    }
    child.stdout?.on('data', check);
    child.once('exit', onExit);
    check();
  });
}

test('the sandbox serves encrypted objects and leaves nothing behind on Ctrl-C', async (t) => {
  // A process group of its own, so that SIGINT can go to the whole group as a terminal's Ctrl-C
  // does: the sandbox and every peer it started receive it at the same moment.
  const child = spawn(process.execPath, [script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const output = { text: '' };
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (output.text += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  let pids: number[] = [];
  let dir: string | undefined;
  t.after(async () => {
    // Only if an assertion failed midway: stop the sandbox as a user would, then make sure.
    if (child.exitCode === null && child.signalCode === null) {
      const all = descendants(child.pid as number);
      child.kill('SIGINT');
      const giveUp = new AbortController();
      await Promise.race([exited, sleep(30_000, undefined, { signal: giveUp.signal }).catch(() => undefined)]);
      giveUp.abort();
      for (const pid of [...all, ...pids]) if (alive(pid)) process.kill(pid, 'SIGKILL');
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const ready = await waitForLine(child, output, /^sandbox: ready/m, 180_000);
  assert.ok(ready, `the sandbox did not get ready.\nstderr:\n${stderr.slice(-3000)}`);

  dir = /^sandbox: working folder (\S+)$/m.exec(output.text)?.[1];
  assert.ok(dir !== undefined && existsSync(dir), 'working folder missing');
  const alias = /^\s*mc alias set -- sandbox (\S+) (\S+) (\S+)$/m.exec(output.text);
  assert.ok(alias !== null, 'no mc alias set line');

  pids = descendants(child.pid as number);
  const commands = pids.map(commandLine);
  // KES: `node …/cli/main.ts server --config …` (or `kes server --config …` when cross-checking upstream).
  for (const needle of ['minio server', 'bao server', 'server --config']) {
    assert.ok(commands.some((c) => c.includes(needle)), `no '${needle}' process under the sandbox`);
  }

  const mcDir = mkdtempSync(join(tmpdir(), 'mskes-e2e-sandbox-mc-'));
  t.after(() => rmSync(mcDir, { recursive: true, force: true }));
  const mc = new Mc(mcDir);
  await mc.aliasSet('sandbox', alias[1], alias[2], alias[3]);
  await mc.ok(['admin', 'kms', 'key', 'create', 'sandbox', 'sandbox-key']);
  await mc.ok(['mb', 'sandbox/demo']);
  await mc.ok(['encrypt', 'set', 'sse-kms', 'sandbox-key', 'sandbox/demo']);
  const body = testData('sandbox', 100_000);
  await mc.ok(['pipe', 'sandbox/demo/object.bin'], { input: body });
  const read = await mc.ok(['cat', 'sandbox/demo/object.bin'], { binary: true });
  assert.equal(sha256(read.bytes), sha256(body));
  const stat = await mc.ok(['stat', 'sandbox/demo/object.bin']);
  assert.equal((stat.json[0]?.metadata as Record<string, string>)['X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id'], 'arn:aws:kms:sandbox-key');

  process.kill(-(child.pid as number), 'SIGINT');
  const giveUp = new AbortController();
  const exit = await Promise.race([exited, sleep(60_000, undefined, { signal: giveUp.signal }).catch(() => undefined)]);
  giveUp.abort();
  // The sandbox prints the MinIO root password for its user; keep it out of test output.
  const redact = (text: string) => text.replaceAll(alias[3], '***');
  assert.deepEqual(exit, { code: 0, signal: null }, `the sandbox did not stop cleanly:\n${redact(output.text.slice(-2000))}\n${redact(stderr.slice(-2000))}`);
  assert.match(output.text, /^sandbox: stopped/m);
  for (let i = 0; i < 50 && pids.some(alive); i++) await sleep(100);
  assert.deepEqual(pids.filter(alive).map((pid) => `${pid} ${commandLine(pid)}`), [], 'processes left behind');
  assert.equal(existsSync(dir), false, 'working folder left behind');
});

test('SIGINT during start-up still stops everything that was started', async (t) => {
  const child = spawn(process.execPath, [script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const output = { text: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.text += chunk.toString('utf8')));
  const seen = new Set<number>();
  let dir: string | undefined;
  t.after(() => {
    for (const pid of [...seen, ...descendants(child.pid as number)]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  assert.ok(await waitForLine(child, output, /^sandbox: working folder /m, 60_000), 'the sandbox did not start');
  dir = /^sandbox: working folder (\S+)$/m.exec(output.text)?.[1];
  assert.ok(dir !== undefined, 'no working folder line');
  // Interrupt once the first peer process exists, while the rest is still coming up.
  for (let i = 0; i < 300 && descendants(child.pid as number).length === 0; i++) await sleep(20);
  for (const pid of descendants(child.pid as number)) seen.add(pid);
  assert.ok(seen.size > 0, 'no peer process was started');
  child.kill('SIGINT');
  const timer = setInterval(() => {
    for (const pid of descendants(child.pid as number)) seen.add(pid);
  }, 50);
  const giveUp = new AbortController();
  const code = await Promise.race([exited, sleep(120_000, 'timeout' as const, { signal: giveUp.signal }).catch(() => 'timeout' as const)]);
  giveUp.abort();
  clearInterval(timer);
  assert.equal(code, 0);
  assert.doesNotMatch(output.text, /^sandbox: ready/m);
  for (let i = 0; i < 50 && [...seen].some(alive); i++) await sleep(100);
  assert.deepEqual([...seen].filter(alive).map((pid) => `${pid} ${commandLine(pid)}`), [], 'processes left behind');
  assert.equal(existsSync(dir), false, 'working folder left behind');
});

test('without the peers the sandbox says how to install them and starts nothing', async (t) => {
  const emptyCache = mkdtempSync(join(tmpdir(), 'mskes-e2e-no-peers-'));
  const scratch = mkdtempSync(join(tmpdir(), 'mskes-e2e-no-peers-tmp-'));
  t.after(() => {
    rmSync(emptyCache, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });
  const child = spawn(process.execPath, [script], {
    cwd: repoRoot,
    env: { ...process.env, MINIO_SSE_KES_CACHE: emptyCache, TMPDIR: scratch },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  assert.equal(code, 1);
  assert.match(stderr, /missing peer binaries in .*: bao, minio, mc/);
  assert.match(stderr, /npm run peers/);
  assert.deepEqual(readdirSync(scratch), [], 'nothing may be created');
});
