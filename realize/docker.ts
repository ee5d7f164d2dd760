/**
 * `@pulumi/docker` resources through the Docker Engine API on the local socket (node:http), field
 * by field as the provider documents them. Images are built with the `docker` client's classic
 * builder (see README: the provider would use BuildKit).
 */
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { runLog, runLogDir } from '../sandbox/log-sweep.ts';
import { redactDevSecrets } from '../sandbox/openbao.ts';
import { tarFiles } from './tar.ts';
import type { Environment, Pending, ProviderModule, Realized, TypeRealizer } from './types.ts';

const SOCKET = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');
const API = '/v1.41';

export interface DockerAnswer {
  readonly status: number;
  readonly body: any;
}

/** One Engine API call; JSON bodies both ways (a Buffer body is sent as a tar archive). */
export function dockerApi(method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<DockerAnswer> {
  return new Promise((resolve, reject) => {
    const raw = Buffer.isBuffer(body);
    const payload = body === undefined ? undefined : raw ? (body as Buffer) : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        socketPath: SOCKET,
        method,
        path: `${API}${path}`,
        headers: payload ? { 'content-type': raw ? 'application/x-tar' : 'application/json', 'content-length': payload.length } : {},
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`docker ${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Like `dockerApi`, but any status outside 2xx (and the allowed ones) is an error naming `what`. */
async function call(what: string, method: string, path: string, body?: unknown, allow: number[] = []): Promise<DockerAnswer> {
  const a = await dockerApi(method, path, body);
  if ((a.status < 200 || a.status > 299) && !allow.includes(a.status)) {
    throw new Error(`realize: ${what}: docker ${method} ${path.split('?')[0]} answered ${a.status}: ${typeof a.body === 'object' ? a.body?.message : a.body}`);
  }
  return a;
}

/** `2s`, `500ms`, `1m30s` → nanoseconds (Docker's health-check durations). */
export function nanoseconds(d: string | undefined): number | undefined {
  if (d === undefined) return undefined;
  const units: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  const rest = d.replace(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g, (_, n: string, u: string) => {
    total += Number(n) * units[u];
    return '';
  });
  if (rest !== '' || d === '') throw new Error(`realize: not a duration: ${d}`);
  return Math.round(total);
}

const network: TypeRealizer = {
  fields: { name: true, driver: true },
  async create(r) {
    const a = await call(`network ${r.name}`, 'POST', '/networks/create', { Name: r.inputs.name, Driver: r.inputs.driver ?? 'bridge', CheckDuplicate: true });
    return { id: a.body.Id, name: r.inputs.name };
  },
  async delete(r) {
    await call(`network ${r.name}`, 'DELETE', `/networks/${r.outputs.id}`, undefined, [404]);
  },
};

const volume: TypeRealizer = {
  fields: { name: true, driver: true },
  async create(r) {
    const a = await call(`volume ${r.name}`, 'POST', '/volumes/create', { Name: r.inputs.name, Driver: r.inputs.driver ?? 'local' });
    return { id: a.body.Name, name: a.body.Name, mountpoint: a.body.Mountpoint };
  },
  async delete(r) {
    await call(`volume ${r.name}`, 'DELETE', `/volumes/${encodeURIComponent(r.outputs.name)}`, undefined, [404]);
  },
};

/** `RemoteImage`: the provider pulls `name` unless present. Nothing can be pulled here: a local stand-in is tagged instead. */
const remoteImage: TypeRealizer = {
  fields: { name: true, keepLocally: true },
  async create(r, env) {
    const name: string = r.inputs.name;
    let a = await call(`image ${r.name}`, 'GET', `/images/${encodeURIComponent(name)}/json`, undefined, [404]);
    let tagged = false;
    if (a.status === 404) {
      const standIn = env.standIns?.[name];
      if (!standIn) throw new Error(`realize: image ${r.name}: ${name} is not on this engine and cannot be pulled; give a local stand-in`);
      const cut = name.lastIndexOf(':') > name.lastIndexOf('/') ? name.lastIndexOf(':') : name.length;
      await call(`image ${r.name}`, 'POST', `/images/${encodeURIComponent(standIn)}/tag?repo=${encodeURIComponent(name.slice(0, cut))}&tag=${encodeURIComponent(name.slice(cut + 1) || 'latest')}`);
      a = await call(`image ${r.name}`, 'GET', `/images/${encodeURIComponent(name)}/json`);
      tagged = true;
    }
    return { id: a.body.Id, imageId: a.body.Id, repoDigest: a.body.RepoDigests?.[0] ?? '', tagged };
  },
  async delete(r) {
    if (r.inputs.keepLocally === true) return;
    await call(`image ${r.name}`, 'DELETE', `/images/${encodeURIComponent(r.inputs.name)}`, undefined, [404, 409]);
  },
};

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${stderr || stdout}`.trim().split('\n').slice(-15).join('\n'))) : resolve(stdout)));
  });
}

