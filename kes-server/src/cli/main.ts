#!/usr/bin/env node
/**
 * Entry point of the `kes-server` command. It first restarts itself once with the Node options
 * of `startup-flags.ts`. Node's compile cache is switched on before the server's modules load:
 * a restart then reuses the stripped and compiled modules instead of loading the TypeScript
 * stripper and compiling again: loading peaks about 30 MiB lower and the idle process is about
 * 13 MiB smaller (`bench/README.md`). The cache is a directory of this user's alone (or
 * NODE_COMPILE_CACHE); when there is none the server starts as before.
 */
import { mkdirSync, statSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startupFlags } from './startup-flags.ts';

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
 * Replaces this process (same pid, same arguments) with one started with `startupFlags`. The
 * heap and OpenSSL are set up when Node starts, so neither can be changed from inside; Node
 * without `process.execve` (before 23.11) keeps its defaults.
 */
function restartWithStartupFlags(): void {
  const flags = startupFlags(process.execArgv, process.env);
  if (flags.length === 0 || typeof process.execve !== 'function' || process.argv[1] === undefined) return;
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...flags, ...process.argv.slice(1)], process.env);
}

restartWithStartupFlags();
const dir = process.env.NODE_COMPILE_CACHE ? undefined : privateCacheDir();
if (dir !== undefined) enableCompileCache?.(dir);
const { main } = await import('./command.ts');
const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
