/**
 * The Kubernetes target for real: the stack program for `Pulumi.kubernetes.yaml`, pointed at the
 * local cluster of `scripts/kube-cluster.sh` and at an OpenBao on the machine's end of the cluster
 * link, realized object by object (server-side apply, strict field validation), then used: KES and
 * MinIO pods from the locally built images, `mc` through the MinIO Service, pods deleted and
 * restarted under load, an eviction against the PodDisruptionBudget, the Operator `Tenant` against
 * its CRD, and finally `stop`, which must leave the machine as it found it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startOpenBao } from '../../sandbox/openbao.ts';
import type { OpenBao } from '../../sandbox/openbao.ts';
import { Mc } from '../../sandbox/mc.ts';
import { KubeApiError } from '../../realize/kubernetes.ts';
import type { KubeObject } from '../../realize/kubernetes.ts';
import { captureStack } from '../../realize/capture.ts';
import type { Capture, CapturedResource } from '../../realize/capture.ts';
import { up } from '../../realize/index.ts';
import type { Realized } from '../../realize/types.ts';
import { MACHINE_IP, clusterScript, keepPodLogs, releaseCluster, runPrefix, startCluster, stopCluster } from './cluster.ts';
import type { Cluster } from './cluster.ts';
import { clusterRelay, resolveInCluster } from './stack.ts';
import { testData, workDir } from '../e2e/helpers.ts';

const root = new URL('../../', import.meta.url).pathname;
const images = Object.fromEntries(
  execFileSync('bash', [join(root, 'scripts/images.sh'), '--list'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.split(' ') as [string, string]),
);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const stackFile = join(root, 'stacks/Pulumi.kubernetes.yaml');

/**
 * What the cluster must not change on the machine. Other programs may change the firewall and
 * links meanwhile (Docker does), so those are read for the cluster's own addresses and names only.
 */
function machineState() {
  const sysctls = ['net/ipv4/ip_forward', 'vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops', 'vm/panic_on_oom', 'net/bridge/bridge-nf-call-iptables'];
  return {
    firewall: execFileSync('iptables-save', { encoding: 'utf8' }).split('\n').filter((l) => /10\.233\.|msk-kube|KUBE-/.test(l)),
    sysctls: Object.fromEntries(sysctls.filter((s) => existsSync(`/proc/sys/${s}`)).map((s) => [s, readFileSync(`/proc/sys/${s}`, 'utf8')])),
    resolv: readFileSync('/etc/resolv.conf', 'utf8'),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes('minio-sse-kes/kube')),
    links: execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).split('\n').filter((l) => /msk-kube|kube-br/.test(l)),
    routes: execFileSync('ip', ['route'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('10.233.')),
  };
}

/** The MinIO objects of a capture and the local resources (keys, certificates, password) they use. */
function minioPart(capture: Capture): Capture {
  const keep = (r: CapturedResource) => r.type.startsWith('tls:') || r.type.startsWith('random:') || (r.type.startsWith('kubernetes:') && r.name.includes('-minio-'));
  const kept = new Set(capture.resources.filter(keep).map((r) => r.key));
  return { ...capture, resources: capture.resources.filter(keep).map((r) => ({ ...r, dependencies: r.dependencies.filter((k) => kept.has(k)) })) };
}

