/**
 * Writes kes-server/image-lock.json: the lockfile of the KES image's dependency stage, derived from
 * the repository's package-lock.json (same versions and integrities). The image is built from
 * kes-server/ alone, so it builds from an installed copy of this package too, where npm never
 * ships the repository's lockfile.
 *
 *   node scripts/kes-image-lock.ts          write the file
 *   node scripts/kes-image-lock.ts --check  exit 1 when the file differs from what would be written
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type LockEntry = { version?: string; dependencies?: Record<string, string>; [field: string]: unknown };
type Lock = { packages: Record<string, LockEntry> };

const root = fileURLToPath(new URL('..', import.meta.url));
export const imageLockPath = `${root}kes-server/image-lock.json`;

/** The lockfile (as text) of `manifest` installed alone, with every package taken from `lock`. */
export function imageLock(manifest: { name: string; version: string; dependencies?: Record<string, string>; [field: string]: unknown }, lock: Lock): string {
  const { name, version, license, bin, engines, dependencies = {} } = manifest;
  const packages: Record<string, LockEntry> = { '': { name, version, license, dependencies, bin, engines } };
  const pending = Object.keys(dependencies);
  while (pending.length > 0) {
    const dep = pending.shift()!;
    const path = `node_modules/${dep}`;
    if (path in packages) continue;
    // A workspace may have its own copy of a package; otherwise the hoisted one is what it resolves.
    const entry = lock.packages[`${name}/${path}`] ?? lock.packages[path];
    if (entry?.version === undefined) throw new Error(`${dep} (a dependency of ${name}) is not in package-lock.json`);
    const { dev, devOptional, peer, optional, ...kept } = entry;
    packages[path] = kept;
    pending.push(...Object.keys(entry.dependencies ?? {}));
  }
  const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ name, version, lockfileVersion: 3, requires: true, packages: sorted }, null, 2)}\n`;
}

/** What image-lock.json must contain for the current kes-server/package.json and package-lock.json. */
export function expectedImageLock(): string {
  const manifest = JSON.parse(readFileSync(`${root}kes-server/package.json`, 'utf8'));
  return imageLock(manifest, JSON.parse(readFileSync(`${root}package-lock.json`, 'utf8')));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = expectedImageLock();
  if (process.argv.includes('--check')) {
    if (readFileSync(imageLockPath, 'utf8') !== text) {
      console.error('kes-server/image-lock.json is out of date: run node scripts/kes-image-lock.ts');
      process.exit(1);
    }
  } else {
    writeFileSync(imageLockPath, text);
  }
}
