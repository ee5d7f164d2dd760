/**
 * Node options the `kes-server` command starts with (main.ts restarts itself once to apply them).
 * Each is left out when the operator already chose that setting.
 */
import { fileURLToPath } from 'node:url';

/**
 * V8 flag capping each of the young generation's two semi-spaces, in MiB. Node 24 lets them grow
 * to 64 MiB each on a machine with this much memory, and a busy server reaches that within
 * seconds: 128 MiB of young generation, most of the peak RSS (bench/README.md). At 16 MiB the
 * scavenges are more frequent but no costlier per request.
 */
const SemiSpaceFlag = '--max-semi-space-size';
const SemiSpaceMiB = 16;

/** OpenSSL settings Node has no option for (one TLS 1.3 session ticket; see the file). */
export const OpenSslConfig = fileURLToPath(new URL('openssl.cnf', import.meta.url));

/**
 * The flags to add to a Node started with `execArgv` and `env`: a setting given on the command
 * line or in NODE_OPTIONS (for OpenSSL also OPENSSL_CONF) is kept and not added again, so the
 * restarted process, which has them all, adds none.
 */
export function startupFlags(execArgv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)];
  const has = (...names: string[]): boolean => given.some((a) => names.some((n) => a === n || a.startsWith(`${n}=`)));
  const flags: string[] = [];
  if (!has(SemiSpaceFlag, '--max_semi_space_size')) flags.push(`${SemiSpaceFlag}=${SemiSpaceMiB}`);
  if (!has('--openssl-config') && env.OPENSSL_CONF === undefined) flags.push(`--openssl-config=${OpenSslConfig}`);
  return flags;
}