describe('Kubernetes target on a local cluster', { timeout: 1_800_000 }, () => {
  const ns = `${runPrefix}-storage`;
  const work = workDir('kubernetes');
  let cluster: Cluster;
  let bao: OpenBao;
  let mc: Mc;
  let realized: Realized[];
  let before_: ReturnType<typeof machineState>;
  const object = (type: string, suffix: string) => {
    const r = realized.find((x) => x.type === type && x.name.endsWith(suffix));
    assert.ok(r, `no ${type} *${suffix} was realized`);
    return r.inputs as KubeObject;
  };
  const pods = (selector: string) => JSON.parse(cluster.kubectl(['-n', ns, 'get', 'pods', '-l', selector, '-o', 'json'])).items as any[];
  const bucket = 'stack/secure-data';

  let relay: Awaited<ReturnType<typeof clusterRelay>>;
  let minioHost = '';

  /** Settings over `Pulumi.kubernetes.yaml`: this cluster's images, namespace, OpenBao and MinIO route. */
  const settings = (namespace: string, extra: Record<string, string> = {}) => ({
    namespace,
    kesImage: images.kes,
    minioImage: images.minio,
    vaultAddress: bao.address,
    vaultToken: bao.rootToken,
    storageSize: '1Gi',
    minioProviderEndpoint: relay.address,
    // A fresh OpenBao: the stack enables AppRole itself.
    vaultCreateAuthBackend: 'true',
    ...extra,
  });

  before(async () => {
    before_ = machineState();
    cluster = await startCluster([images.kes, images.minio]);
    bao = await startOpenBao({ host: MACHINE_IP });
    relay = await clusterRelay(() => minioHost, 9000);
    mc = new Mc(join(work.dir, 'mc'));
    cluster.kubectl(['create', 'namespace', ns]);
    const capture = await captureStack({ configFile: stackFile, stack: `${runPrefix}-k8s`, set: settings(ns), secret: ['vaultToken'] });
    const service = capture.resources.find((r) => r.type === 'kubernetes:core/v1:Service' && r.name.endsWith('-minio-service'));
    assert.ok(service, 'the stack declares a MinIO Service');
    minioHost = `${service.inputs.metadata.name}.${ns}.svc.cluster.local`;
    realized = (await up(capture, { kubeconfig: cluster.kubeconfig })).resources;
    const provider = realized.find((r) => r.type === 'pulumi:providers:minio');
    assert.ok(provider);
    await mc.aliasSet('stack', `http://${await resolveInCluster(minioHost)}:9000`, provider.inputs.minioUser, provider.inputs.minioPassword);
  }, { timeout: 1_800_000 });

  // The pods' logs join the test run's logs once, before the cluster stops (or at the end when a
  // test failed before the stop).
  let podLogsKept = false;
  const keepLogs = () => {
    if (podLogsKept || (cluster as Cluster | undefined) === undefined) return;
    podLogsKept = true;
    for (const namespace of [ns, `${runPrefix}-tenant`]) keepPodLogs(cluster, namespace);
  };

  after(async () => {
    keepLogs();
    await relay?.close();
    await bao?.stop();
    work.remove();
    // A failed test must not leave the cluster running either (stop is idempotent).
    try {
      stopCluster();
    } finally {
      releaseCluster();
    }
  });

  test('every declared Kubernetes object exists on the API server as declared', async () => {
    const declared = realized.filter((r) => r.type.startsWith('kubernetes:'));
    assert.deepEqual(declared.map((r) => r.inputs.kind).sort(), ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Secret', 'Secret', 'Secret', 'Service', 'Service', 'Service', 'StatefulSet']);
    for (const r of declared) {
      const live = await cluster.api.get(r.inputs.apiVersion, r.inputs.kind, ns, r.inputs.metadata.name);
      assert.equal(live.metadata.namespace, ns);
      const managers = (live.metadata.managedFields as any[]).map((f) => `${f.manager}:${f.operation}`);
      assert.ok(managers.includes('pulumi-kubernetes:Apply'), `${r.inputs.kind} ${r.inputs.metadata.name} managed by ${managers}`);
    }
    const deployment = object('kubernetes:apps/v1:Deployment', '-deployment');
    const live = await cluster.api.get('apps/v1', 'Deployment', ns, deployment.metadata.name as string);
    assert.deepEqual(live.spec.template.spec.containers[0].args, (deployment.spec as any).template.spec.containers[0].args);
    assert.equal(live.spec.template.spec.containers[0].image, images.kes);
  });

  test('strict field validation: a misspelt field anywhere in an object is refused, not dropped', async () => {
    const deployment = structuredClone(object('kubernetes:apps/v1:Deployment', '-deployment')) as any;
    deployment.spec.template.spec.containers[0].readinesProbe = deployment.spec.template.spec.containers[0].readinessProbe;
    // The API server answers an apply patch with a field outside the schema before it validates.
    await assert.rejects(cluster.api.apply(deployment), (e: unknown) => e instanceof KubeApiError && e.status >= 400 && /readinesProbe: field not declared in schema/.test(e.message));
    const live = await cluster.api.get('apps/v1', 'Deployment', ns, deployment.metadata.name);
    assert.equal('readinesProbe' in live.spec.template.spec.containers[0], false);
  });

  test('KES: the Deployment has 2 Ready replicas (readiness probe), running non-root on a read-only root file system', async () => {
    const deployment = object('kubernetes:apps/v1:Deployment', '-deployment');
    const live = await cluster.api.get('apps/v1', 'Deployment', ns, deployment.metadata.name as string);
    assert.equal(live.status.readyReplicas, 2);
    const selector = Object.entries((deployment.spec as any).selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
    const kes = pods(selector);
    assert.equal(kes.length, 2);
    for (const p of kes) {
      assert.equal(p.status.conditions.find((c: any) => c.type === 'Ready').status, 'True');
      const probe = cluster.kubectl(['-n', ns, 'exec', p.metadata.name, '--', 'node', '-e', "const fs=require('fs');let w;try{fs.writeFileSync('/probe','x');w='written'}catch(e){w=e.code}console.log(process.getuid(),process.getgid(),w)"]);
      assert.equal(probe.trim(), '1000 1000 EROFS');
    }
  });

  test('MinIO: the StatefulSet is Ready with every claim bound', async () => {
    const sts = object('kubernetes:apps/v1:StatefulSet', '-minio-statefulset');
    const live = await cluster.api.get('apps/v1', 'StatefulSet', ns, sts.metadata.name as string);
    assert.equal(live.status.readyReplicas, 4);
    const claims = JSON.parse(cluster.kubectl(['-n', ns, 'get', 'pvc', '-o', 'json'])).items as any[];
    assert.equal(claims.length, 8);
    for (const c of claims) assert.equal(c.status.phase, 'Bound', `${c.metadata.name} is ${c.status.phase}`);
  });

  test('mc PUT/GET through the MinIO Service: bucket-default SSE-KMS with the declared key, bytes equal by SHA-256', async () => {
    for (const [name, size] of [['small', 1000], ['multipart', 24 << 20]] as const) {
      const data = testData(`k8s-${name}`, size);
      await mc.ok(['pipe', `${bucket}/${name}`], { input: data, timeoutMs: 300_000 });
      const got = await mc.ok(['cat', `${bucket}/${name}`], { binary: true, timeoutMs: 300_000 });
      assert.equal(sha256(got.bytes), sha256(data), name);
      const stat = (await mc.ok(['stat', `${bucket}/${name}`])).json[0] as any;
      assert.equal(stat.metadata['X-Amz-Server-Side-Encryption'], 'aws:kms', name);
      assert.match(String(stat.metadata['X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id']), /bucket-key$/);
    }
  });

  test('one KES pod deleted under a stream of PUTs: no request fails', async () => {
    const deployment = object('kubernetes:apps/v1:Deployment', '-deployment');
    const selector = Object.entries((deployment.spec as any).selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
    const victim = pods(selector)[0].metadata.name;
    let stop = false;
    const failures: string[] = [];
    let done = 0;
    const writer = (async () => {
      for (let i = 0; !stop && i < 2000; i++) {
        const r = await mc.run(['pipe', `${bucket}/stream/${i}`], { input: testData(`stream-${i}`, 4096) });
        if (r.code !== 0) failures.push(r.stderr.slice(0, 300));
        done++;
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 2000));
      cluster.kubectl(['-n', ns, 'delete', 'pod', victim, '--wait=true']);
      cluster.kubectl(['-n', ns, 'rollout', 'status', `deployment/${deployment.metadata.name}`, '--timeout=300s']);
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      // The stream ends with the test, whatever failed.
      stop = true;
      await writer;
    }
    assert.ok(done >= 10, `only ${done} PUTs ran`);
    assert.deepEqual(failures, []);
  });

  test('kubectl rollout restart of MinIO loses no object', async () => {
    const sts = object('kubernetes:apps/v1:StatefulSet', '-minio-statefulset');
    const objects = Array.from({ length: 20 }, (_, i) => [`restart/${i}`, testData(`restart-${i}`, 64 << 10)] as const);
    for (const [key, data] of objects) await mc.ok(['pipe', `${bucket}/${key}`], { input: data });
    cluster.kubectl(['-n', ns, 'rollout', 'restart', `statefulset/${sts.metadata.name}`]);
    cluster.kubectl(['-n', ns, 'rollout', 'status', `statefulset/${sts.metadata.name}`, '--timeout=900s']);
    // Every pod being ready is not yet a healed cluster: the restarted nodes reconnect to each other
    // (new pod IPs) a little later. Wait until the cluster reports read quorum, as a client would.
    const minio = `http://${await resolveInCluster(minioHost)}:9000`;
    let quorum = 0;
    for (let i = 0; i < 300 && quorum !== 200; i++) {
      quorum = await fetch(`${minio}/minio/health/cluster/read`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status, () => 0);
      if (quorum !== 200) await new Promise((r) => setTimeout(r, 1000));
    }
    assert.equal(quorum, 200, 'the cluster has read quorum again after the restart');
    for (const [key, data] of objects) {
      const got = await readHealing(key);
      assert.equal(sha256(got), sha256(data), key);
    }
  });

  /** An object's bytes; a read the healing cluster fails (a node not yet reconnected) is retried for up to a minute. */
  async function readHealing(key: string): Promise<Buffer> {
    for (let deadline = Date.now() + 60_000; ; ) {
      try {
        return (await mc.ok(['cat', `${bucket}/${key}`], { binary: true })).bytes;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  }

  test('the PodDisruptionBudget is honoured: one KES pod may be evicted, a second eviction is refused (429)', async () => {
    const deployment = object('kubernetes:apps/v1:Deployment', '-deployment');
    const selector = Object.entries((deployment.spec as any).selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
    cluster.kubectl(['-n', ns, 'rollout', 'status', `deployment/${deployment.metadata.name}`, '--timeout=300s']);
    const [first, second] = pods(selector).map((p) => p.metadata.name);
    const evict = (pod: string) =>
      cluster.api.request('POST', `/api/v1/namespaces/${ns}/pods/${pod}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: ns } });
    // The disruption controller must have counted the healthy pods before it allows anything.
    for (let i = 0; i < 60; i++) {
      const pdb = await cluster.api.get('policy/v1', 'PodDisruptionBudget', ns, deployment.metadata.name as string);
      if (pdb.status?.disruptionsAllowed === 1) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await evict(first);
    await assert.rejects(evict(second), (e: unknown) => e instanceof KubeApiError && e.status === 429 && /disruption budget/.test(e.message));
    cluster.kubectl(['-n', ns, 'rollout', 'status', `deployment/${deployment.metadata.name}`, '--timeout=300s']);
  });

  test('Operator Tenant: every field the component writes passes strict validation against the CRD; the KES CA key and the readiness wait are the Operator\'s', async () => {
    const crd = parseAllDocuments(readFileSync(new URL('../fixtures/minio-tenant-crd.yaml', import.meta.url), 'utf8'))[0].toJS();
    await cluster.api.apply(crd);
    const tenantNs = `${runPrefix}-tenant`;
    cluster.kubectl(['create', 'namespace', tenantNs]);
    cluster.kubectl(['wait', '--for=condition=Established', `crd/${crd.metadata.name}`, '--timeout=60s']);
    const capture = await captureStack({ configFile: stackFile, stack: `${runPrefix}-tenant`, set: settings(tenantNs, { minioMode: 'tenant' }), secret: ['vaultToken'] });
    // Only the MinIO part is realized, the Tenant and its Secrets (no Operator runs here to start
    // pods), with the keys, certificates and password they are made of.
    const part = minioPart(capture);
    assert.deepEqual(part.resources.filter((r) => r.type.startsWith('kubernetes:')).map((r) => r.inputs.kind).sort(), ['Secret', 'Secret', 'Secret', 'Tenant']);
    const applied = up(part, { kubeconfig: cluster.kubeconfig });
    let settled = false;
    applied.then(() => (settled = true), () => (settled = true));
    try {
      let tenant: any;
      for (let i = 0; i < 240 && !tenant; i++) {
        tenant = await cluster.api.request('GET', `/apis/minio.min.io/v2/namespaces/${tenantNs}/tenants`).then((l: any) => l.items[0], () => undefined);
        if (!tenant) await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok(tenant, 'the Tenant was applied');
      // The component waits for the state the Operator reports once MinIO serves.
      assert.equal(tenant.metadata.annotations?.['pulumi.com/waitFor'], 'jsonpath={.status.currentState}=Initialized');
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(settled, false, 'the realization waits while the Tenant has no Initialized state');
      const status = `/apis/minio.min.io/v2/namespaces/${tenantNs}/tenants/${tenant.metadata.name}/status`;
      await cluster.api.request('PATCH', status, { status: { currentState: 'Initialized', healthStatus: 'green', availableReplicas: 4 } }, 'application/merge-patch+json');
    } finally {
      // Never leave the realization running into the next test, whatever failed above.
      await applied.catch(() => undefined);
    }
    const t = (await applied).resources.find((r) => r.type === 'kubernetes:minio.min.io/v2:Tenant');
    assert.ok(t);
    const live = await cluster.api.get('minio.min.io/v2', 'Tenant', tenantNs, t.inputs.metadata.name);
    assert.deepEqual(live.spec, t.inputs.spec, 'nothing the component wrote was pruned');
    // The Operator mounts an Opaque CA Secret's public.crt (tls.crt of a kubernetes.io/tls one).
    const [ca] = t.inputs.spec.externalCaCertSecret as Array<{ name: string; type: string }>;
    const key = ca.type === 'kubernetes.io/tls' ? 'tls.crt' : 'public.crt';
    const secret = await cluster.api.get('v1', 'Secret', tenantNs, ca.name);
    assert.ok(secret.data?.[key], `the KES CA Secret (type ${ca.type}) must hold ${key}; it holds ${Object.keys(secret.data ?? {})}`);
    assert.match(Buffer.from(secret.data[key], 'base64').toString(), /BEGIN CERTIFICATE/);
    const misspelt = structuredClone(t.inputs) as any;
    misspelt.spec.pools[0].volumesPerServr = 2;
    await assert.rejects(cluster.api.apply(misspelt), (e: unknown) => e instanceof KubeApiError && e.status >= 400 && /volumesPerServr/.test(e.message));
  });

  test('stop leaves nothing behind: no namespace, link, mount, cgroup, firewall rule or kernel setting changed', () => {
    keepLogs();
    stopCluster();
    assert.equal(existsSync('/run/netns/minio-sse-kes-kube'), false);
    const now = machineState();
    assert.deepEqual(now, before_);
    assert.deepEqual(now.firewall, []);
    assert.deepEqual(now.links, []);
    // The components by their binaries and config (a kubectl of another program may still run).
    const leftovers = spawnSync('pgrep', ['-f', 'kube/bin/(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy|coredns) |kube/run/conf/containerd'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(leftovers, '', 'no cluster process runs');
    for (const h of readdirSync('/sys/fs/cgroup')) assert.equal(existsSync(join('/sys/fs/cgroup', h, 'minio-sse-kes-kube')), false, h);
    assert.ok(existsSync(clusterScript));
  });
});
