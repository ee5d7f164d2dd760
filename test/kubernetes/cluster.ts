/**
 * The local cluster of `scripts/kube-cluster.sh` for the Kubernetes tests: start it (built by the
 * test run's pretest step), load the locally built images, run kubectl, stop it. Every test names
 * its namespaces with `runPrefix`, so runs never meet each other's objects.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { SpawnSyncOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeApi, kubeAccessFromKubeconfig } from '../../realize/kubernetes.ts';
import { runLog, runLogDir } from '../../sandbox/log-sweep.ts';

export const clusterScript = fileURLToPath(new URL('../../scripts/kube-cluster.sh', import.meta.url));
const kubeDir = join(process.env.MINIO_SSE_KES_CACHE ?? join(homedir(), '.cache', 'minio-sse-kes'), 'kube');
const kubeBin = join(kubeDir, 'bin');

/** The node's address on the cluster bridge; NodePorts answer there. */
export const NODE_IP = '10.233.0.1';
/** The machine's address on the link to the cluster: pods reach services of the machine here. */
export const MACHINE_IP = '10.233.255.1';
/** A prefix unique to this test run, for namespaces and cluster-wide names. */
export const runPrefix = `t${randomBytes(3).toString('hex')}`;

function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${String(r.stderr).trim().slice(-4000)}`);
  return String(r.stdout);
}

export interface Cluster {
  readonly kubeconfig: string;
  readonly api: KubeApi;
  /** kubectl against the cluster; throws with stderr on a non-zero exit. */
  kubectl(args: string[], input?: string): string;
}

/** The logs of every pod of `namespace` join the test run's logs (before the cluster stops). */
export function keepPodLogs(cluster: Cluster, namespace: string): void {
  if (runLogDir() === undefined) return;
  let pods: string[];
  try {
    pods = cluster.kubectl(['-n', namespace, 'get', 'pods', '-o', 'name']).split('\n').filter(Boolean);
  } catch {
    return; // the cluster or the namespace never came up
  }
  for (const pod of pods) {
    try {
      runLog(`${namespace}-${pod.replace('pod/', '')}.log`)(cluster.kubectl(['-n', namespace, 'logs', pod, '--all-containers=true', '--prefix=true']));
    } catch {
      // a pod that never started has no log
    }
  }
}

let release: (() => void) | undefined;

/**
 * Takes the machine's one cluster for this test run: test runs on the same machine wait for each
 * other (a run's stop would pull the cluster from under another). The lock is held by a `flock`
 * child reading this process's pipe, so it is released when the run ends, however it ends.
 */
async function lockCluster(): Promise<void> {
  mkdirSync(kubeDir, { recursive: true });
  const child = spawn('flock', ['-x', join(kubeDir, 'lock'), '-c', 'echo locked; exec cat > /dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await Promise.race([once(child.stdout, 'data'), once(child, 'exit').then(() => [Buffer.from('')])])) as Buffer[];
  if (!String(line).startsWith('locked')) throw new Error('cannot take the cluster lock (flock from util-linux is needed)');
  child.stdout.destroy();
  child.unref();
  release = () => child.stdin.end();
}

/** Starts the cluster (or joins the one already running) and loads `images` from Docker into it. */
export async function startCluster(images: readonly string[] = []): Promise<Cluster> {
  if (!release) await lockCluster();
  const out = run('bash', [clusterScript, 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const kubeconfig = /KUBECONFIG=(\S+)/.exec(out)?.[1];
  if (!kubeconfig) throw new Error(`kube-cluster.sh start printed no KUBECONFIG: ${out}`);
  if (images.length > 0) run('bash', [clusterScript, 'import', ...images]);
  return {
    kubeconfig,
    api: new KubeApi(kubeAccessFromKubeconfig(kubeconfig)),
    kubectl: (args, input) => run(join(kubeBin, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], { input }),
  };
}

/** Stops the cluster this run holds (nothing when it holds none: another run's is not ours to stop). */
export function stopCluster(): void {
  if (release) run('bash', [clusterScript, 'stop']);
}

/** Lets the next test run have the cluster. */
export function releaseCluster(): void {
  release?.();
  release = undefined;
}
