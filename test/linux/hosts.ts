/**
 * Real Linux hosts for the Linux target: containers of the image in `test/linux/host/` running
 * systemd as PID 1 and an SSH server, on one network of their own, each reachable by its name from
 * the others and over SSH (and any other published port) on a loopback port from here.
 *
 * What systemd needs in a container here, and nothing more: `--cap-add SYS_ADMIN` (mount
 * namespaces for the units' sandboxing and for systemd itself), `--security-opt seccomp=unconfined`
 * (systemd's own system calls), `--cgroupns=private` (a cgroup tree of its own; the machine's
 * `/sys/fs/cgroup` is never mounted in), `--tmpfs /run --tmpfs /run/lock`, `container=docker`.
 * `--privileged` is refused by this kernel. Names of containers and the network start with a
 * per-run prefix, so parallel runs never collide.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLog, runLogDir } from '../../sandbox/log-sweep.ts';
import { freePort } from '../../sandbox/process.ts';

const HOST_DIR = fileURLToPath(new URL('./host/', import.meta.url));
export const BASE_IMAGE = 'local/debian:bookworm-slim';

/** Runs a command; rejects with its stderr on a non-zero exit. */
export function sh(file: string, args: readonly string[], input?: string, timeoutMs = 600_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { maxBuffer: 1 << 26, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.slice(0, 4).join(' ')} failed: ${String(stderr).trim().split('\n').slice(-8).join('\n') || err.message}`));
      else resolve(String(stdout));
    });
    child.stdin?.on('error', () => {}); // the command may exit before reading its input
    child.stdin?.end(input ?? '');
  });
}

const docker = (...args: string[]) => sh('docker', args);

/** The host image, built once per content of `test/linux/host/` and the base image. */
export async function hostImage(): Promise<string> {
  const base = (await docker('image', 'inspect', '-f', '{{.Id}}', BASE_IMAGE).catch(() => '')).trim();
  if (!base) throw new Error(`the base image ${BASE_IMAGE} is missing: run bash scripts/images.sh (npm test's pretest does)`);
  const h = createHash('sha256').update(base);
  for (const f of readdirSync(HOST_DIR).sort()) h.update(f).update(readFileSync(join(HOST_DIR, f)));
  const tag = `local/linux-host:${h.digest('hex').slice(0, 16)}`;
  if ((await docker('images', '-q', tag)).trim() === '') {
    await docker('build', '--network', 'host', '-q', '--build-arg', `BASE=${BASE_IMAGE}`, '-t', tag, HOST_DIR);
  }
  return tag;
}

/** One host: `name` is what the others (and the stack config) call it. */
export interface Host {
  readonly name: string;
  readonly container: string;
  /** Loopback ports: container port → port on 127.0.0.1. */
  readonly ports: Readonly<Record<number, number>>;
}

export interface HostSet {
  readonly prefix: string;
  readonly network: string;
  /** The machine's address on the hosts' network (reachable from the hosts and from here). */
  readonly gateway: string;
  /** The per-run SSH private key (PEM) whose public half every host accepts for root. */
  readonly privateKey: string;
  readonly hosts: readonly Host[];
  host(name: string): Host;
  /** Runs `command` on a host as root over SSH; rejects on a non-zero exit. */
  ssh(name: string, command: string): Promise<string>;
  /** Waits until systemd on every host reports `running` and SSH answers. */
  waitBooted(names?: readonly string[], timeoutMs?: number): Promise<void>;
  remove(): Promise<void>;
}

/**
 * Starts one host per name, publishing port 22 and the given container ports of each on loopback.
 * `disks` are folders that get a file system of their own (an anonymous volume: kept across
 * restarts, removed with the host), like the separate drives MinIO expects.
 */
export async function startHosts(
  names: readonly string[],
  publish: Readonly<Record<string, readonly number[]>> = {},
  disks: Readonly<Record<string, readonly string[]>> = {},
): Promise<HostSet> {
  const image = await hostImage();
  const prefix = `lx${randomBytes(3).toString('hex')}`;
  const network = `${prefix}-net`;
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  await sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${prefix}-test`, '-f', join(dir, 'id')]);
  const privateKey = readFileSync(join(dir, 'id'), 'utf8');
  const keyFile = join(dir, 'id');
  const authorized = join(dir, 'dot-ssh');
  await sh('mkdir', ['-p', '-m', '0700', authorized]);
  writeFileSync(join(authorized, 'authorized_keys'), readFileSync(join(dir, 'id.pub')));
  chmodSync(join(authorized, 'authorized_keys'), 0o600);

  await docker('network', 'create', network);
  const gateway = (await docker('network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Gateway}}{{end}}', network)).trim();
  const hosts: Host[] = [];
  const set: HostSet = {
    prefix,
    network,
    gateway,
    privateKey,
    hosts,
    host(name) {
      const h = hosts.find((x) => x.name === name);
      if (!h) throw new Error(`no host ${name}`);
      return h;
    },
    ssh(name, command) {
      const h = set.host(name);
      return sh('ssh', ['-i', keyFile, '-p', String(h.ports[22]), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', 'root@127.0.0.1', command]);
    },
    async waitBooted(which = names, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      await Promise.all(
        which.map(async (name) => {
          for (;;) {
            const state = await set.ssh(name, 'systemctl is-system-running || true').catch(() => '');
            if (state.trim() === 'running') return;
            if (Date.now() > deadline) throw new Error(`${name}: systemd is "${state.trim()}" after ${timeoutMs} ms`);
            await new Promise((r) => setTimeout(r, 300));
          }
        }),
      );
    },
    async remove() {
      // The hosts' journals (MinIO, KES, every unit) join the test run's logs.
      if (runLogDir() !== undefined) {
        for (const h of hosts) runLog(`${h.container}-journal.log`)(await docker('exec', h.container, 'journalctl', '--no-pager', '-o', 'short-iso').catch(() => ''));
      }
      await docker('rm', '-f', '-v', ...hosts.map((h) => h.container)).catch(() => '');
      await docker('network', 'rm', network).catch(() => '');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const name of names) {
      const container = `${prefix}-${name}`;
      const ports: Record<number, number> = {};
      for (const p of [22, ...(publish[name] ?? [])]) ports[p] = await freePort();
      await docker(
        'create', '--name', container, '--hostname', name, '--network', network, '--network-alias', name,
        ...Object.entries(ports).flatMap(([inner, outer]) => ['-p', `127.0.0.1:${outer}:${inner}`]),
        ...(disks[name] ?? []).flatMap((d) => ['-v', d]),
        '--cap-add', 'SYS_ADMIN', '--security-opt', 'seccomp=unconfined', '--cgroupns=private',
        '--tmpfs', '/run', '--tmpfs', '/run/lock', '-e', 'container=docker',
        image,
      );
      await docker('cp', `${authorized}/.`, `${container}:/root/.ssh`);
      hosts.push({ name, container, ports });
    }
    await Promise.all(hosts.map((h) => docker('start', h.container)));
    await set.waitBooted();
  } catch (e) {
    await set.remove();
    throw e;
  }
  return set;
}
