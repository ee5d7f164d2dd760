/**
 * `@pulumi/kubernetes` resources on a real API server, the way the provider does with server-side
 * apply: each declared object is sent whole as an apply patch with strict field validation (an
 * unknown or misspelt field anywhere in it is refused by the server, not dropped), then awaited as
 * the provider awaits it before dependents proceed (Deployment and StatefulSet rolled out and
 * ready, a selecting Service with ready endpoints, an object annotated `pulumi.com/waitFor` until
 * its condition holds). The cluster is the explicit provider's `kubeconfig` (a file path or the
 * file's YAML), else the one the default provider would use: `env.kubeconfig`, then `KUBECONFIG`.
 */
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { FieldSpec } from './fields.ts';
import type { Environment, Pending, ProviderModule, TypeRealizer } from './types.ts';

/** Where the API server is and the client certificate that talks to it. */
export interface KubeAccess {
  readonly server: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** The current context of a kubeconfig (a file, or its YAML) whose credentials are files or inline data. */
export function kubeAccessFromKubeconfig(fileOrYaml: string): KubeAccess {
  const doc = parse(fileOrYaml.includes('\n') ? fileOrYaml : readFileSync(fileOrYaml, 'utf8')) as any;
  const ctx = doc.contexts.find((c: any) => c.name === doc['current-context']).context;
  const cluster = doc.clusters.find((c: any) => c.name === ctx.cluster).cluster;
  const user = doc.users.find((u: any) => u.name === ctx.user).user;
  const pem = (path: string | undefined, data: string | undefined) => (data ? Buffer.from(data, 'base64').toString() : readFileSync(path as string, 'utf8'));
  return {
    server: cluster.server,
    ca: pem(cluster['certificate-authority'], cluster['certificate-authority-data']),
    cert: pem(user['client-certificate'], user['client-certificate-data']),
    key: pem(user['client-key'], user['client-key-data']),
  };
}

/** An API answer that was not 2xx: the server's Status message is kept. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly body: any;
  constructor(status: number, body: any, what: string) {
    super(`${what}: ${status} ${typeof body === 'object' && body?.message ? body.message : String(body).slice(0, 500)}`);
    this.name = 'KubeApiError';
    this.status = status;
    this.body = body;
  }
}

/** A Kubernetes object as declared: apiVersion, kind, metadata and the kind's own fields. */
export type KubeObject = { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string; annotations?: Record<string, string> }; [field: string]: unknown };

/** The REST API of one cluster: raw requests, discovery, apply, get, await. */
export class KubeApi {
  readonly access: KubeAccess;
  readonly fieldManager: string;
  readonly #resources = new Map<string, Promise<Map<string, { plural: string; namespaced: boolean }>>>();

  constructor(access: KubeAccess, fieldManager = 'pulumi-kubernetes') {
    this.access = access;
    this.fieldManager = fieldManager;
  }

