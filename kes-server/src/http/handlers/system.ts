/** Server-level handlers: version, readiness, status, metrics and the API listing (docs/protocol.md#server-routes). */
import { errorMessage } from '../../errors.ts';
import { availableParallelism, cpus } from 'node:os';
import { isUnreachable } from '../../keystore/errors.ts';
import { MetricsContentType, renderSnapshot, sumSnapshots } from '../../metrics/metrics.ts';
import { ErrKeyStoreUnavailable, ErrKeyStoreUnreachable } from '../errors.ts';
import { empty, json, type RequestContext, type Reply } from '../route.ts';
import type { ServerState } from '../state.ts';

export async function version(_ctx: RequestContext, state: ServerState): Promise<Reply> {
  return json({ version: state.build.version, commit: state.build.commit });
}

export async function ready(ctx: RequestContext, state: ServerState): Promise<Reply> {
  try {
    await state.cache.status();
    return empty;
  } catch (err) {
    state.errorLog.warn(`readiness probe failed: ${errorMessage(err)}`, [
      ['req.path', ctx.path],
      ['req.ip', ctx.ip],
    ]);
    throw isUnreachable(err) ? ErrKeyStoreUnreachable : ErrKeyStoreUnavailable;
  }
}

/** Go's GOOS / GOARCH names for Node's platform and arch. */
function goOs(platform: string = process.platform): string {
  return platform === 'win32' ? 'windows' : platform === 'sunos' ? 'solaris' : platform;
}

function goArch(arch: string = process.arch): string {
  const names: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };
  return names[arch] ?? arch;
}

export async function status(_ctx: RequestContext, state: ServerState): Promise<Reply> {
  const out: Record<string, unknown> = {
    version: state.build.version,
    os: goOs(),
    arch: goArch(),
    uptime: Math.round((Date.now() - state.startTime.getTime()) / 1000),
    num_cpu: cpus().length,
    num_cpu_used: availableParallelism(),
    mem_heap_used: process.memoryUsage().heapUsed,
    mem_stack_used: 0,
  };
  try {
    const s = await state.cache.status();
    out.keystore_latency = Math.max(1, Math.round(s.latencyMs));
  } catch {
    // Both flags: the Go client rejects `keystore_unreachable` without `keystore_unavailable`.
    out.keystore_unreachable = true;
    out.keystore_unavailable = true;
  }
  return json(out);
}

/** The counters of all workers added up: N workers report like one server (docs/protocol.md#server-routes). */
export async function metrics(_ctx: RequestContext, state: ServerState): Promise<Reply> {
  const total = sumSnapshots(await state.collectMetrics());
  const body = renderSnapshot(total, {
    numCpu: cpus().length,
    numCpuUsed: availableParallelism(),
    threads: state.workers,
    heapUsed: total.heapUsed,
    heapObjects: 0,
    stackUsed: 0,
  });
  return { kind: 'raw', contentType: MetricsContentType, body };
}

export async function listApis(_ctx: RequestContext, state: ServerState): Promise<Reply> {
  return json(
    state.routes.map((r) => ({ method: r.method, path: r.path, max_body: r.maxBody, timeout: Math.trunc(r.timeoutMs / 1000) })),
  );
}
