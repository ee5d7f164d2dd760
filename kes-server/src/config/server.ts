/**
 * Validation of every section except `keystore` (docs/protocol.md#configuration-file). Each function reads one
 * section from the document and returns its typed form or throws a ConfigError naming the field.
 */
import { isIP } from 'node:net';
import type { ConfigNode } from './yaml-node.ts';
import { ConfigError } from './errors.ts';
import { isValidName } from '../http/names.ts';
import { parseLogLevel } from './log-level.ts';
import type { ApiRouteConfig, PolicyConfig, ServerConfig, TlsConfig } from './types.ts';

export const DEFAULT_ADDRESS = '0.0.0.0:7373';
const DEFAULT_PROXY_HEADER = 'X-Tls-Client-Cert';

/** `version`: absent or `v1`; never substituted (docs/protocol.md#config-top-level). */
export function readVersion(root: ConfigNode): void {
  const node = root.get('version');
  const v = node.string({ env: false });
  if (v !== '' && v !== 'v1') throw node.error(`must be 'v1'`);
}

/** `address`: `ip:port` with an IP literal host (docs/protocol.md#config-top-level). */
export function readAddress(root: ConfigNode): string {
  const node = root.get('address');
  const address = node.string().trim();
  if (address === '') return DEFAULT_ADDRESS;
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(address);
  const host = m ? (m[1] ?? m[2]) : undefined;
  const ok = m && Number(m[3]) <= 65535 && (host === '' || (m[1] !== undefined ? isIP(host!) === 6 : isIP(host!) === 4));
  if (!ok) throw node.error('must be <ip>:<port> with an IP address, e.g. 0.0.0.0:7373');
  return address;
}

/** `admin.identity`, or the legacy top-level `root` (docs/protocol.md#config-top-level, #older-servers). Required. */
export function readAdmin(root: ConfigNode): string {
  const identity = root.get('admin').get('identity');
  const admin = identity.string().trim();
  if (admin !== '') return admin;
  const legacy = root.get('root').string().trim();
  if (legacy !== '') return legacy;
  throw identity.error('is required (an identity, or a placeholder such as "disabled")');
}

function identities(list: ConfigNode): string[] {
  // An identity that resolves to "" (e.g. an empty variable) is skipped, not an error.
  return list
    .items()
    .map((n) => n.string().trim())
    .filter((id) => id !== '');
}

/** `tls` (docs/protocol.md#config-tls). Key and cert are required; `auth` is on/off, case-insensitive. */
export function readTls(root: ConfigNode, admin: string): TlsConfig {
  const tls = root.get('tls');
  const key = tls.get('key');
  const cert = tls.get('cert');
  if (key.string().trim() === '') throw key.error('is required (path of the server private key)');
  if (cert.string().trim() === '') throw cert.error('is required (path of the server certificate)');
  const authNode = tls.get('auth');
  const auth = authNode.string().trim().toLowerCase();
  if (auth !== '' && auth !== 'on' && auth !== 'off') throw authNode.error(`must be 'on' or 'off'`);
  const proxy = tls.get('proxy');
  const proxyIds = proxy.get('identities');
  const ids = identities(proxyIds);
  if (ids.includes(admin)) throw proxyIds.error('must not contain the admin identity');
  return {
    key: key.string().trim(),
    cert: cert.string().trim(),
    password: tls.get('password').string(),
    auth: auth === 'on',
    ca: tls.get('ca').string().trim(),
    proxy: { identities: ids, header: proxy.get('header').get('cert').string().trim() || DEFAULT_PROXY_HEADER },
  };
}

/** `policy` (docs/protocol.md#config-policy): valid names; each identity valid, not admin, not a proxy, in one policy only. */
export function readPolicies(root: ConfigNode, admin: string, proxies: string[]): Map<string, PolicyConfig> {
  const policies = new Map<string, PolicyConfig>();
  const owner = new Map<string, string>();
  for (const [name, node] of root.get('policy').entries()) {
    if (!isValidName(name)) throw new ConfigError('policy', `'policy.${name}': invalid policy name`, node.line);
    const patterns = (field: string) => node.get(field).items().map((n) => n.string({ env: false }));
    const allow = patterns('allow');
    const deny = patterns('deny');
    const ids: string[] = [];
    for (const item of node.get('identities').items()) {
      const id = item.string().trim();
      if (id === '') continue;
      if (!isValidName(id)) throw item.error('is not a valid identity');
      if (id === admin) throw item.error('is the admin identity, which cannot be assigned to a policy');
      if (proxies.includes(id)) throw item.error('is a TLS proxy identity, which cannot be assigned to a policy');
      const other = owner.get(id);
      if (other !== undefined) throw item.error(`is already assigned to policy '${other}'`);
      owner.set(id, name);
      ids.push(id);
    }
    policies.set(name, { allow, deny, identities: ids });
  }
  return policies;
}

const DEFAULT_ANY_MS = 5 * 60_000;
const QUIRK_ANY_MS = 30_000;

/** `cache.expiry` (docs/protocol.md#config-cache), defaults applied as the upstream binary applies them. */
export function readCache(root: ConfigNode): ServerConfig['cache'] {
  const expiry = root.get('cache').get('expiry');
  let anyMs = expiry.get('any').durationMs();
  const unusedMs = expiry.get('unused').durationMs();
  const offlineMs = expiry.get('offline').durationMs();
  if (anyMs === 0) anyMs = DEFAULT_ANY_MS;
  // Upstream quirk (docs/protocol.md#config-cache): an unset `unused` overwrites `any` (the intent was unused = 30s).
  if (unusedMs === 0) anyMs = QUIRK_ANY_MS;
  return { anyMs, unusedMs, offlineMs };
}

/** `api` (docs/protocol.md#config-api): map keyed by route path; unknown paths are kept and ignored by the server. */
export function readApi(root: ConfigNode): Map<string, ApiRouteConfig> {
  const api = new Map<string, ApiRouteConfig>();
  for (const [path, node] of root.get('api').entries()) {
    api.set(path, { skipAuth: node.get('skip_auth').bool(false), timeoutMs: node.get('timeout').durationMs() });
  }
  return api;
}

/** `log.error` and `log.audit` (docs/protocol.md#config-log). */
export function readLog(root: ConfigNode): ServerConfig['log'] {
  const level = (node: ConfigNode) => {
    try {
      return parseLogLevel(node.string());
    } catch {
      throw node.error('is not a log level (on, off, DEBUG, INFO, WARN, ERROR, optionally +N)');
    }
  };
  const log = root.get('log');
  return { error: level(log.get('error')), audit: level(log.get('audit')) };
}

/** `keys` (docs/protocol.md#config-keys): names of keys created at start-up; duplicates are an error. */
export function readKeys(root: ConfigNode): string[] {
  const names: string[] = [];
  for (const item of root.get('keys').items()) {
    const node = item.get('name');
    const name = node.string().trim();
    if (name === '') throw node.error('is required');
    if (names.includes(name)) throw node.error(`duplicates key '${name}'`);
    names.push(name);
  }
  return names;
}