  /**
   * One request; JSON answers are parsed. Throws `KubeApiError` on a non-2xx status. Every request
   * the realizer sends is idempotent (GET, apply, DELETE), so a connection reset is retried.
   */
  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<any> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once(method, path, body, contentType);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (attempt >= 4 || !['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(code ?? '')) throw e;
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  }

  #once(method: string, path: string, body: unknown, contentType: string): Promise<any> {
    const url = new URL(path, this.access.server);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        url,
        {
          method,
          agent: false,
          ca: this.access.ca,
          cert: this.access.cert,
          key: this.access.key,
          headers: { accept: 'application/json', ...(payload ? { 'content-type': contentType } : {}) },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let parsed: any = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // Plain-text answers (e.g. /readyz) stay text.
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(parsed);
            else reject(new KubeApiError(status, parsed, `${method} ${url.pathname}`));
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error(`${method} ${url.pathname}: timed out`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** REST name and scope of `kind` in `apiVersion`, from the server's discovery. */
  async resourceOf(apiVersion: string, kind: string): Promise<{ plural: string; namespaced: boolean }> {
    let list = this.#resources.get(apiVersion);
    if (!list) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      list = this.request('GET', path).then((d: any) => new Map(d.resources.filter((r: any) => !r.name.includes('/')).map((r: any) => [r.kind, { plural: r.name, namespaced: r.namespaced }])));
      this.#resources.set(apiVersion, list);
      list.catch(() => this.#resources.delete(apiVersion));
    }
    const r = (await list).get(kind);
    if (!r) throw new Error(`the cluster serves no ${kind} in ${apiVersion}`);
    return r;
  }

  /** URL path of an object (or of its collection when `name` is undefined). */
  async pathOf(apiVersion: string, kind: string, namespace: string | undefined, name?: string): Promise<string> {
    const r = await this.resourceOf(apiVersion, kind);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    if (r.namespaced && !namespace) throw new Error(`${kind} ${name ?? ''} needs metadata.namespace`);
    const ns = r.namespaced ? `/namespaces/${encodeURIComponent(namespace as string)}` : '';
    return `${base}${ns}/${r.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
  }

  /** Server-side apply of the whole object with strict field validation; returns the live object. */
  async apply(obj: KubeObject): Promise<any> {
    const name = obj.metadata?.name;
    if (!name) throw new Error(`${obj.kind}: metadata.name is required (no auto-naming here)`);
    const path = await this.pathOf(obj.apiVersion, obj.kind, obj.metadata.namespace, name);
    const query = `?fieldManager=${encodeURIComponent(this.fieldManager)}&fieldValidation=Strict&force=true`;
    return this.request('PATCH', path + query, obj, 'application/apply-patch+yaml');
  }

  async get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<any> {
    return this.request('GET', await this.pathOf(apiVersion, kind, namespace, name));
  }

  async delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<void> {
    await this.request('DELETE', await this.pathOf(apiVersion, kind, namespace, name), { propagationPolicy: 'Foreground' });
  }
}

/** Why an applied object is not ready yet, or `undefined` when it is. */
export async function notReady(api: KubeApi, obj: KubeObject): Promise<string | undefined> {
  const { apiVersion, kind } = obj;
  const ns = obj.metadata.namespace;
  const name = obj.metadata.name as string;
  const live = await api.get(apiVersion, kind, ns, name);
  const waitFor = obj.metadata.annotations?.['pulumi.com/waitFor'];
  if (waitFor) return waitForAnnotation(live, waitFor);
  const st = live.status ?? {};
  const gen = st.observedGeneration === undefined || st.observedGeneration >= live.metadata.generation;
  switch (`${apiVersion}/${kind}`) {
    case 'apps/v1/Deployment': {
      const want = live.spec.replicas ?? 1;
      if (!gen || st.updatedReplicas !== want || st.availableReplicas !== want || (st.replicas ?? 0) !== want) {
        return `${st.availableReplicas ?? 0}/${want} replicas available, ${st.updatedReplicas ?? 0} updated`;
      }
      return undefined;
    }
    case 'apps/v1/StatefulSet': {
      const want = live.spec.replicas ?? 1;
      if (!gen || st.readyReplicas !== want || (st.updateRevision && st.currentRevision !== st.updateRevision)) return `${st.readyReplicas ?? 0}/${want} replicas ready`;
      return undefined;
    }
    case 'v1/Service': {
      if (!live.spec.selector || live.spec.clusterIP === 'None' || live.spec.type === 'ExternalName') return undefined;
      const slices = await api.request('GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${name}`)}`);
      const ready = slices.items.some((s: any) => (s.endpoints ?? []).some((e: any) => e.conditions?.ready));
      return ready ? undefined : 'no ready endpoint';
    }
    default:
      return undefined;
  }
}

/** `pulumi.com/waitFor`: `condition=Type[=Status]` or `jsonpath={.path}=value` (a JSON list means all). */
function waitForAnnotation(live: any, spec: string): string | undefined {
  const rules: string[] = spec.trim().startsWith('[') ? JSON.parse(spec) : [spec];
  for (const rule of rules) {
    const cond = /^condition=([^=]+)(?:=(.*))?$/.exec(rule);
    if (cond) {
      const c = (live.status?.conditions ?? []).find((x: any) => x.type === cond[1]);
      if (!c || String(c.status) !== (cond[2] ?? 'True')) return `waiting for ${rule}`;
      continue;
    }
    const jp = /^jsonpath=\{\.([^}]*)\}(?:=(.*))?$/.exec(rule);
    if (!jp) throw new Error(`pulumi.com/waitFor: cannot read ${JSON.stringify(rule)}`);
    const v = jp[1].split('.').reduce((o: any, k) => (o === undefined || o === null ? undefined : o[k]), live);
    if (jp[2] === undefined ? v === undefined : String(v) !== jp[2]) return `waiting for ${rule} (now ${JSON.stringify(v)})`;
  }
  return undefined;
}

/** Polls until `notReady` says nothing, or fails after `timeoutMs` (the provider's default, 10 minutes) naming the last reason. */
export async function awaitReady(api: KubeApi, obj: KubeObject, timeoutMs = 600_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let why: string | undefined = 'not checked';
  while (Date.now() < until) {
    why = await notReady(api, obj);
    if (why === undefined) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${obj.kind} ${obj.metadata.namespace ?? ''}/${obj.metadata.name} not ready after ${timeoutMs / 1000}s: ${why}`);
}

/** An object is gone once its GET answers 404 (deletion may wait for finalizers and pods). */
async function awaitGone(api: KubeApi, obj: KubeObject, timeoutMs = 300_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const gone = await api.get(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name as string).then(
      () => false,
      (e: unknown) => e instanceof KubeApiError && e.status === 404,
    );
    if (gone) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${obj.kind} ${obj.metadata.namespace ?? ''}/${obj.metadata.name} still exists after ${timeoutMs / 1000}s`);
}

const apis = new Map<string, KubeApi>();
function apiFor(r: Pending, env: Environment): KubeApi {
  const kubeconfig = r.provider?.kubeconfig ?? env.kubeconfig ?? process.env.KUBECONFIG;
  if (!kubeconfig) throw new Error(`realize: ${r.type} ${r.name}: no cluster (explicit provider kubeconfig, env.kubeconfig or KUBECONFIG)`);
  let api = apis.get(kubeconfig);
  if (!api) apis.set(kubeconfig, (api = new KubeApi(kubeAccessFromKubeconfig(kubeconfig))));
  return api;
}

/**
 * One kind: its top-level fields are checked here (the SDK's input properties of that kind); what
 * is inside them is the API server's to check, strictly, at apply.
 */
function kind(apiVersion: string, kindName: string, fields: readonly string[]): TypeRealizer {
  return {
    fields: Object.fromEntries(['apiVersion', 'kind', 'metadata', ...fields].map((f) => [f, true])) as FieldSpec,
    async create(r, env) {
      const obj = r.inputs as KubeObject;
      if (obj.apiVersion !== apiVersion || obj.kind !== kindName) throw new Error(`realize: ${r.type} ${r.name}: inputs declare ${obj.apiVersion} ${obj.kind}`);
      const api = apiFor(r, env);
      await api.apply(obj);
      await awaitReady(api, obj);
      const live = await api.get(apiVersion, kindName, obj.metadata.namespace, obj.metadata.name as string);
      return { ...live, id: `${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}` };
    },
    async delete(r, env) {
      const obj = r.inputs as KubeObject;
      const api = apiFor(r, env);
      await api.delete(apiVersion, kindName, obj.metadata.namespace, obj.metadata.name as string).catch((e: unknown) => {
        if (!(e instanceof KubeApiError && e.status === 404)) throw e;
      });
      await awaitGone(api, obj);
    },
  };
}

/** The kinds the components declare, with the SDK's top-level input fields of each. */
export const kubernetes: ProviderModule = {
  'pulumi:providers:kubernetes': {
    fields: { kubeconfig: true, context: true, namespace: true, enableServerSideApply: true },
    async create(r) {
      return { id: r.name };
    },
    async delete() {},
  },
  'kubernetes:core/v1:Namespace': kind('v1', 'Namespace', ['spec']),
  'kubernetes:core/v1:ConfigMap': kind('v1', 'ConfigMap', ['data', 'binaryData', 'immutable']),
  'kubernetes:core/v1:Secret': kind('v1', 'Secret', ['type', 'data', 'stringData', 'immutable']),
  'kubernetes:core/v1:Service': kind('v1', 'Service', ['spec']),
  'kubernetes:apps/v1:Deployment': kind('apps/v1', 'Deployment', ['spec']),
  'kubernetes:apps/v1:StatefulSet': kind('apps/v1', 'StatefulSet', ['spec']),
  'kubernetes:policy/v1:PodDisruptionBudget': kind('policy/v1', 'PodDisruptionBudget', ['spec']),
  // A CustomResource's inputs are its object; the Tenant's fields are checked by its CRD's schema.
  'kubernetes:minio.min.io/v2:Tenant': kind('minio.min.io/v2', 'Tenant', ['spec', 'scheduler']),
};
