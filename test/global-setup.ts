/**
 * `npm test`'s global set-up: one log folder for the whole run (every suite's processes, servers
 * and containers leave their logs there, see sandbox/log-sweep.ts), swept for secrets at the end.
 * A finding fails the run with the file, line and kind of secret, never the secret. A folder
 * given in MINIO_SSE_KES_LOG_DIR is used as is and kept; a folder made here is removed when clean.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG_DIR_ENV, sweepLogs } from '../sandbox/log-sweep.ts';

let made: string | undefined;

export function globalSetup(): void {
  if (process.env[LOG_DIR_ENV]) return;
  made = mkdtempSync(join(tmpdir(), 'minio-sse-kes-logs-'));
  process.env[LOG_DIR_ENV] = made;
}

export function globalTeardown(): void {
  const dir = process.env[LOG_DIR_ENV]!;
  const r = sweepLogs(dir);
  const summary = `log sweep: ${r.files} log files, ${r.lines} lines (${(r.bytes / 2 ** 20).toFixed(1)} MiB), ${r.secrets} registered secrets in ${r.forms} encodings`;
  if (r.findings.length === 0) {
    console.log(`${summary}: no secret found`);
    if (made !== undefined) rmSync(made, { recursive: true, force: true });
    return;
  }
  console.error(`${summary}: ${r.findings.length} finding(s) (logs kept in ${dir})`);
  for (const f of r.findings) console.error(`  ${f.file}:${f.line}: ${f.what}`);
  process.exitCode = 1;
}
