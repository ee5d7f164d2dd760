#!/usr/bin/env node
/**
 * Entry point of the `kes-server` command. Node's compile cache is switched on before any other
 * module loads: a restart then reuses the stripped and compiled modules instead of loading the
 * TypeScript stripper and compiling again: loading peaks about 30 MiB lower and the idle
 * process is about 13 MiB smaller (`bench/README.md`). The cache is a directory of this user's
 * alone (or NODE_COMPILE_CACHE); when there is none the server starts as before.
 */
import { mkdirSync, statSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A cache directory nobody else can write to, or undefined. */
function privateCacheDir(): string | undefined {
  const uid = process.getuid?.() ?? 0;
  const dir = join(tmpdir(), `kes-server-compile-cache-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700, recursive: true });
    const st = statSync(dir);
    // Cached code is executed: a directory another user could write to must not be used.
    return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * V8 flag capping each of the young generation's two semi-spaces, in MiB. Node 24 lets them grow
 * to 64 MiB each on a machine with this much memory, and a busy server reaches that within
 * seconds: 128 MiB of young generation, most of the peak RSS (bench/README.md). At 16 MiB the
 * scavenges are more frequent but no costlier per request.
 */
const SemiSpaceFlag = '--max-semi-space-size';
const SemiSpaceMiB = 16;

/**
 * Replaces this process (same pid, same arguments) with one whose young generation is capped,
 * unless the flag was given on the command line or in NODE_OPTIONS. The heap is sized when Node
 * starts, so the flag cannot be set from inside; Node without `process.execve` (before 23.11)
 * keeps its default.
 */
function capYoungGeneration(): void {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((a) => a.startsWith(SemiSpaceFlag) || a.startsWith('--max_semi_space_size'))) return;
  if (typeof process.execve !== 'function' || process.argv[1] === undefined) return;
  process.execve(process.execPath, [process.execPath, ...process.execArgv, `${SemiSpaceFlag}=${SemiSpaceMiB}`, ...process.argv.slice(1)], process.env);
}

capYoungGeneration();
const dir = process.env.NODE_COMPILE_CACHE ? undefined : privateCacheDir();
if (dir !== undefined) enableCompileCache?.(dir);
const { main } = await import('./command.ts');
const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
