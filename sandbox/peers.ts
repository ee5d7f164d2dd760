import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type Peer = 'bao' | 'kes' | 'minio' | 'mc';

/** Folder where `npm run peers` installs the pinned peer binaries. */
export const peerBinDir = join(process.env.MINIO_SSE_KES_CACHE ?? join(homedir(), '.cache', 'minio-sse-kes'), 'bin');

/**
 * Absolute path of a peer binary. Throws (so the test fails loudly, never skips) when the peer
 * has not been installed.
 */
export function peerPath(peer: Peer): string {
  const path = join(peerBinDir, peer);
  if (!existsSync(path)) {
    throw new Error(`peer '${peer}' is not installed at ${path}: run \`npm run peers\` first`);
  }
  return path;
}