/** `Image`: `build.context` and `build.dockerfile` built and tagged `imageName`; never pushed here. */
const image: TypeRealizer = {
  fields: { imageName: true, skipPush: true, buildOnPreview: true, build: { context: true, dockerfile: true, args: true, target: true } },
  async create(r) {
    const b = r.inputs.build ?? {};
    if (r.inputs.skipPush !== true) throw new Error(`realize: image ${r.name}: pushing is not realized (no registry); set skipPush`);
    const args = ['build', '--quiet', '-t', r.inputs.imageName];
    if (b.dockerfile) args.push('-f', b.dockerfile);
    if (b.target) args.push('--target', b.target);
    for (const [k, v] of Object.entries((b.args ?? {}) as Record<string, string>)) args.push('--build-arg', `${k}=${v}`);
    args.push(b.context ?? '.');
    try {
      await run('docker', args, { ...process.env, DOCKER_BUILDKIT: '0' });
    } catch (e) {
      throw new Error(`realize: image ${r.name}: docker build failed: ${(e as Error).message}`);
    }
    const a = await call(`image ${r.name}`, 'GET', `/images/${encodeURIComponent(r.inputs.imageName)}/json`);
    return { id: a.body.Id, imageName: r.inputs.imageName, repoDigest: `${r.inputs.imageName}@${a.body.Id}` };
  },
  // The provider leaves built images in the local store on delete.
  async delete() {},
};

const containerFields = {
  name: true,
  hostname: true,
  image: true,
  command: true,
  entrypoints: true,
  envs: true,
  user: true,
  workingDir: true,
  readOnly: true,
  tmpfs: true,
  restart: true,
  capabilities: { adds: true, drops: true },
  securityOpts: true,
  healthcheck: { tests: true, interval: true, timeout: true, retries: true, startPeriod: true },
  ports: [{ internal: true, external: true, ip: true, protocol: true }],
  volumes: [{ volumeName: true, containerPath: true, readOnly: true }],
  networksAdvanced: [{ name: true, aliases: true }],
  uploads: [{ file: true, content: true, contentBase64: true, executable: true }],
  wait: true,
  waitTimeout: true,
} as const;

/** The Engine API's create body for a `Container`'s inputs. */
export function containerCreateBody(i: Record<string, any>): Record<string, unknown> {
  const ports = (i.ports ?? []) as Array<{ internal: number; external?: number; ip?: string; protocol?: string }>;
  const nets = (i.networksAdvanced ?? []) as Array<{ name: string; aliases?: string[] }>;
  const hc = i.healthcheck;
  return {
    Hostname: i.hostname,
    Image: i.image,
    Cmd: i.command,
    Entrypoint: i.entrypoints,
    Env: i.envs,
    User: i.user,
    WorkingDir: i.workingDir,
    ExposedPorts: Object.fromEntries(ports.map((p) => [`${p.internal}/${p.protocol ?? 'tcp'}`, {}])),
    Healthcheck: hc && {
      Test: hc.tests,
      Interval: nanoseconds(hc.interval),
      Timeout: nanoseconds(hc.timeout),
      Retries: hc.retries,
      StartPeriod: nanoseconds(hc.startPeriod),
    },
    HostConfig: {
      // The provider's defaults: restart "no", ports published on 0.0.0.0.
      RestartPolicy: { Name: i.restart ?? 'no' },
      PortBindings: Object.fromEntries(ports.map((p) => [`${p.internal}/${p.protocol ?? 'tcp'}`, [{ HostIp: p.ip ?? '0.0.0.0', HostPort: p.external === undefined ? '' : String(p.external) }]])),
      CapAdd: i.capabilities?.adds,
      CapDrop: i.capabilities?.drops,
      SecurityOpt: i.securityOpts,
      ReadonlyRootfs: i.readOnly === true,
      Tmpfs: i.tmpfs,
      Binds: ((i.volumes ?? []) as Array<{ volumeName: string; containerPath: string; readOnly?: boolean }>).map((v) => `${v.volumeName}:${v.containerPath}${v.readOnly ? ':ro' : ''}`),
      NetworkMode: nets[0]?.name,
    },
    NetworkingConfig: nets.length ? { EndpointsConfig: { [nets[0].name]: { Aliases: nets[0].aliases ?? [] } } } : undefined,
  };
}

