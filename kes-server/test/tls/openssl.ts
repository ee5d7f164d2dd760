/** Runs the openssl CLI as an independent verifier of what the code under test produces. */
import { spawnSync } from 'node:child_process';

/** Runs `openssl args…` with `input` on stdin and returns stdout; throws with stderr on failure. */
export function openssl(args: string[], input?: string | Uint8Array): Buffer {
  const r = spawnSync('openssl', args, { input, maxBuffer: 4 << 20, timeout: 30_000 });
  if (r.error) throw new Error(`openssl CLI is required for this test and could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed (${r.status}): ${r.stderr.toString()}`);
  return r.stdout;
}

/** The result of `openssl verify`, without throwing: `ok` and the combined output. */
export function opensslVerify(args: string[]): { ok: boolean; output: string } {
  const r = spawnSync('openssl', ['verify', ...args], { timeout: 30_000 });
  if (r.error) throw new Error(`openssl CLI is required for this test and could not run: ${r.error.message}`);
  return { ok: r.status === 0, output: r.stdout.toString() + r.stderr.toString() };
}

/** SHA-256 hex of a certificate's public key as SPKI DER, computed entirely by openssl. */
export function opensslIdentity(certPem: string): string {
  const pub = openssl(['x509', '-noout', '-pubkey'], certPem);
  const der = openssl(['pkey', '-pubin', '-outform', 'DER'], pub);
  return openssl(['dgst', '-sha256', '-r'], der).toString().split(' ')[0].trim();
}

