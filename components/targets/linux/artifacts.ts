/**
 * What the Linux target copies to KES hosts: the kes-server package's production files (what the
 * image holds: `kes-server/package.json`, `kes-server/src`, its runtime dependencies under
 * `node_modules/`) as one reproducible archive, and the official Node runtime for the host's
 * architecture from the npm `node-linux-<arch>` package, checked against a pinned integrity.
 * Both are made once on the machine running the program and kept in a cache folder
 * (`$MINIO_SSE_KES_CACHE/linux`, default `~/.cache/minio-sse-kes/linux`).
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { tarEntries } from './tar.ts';
import type { TarEntry } from './tar.ts';

/** Node release installed on KES hosts (the version the project itself runs on). */
export const NODE_VERSION = '24.21.0';

/** Host architectures with a Node runtime package. */
export type LinuxArch = 'x64' | 'arm64';

/** npm `dist.integrity` of `node-linux-<arch>@NODE_VERSION`; a tarball that differs is refused. */
const NODE_INTEGRITY: Record<LinuxArch, string> = {
  x64: 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
  arm64: 'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==',
};

/** `uname -m` of each architecture, checked on the host before anything is unpacked. */
export const UNAME_OF: Record<LinuxArch, string> = { x64: 'x86_64', arm64: 'aarch64' };

/** A file on this machine and its SHA-256 (hex), which the host verifies. */
export interface Artifact {
  readonly path: string;
  readonly sha256: string;
}

function cacheDir(): string {
  const dir = join(process.env.MINIO_SSE_KES_CACHE ?? join(homedir(), '.cache', 'minio-sse-kes'), 'linux');
  mkdirSync(dir, { recursive: true });
  return dir;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The folder of the kes-server package: `kes-server/` next to `components/` (or `dist/`). */
function kesServerDir(): string {
  for (let d = dirname(fileURLToPath(import.meta.url)); d !== dirname(d); d = dirname(d)) {
    if (existsSync(join(d, 'kes-server', 'package.json'))) return join(d, 'kes-server');
  }
  throw new Error('kes-server package not found next to the components');
}

/** The installed folder of package `name` as Node would resolve it from `from`. */
function packageDir(name: string, from: string): string {
  for (let d = from; d !== dirname(d); d = dirname(d)) {
    const candidate = join(d, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
  }
  throw new Error(`kes-server dependency ${name} is not installed (run npm ci)`);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/** Production files of kes-server: path in the archive → file on this machine. */
function productionFiles(): Map<string, string> {
  const kes = kesServerDir();
  const out = new Map<string, string>();
  const add = (root: string, prefix: string) => {
    for (const f of filesUnder(root)) out.set(`${prefix}/${relative(root, f).split(sep).join('/')}`, f);
  };
  out.set('kes-server/package.json', join(kes, 'package.json'));
  add(join(kes, 'src'), 'kes-server/src');
  // Runtime dependencies, transitively, as `npm ci --omit=dev` would place them (flat).
  const queue = Object.keys((JSON.parse(readFileSync(join(kes, 'package.json'), 'utf8')) as { dependencies?: object }).dependencies ?? {});
  const seen = new Set<string>();
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (seen.has(name)) continue;
    seen.add(name);
    const dir = packageDir(name, kes);
    add(dir, `node_modules/${name}`);
    queue.push(...Object.keys((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: object }).dependencies ?? {}));
  }
  return out;
}

/**
 * The kes-server archive (`.tar.gz`, entries `kes-server/…` and `node_modules/…`). The same files
 * give the same bytes (sorted entries, zero times and owners), so its hash names the release.
 */
export function kesServerArchive(): Artifact {
  const entries: TarEntry[] = [...productionFiles()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, file]) => ({ name, data: readFileSync(file), executable: (statSync(file).mode & 0o111) !== 0 }));
  const gz = gzipSync(tarEntries(entries), { level: 9 });
  const digest = sha256(gz);
  const path = join(cacheDir(), `kes-server-${digest.slice(0, 16)}.tar.gz`);
  if (!existsSync(path)) {
    writeFileSync(`${path}.tmp`, gz);
    renameSync(`${path}.tmp`, path);
  }
  return { path, sha256: digest };
}

function npmPack(spec: string, dest: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('npm', ['pack', spec, '--pack-destination', dest, '--json', '--ignore-scripts'], { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`npm pack ${spec} failed: ${stderr.trim().split('\n').slice(-3).join(' ')}`));
      resolve(join(dest, (JSON.parse(stdout) as Array<{ filename: string }>)[0].filename));
    });
  });
}

const runtimes = new Map<LinuxArch, Promise<Artifact>>();

/** The `node-linux-<arch>` package tarball (top folder `package/`, the binary at `package/bin/node`); fetched once per process. */
export function nodeRuntimeArchive(arch: LinuxArch): Promise<Artifact> {
  let p = runtimes.get(arch);
  if (p === undefined) {
    p = fetchNodeRuntime(arch);
    p.catch(() => runtimes.delete(arch));
    runtimes.set(arch, p);
  }
  return p;
}

async function fetchNodeRuntime(arch: LinuxArch): Promise<Artifact> {
  const integrity = NODE_INTEGRITY[arch];
  if (integrity === undefined) throw new Error(`no Node runtime for architecture ${String(arch)} (x64 or arm64)`);
  const path = join(cacheDir(), `node-linux-${arch}-${NODE_VERSION}.tgz`);
  if (!existsSync(path)) {
    const dir = join(cacheDir(), `npm-pack-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      renameSync(await npmPack(`node-linux-${arch}@${NODE_VERSION}`, dir), path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const data = readFileSync(path);
  const got = `sha512-${createHash('sha512').update(data).digest('base64')}`;
  if (got !== integrity) {
    rmSync(path, { force: true });
    throw new Error(`node-linux-${arch}@${NODE_VERSION}: integrity ${got} is not the pinned ${integrity}`);
  }
  return { path, sha256: sha256(data) };
}