/** Polls until the container is healthy (or running, without a health check); fails if it stops. */
async function waitHealthy(what: string, id: string, timeoutS: number): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const s = (await call(what, 'GET', `/containers/${id}/json`)).body.State;
    if (s.Health ? s.Health.Status === 'healthy' : s.Running) return;
    if (!s.Running && !s.Restarting) throw new Error(`realize: ${what}: the container exited (code ${s.ExitCode}) before it was healthy`);
    if (Date.now() > deadline) {
      const last = s.Health?.Log?.at(-1)?.Output?.trim();
      throw new Error(`realize: ${what}: not healthy within ${timeoutS} s (${s.Health?.Status ?? s.Status}${last ? `: ${last}` : ''})`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

const container: TypeRealizer = {
  fields: containerFields,
  async create(r: Pending) {
    const i = r.inputs;
    const what = `container ${r.name}`;
    const created = await call(what, 'POST', `/containers/create?name=${encodeURIComponent(i.name)}`, containerCreateBody(i));
    const id: string = created.body.Id;
    try {
      await configure(what, id, i);
      await call(what, 'POST', `/containers/${id}/start`);
      if (i.wait === true) await waitHealthy(what, id, i.waitTimeout ?? 60);
    } catch (e) {
      // Created but not healthy: the state keeps it (Pulumi keeps such a resource too), so teardown removes it.
      throw Object.assign(e as Error, { outputs: { id, name: i.name } });
    }
    return { id, name: i.name };
  },
  async delete(r: Realized) {
    await keepContainerLog(r.outputs.id, r.inputs.name ?? r.name);
    await call(`container ${r.name}`, 'DELETE', `/containers/${r.outputs.id}?force=true&v=true`, undefined, [404]);
  },
};

/**
 * The container's output joins the test run's logs before the container goes (a dev OpenBao's
 * banner prints its root token and unseal key by design: those two lines are redacted).
 */
export function keepContainerLog(id: string, name: string): Promise<void> {
  if (runLogDir() === undefined) return Promise.resolve();
  return new Promise((resolve) =>
    execFile('docker', ['logs', id], { maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      if (!err) runLog(`container-${name}.log`)(redactDevSecrets(`${stdout}${stderr}`));
      resolve();
    }),
  );
}

/** Extra networks and uploads, before the container starts. */
async function configure(what: string, id: string, i: Record<string, any>): Promise<void> {
  for (const n of ((i.networksAdvanced ?? []) as Array<{ name: string; aliases?: string[] }>).slice(1)) {
    await call(what, 'POST', `/networks/${encodeURIComponent(n.name)}/connect`, { Container: id, EndpointConfig: { Aliases: n.aliases ?? [] } });
  }
  // As the provider does: one archive per file, extracted at `/`, mode 0644 (0744 if executable).
  for (const u of (i.uploads ?? []) as Array<{ file: string; content?: string; contentBase64?: string; executable?: boolean }>) {
    const content = u.contentBase64 !== undefined ? Buffer.from(u.contentBase64, 'base64') : Buffer.from(u.content ?? '', 'utf8');
    await call(what, 'PUT', `/containers/${id}/archive?path=%2F`, tarFiles([{ path: u.file, content, mode: u.executable ? 0o744 : 0o644 }]));
  }
}

export const docker: ProviderModule = {
  'docker:index/network:Network': network,
  'docker:index/volume:Volume': volume,
  'docker:index/remoteImage:RemoteImage': remoteImage,
  'docker:index/image:Image': image,
  'docker:index/container:Container': container,
};

export type { Environment };
