/**
 * The KES server: one HTTPS listener (HTTP/2 and HTTP/1.1) serving the route table against a
 * state built from live objects only. Reload builds a new state off to the side and swaps it
 * whole; a failed reload leaves the old state serving (docs/protocol.md#config-reload).
 */
import { errorMessage } from './errors.ts';
import { readFileSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { type PolicyDefinitions, PolicySet } from './auth/policy.ts';
import type { KeyCache } from './cache/key-cache.ts';
import { generateKeyVersion, systemRandom } from './crypto/key.ts';
import { createDispatcher } from './http/dispatcher.ts';
import { answerClientError, type ParserError } from './http/framing.ts';
import { apiKeyIdentity, hasPeerCertificate } from './http/peer.ts';
import { anySkipAuth, type ApiOverride, applyApiOverrides, defaultRoutes } from './http/routes.ts';
import type { BuildInfo, ServerState } from './http/state.ts';
import { type ClientAuthMode, clientAuthMode, secureContextOptions, type TlsMaterial } from './http/tls-material.ts';
import { isKeyStoreError } from './keystore/errors.ts';
import { AuditLog } from './log/audit-log.ts';
import { ErrorLog } from './log/error-log.ts';
import { LevelInfo } from './log/slog.ts';
import { Metrics, type MetricsSnapshot } from './metrics/metrics.ts';
import { type ClusterChannel, WorkerLink } from './cluster/worker-link.ts';

/** Streams one HTTP/2 connection may have open at once. */
const MaxConcurrentStreams = 250;

/**
 * How long an HTTP/2 connection may take to send its client preface (the magic and its first
 * SETTINGS) after the handshake: Go's HTTP/2 server waits 10 s for the magic (not configurable
 * there) and 2 s more for the SETTINGS. Without it Node keeps such a connection for the idle timeout.
 */
const PrefaceTimeoutMs = 10_000;

/** The parts of a configuration that can change on reload. */
export interface ServerSettings {
  readonly admin: string;
  readonly policies: PolicyDefinitions;
  readonly api: ReadonlyMap<string, ApiOverride>;
  /** A connected key store behind its cache; the server closes it when replaced or closed. */
  readonly cache: KeyCache;
  /** Keys created at start and on every reload (docs/protocol.md#config-keys); "already exists" is fine. */
  readonly keys?: readonly string[];
  readonly tls: TlsMaterial;
  /** slog levels of the error and audit logs. */
  readonly log?: { readonly error: number; readonly audit: number };
  /**
   * Re-reads the TLS key and certificate of these settings (rotation, docs/protocol.md#config-reload); absent = never.
   * Replaced together with the rest on `update`, so rotation follows the reloaded file names.
   */
  readonly reloadTls?: () => Promise<TlsMaterial>;
}

export interface KesServerOptions extends ServerSettings {
  /** Interval of `reloadTls`; default 15 minutes. */
  readonly tlsReloadMs?: number;
  /** HTTP/1 read-header timeout and TLS handshake timeout; default 5 s as upstream (docs/protocol.md#transport). */
  readonly readHeaderTimeoutMs?: number;
  /** Idle connection timeout; default 90 s as upstream (docs/protocol.md#transport). */
  readonly idleTimeoutMs?: number;
  readonly errorLog?: ErrorLog;
  readonly auditLog?: AuditLog;
  readonly build?: BuildInfo;
  /** Worker processes serving the same port (reported in metrics). Default 1. */
  readonly workers?: number;
  /**
   * The IPC channel to the primary when this is one of several workers: log lines, metrics and
   * key deletions are then shared with the other workers (`cluster/`).
   */
  readonly cluster?: ClusterChannel;
  readonly random?: (n: number) => Uint8Array;
}

/** Version and commit of this package; the commit comes from `KES_SERVER_COMMIT` if set. */
function buildInfo(env: Record<string, string | undefined> = process.env): BuildInfo {
  let version = '<unknown>';
  try {
    version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? version;
  } catch {
    // Keep <unknown>, as upstream does without build info.
  }
  return { version, commit: env.KES_SERVER_COMMIT ?? '<unknown>' };
}

/**
 * Creates the listed keys with the admin as creator (docs/protocol.md#config-keys).
 * @throws the first key-store error other than "key exists".
 */
async function createStartupKeys(cache: KeyCache, keys: readonly string[], admin: string, random = systemRandom): Promise<void> {
  for (const name of keys) {
    try {
      await cache.create(name, generateKeyVersion(admin, 'AES256', random));
    } catch (err) {
      if (!isKeyStoreError(err, 'KEY_EXISTS')) throw err;
    }
  }
}

export class KesServer {
  readonly errorLog: ErrorLog;
  readonly auditLog: AuditLog;
  readonly metrics = new Metrics();
  readonly #server: Http2SecureServer;
  readonly #opts: KesServerOptions;
  #state: ServerState;
  readonly #sockets = new Set<Socket>();
  /** Deadlines of HTTP/1 connections still waiting for their first request headers. */
  readonly #firstHeaders = new WeakMap<object, NodeJS.Timeout>();
  #mode: ClientAuthMode;
  #tlsTimer: NodeJS.Timeout | undefined;
  #reloadTlsFn: (() => Promise<TlsMaterial>) | undefined;
  #started = false;
  readonly #link: WorkerLink | undefined;

  constructor(opts: KesServerOptions) {
    this.#opts = opts;
    this.#reloadTlsFn = opts.reloadTls;
    this.errorLog = opts.errorLog ?? new ErrorLog({ level: opts.log?.error ?? LevelInfo });
    this.auditLog = opts.auditLog ?? new AuditLog({ level: opts.log?.audit ?? LevelInfo });
    this.errorLog.setOnEvent((n) => this.metrics.errorEvents(n));
    this.auditLog.setOnEvent((n) => this.metrics.auditEvents(n));
    if (opts.cluster) {
      const link = new WorkerLink({
        send: opts.cluster.send,
        hubs: { error: this.errorLog.hub, audit: this.auditLog.hub },
        snapshot: () => this.metrics.snapshot(),
        evict: (name) => this.#state.cache.evict(name),
      });
      opts.cluster.onMessage((msg) => link.receive(msg));
      this.#link = link;
    }
    this.#state = this.#buildState(opts, new Date());
    this.#warnAbout(opts.tls);
    this.#mode = clientAuthMode(opts.tls.auth, anySkipAuth(opts.api));
    const headerMs = opts.readHeaderTimeoutMs ?? 5000;
    // Go derives its TLS handshake timeout from ReadHeaderTimeout (docs/protocol.md#transport).
    this.#server = createSecureServer({
      ...secureContextOptions(opts.tls, this.#mode),
      allowHTTP1: true,
      handshakeTimeout: headerMs,
      // Go's HTTP/2 server allows 250 concurrent streams per connection; Node would allow 2^32-1.
      settings: { maxConcurrentStreams: MaxConcurrentStreams },
    });
    // HTTP/1 limits of the compat layer: header deadline checked at least every second, and
    // keep-alive connections idle for up to 90 s like Go's IdleTimeout.
    const h1 = this.#server as unknown as { headersTimeout: number; connectionsCheckingInterval: number; keepAliveTimeout: number };
    h1.headersTimeout = headerMs;
    h1.connectionsCheckingInterval = Math.min(1000, headerMs);
    const idleMs = opts.idleTimeoutMs ?? 90_000;
    h1.keepAliveTimeout = idleMs;
    this.#server.setTimeout(idleMs);
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    const dispatch = createDispatcher(() => this.#state);
    // HTTP/1.1 arrives as 'request'. Listening for it also routes HTTP/2 streams through Node's
    // compatibility layer; that bridge is replaced by serving the streams directly.
    this.#server.on('request', (req) => clearTimeout(this.#firstHeaders.get(req.socket)));
    this.#server.on('request', dispatch.request);
    this.#server.removeAllListeners('stream');
    this.#server.on('stream', dispatch.stream);
    // Enforce the client-auth modes Node cannot enforce during the handshake before the
    // connection reaches the HTTP layer: rejected sockets never get an HTTP/2 session.
    const http = this.#server.listeners('secureConnection') as Array<(socket: TLSSocket) => void>;
    this.#server.removeAllListeners('secureConnection');
    this.#server.on('secureConnection', (socket: TLSSocket) => {
      if (!this.#checkClient(socket)) return;
      if (socket.alpnProtocol !== 'h2') this.#awaitFirstHeaders(socket, headerMs);
      for (const listener of http) listener.call(this.#server, socket);
    });
    this.#server.on('session', (session: ServerHttp2Session) => this.#awaitPreface(session));
    this.#server.on('clientError', (err: ParserError, socket: Socket) => answerClientError(err, socket, dispatch.unknownMethod));
    // A failed handshake (a timeout among them) closes the connection, as Go's server does. The
    // HTTP/2 server's own listener would pass the error on to 'clientError', whose listener answers
    // HTTP/1 parse errors: a handshake that timed out on a busy server then completed and read an
    // HTTP/1.1 400 it never asked for.
    this.#server.removeAllListeners('tlsClientError');
    this.#server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      this.errorLog.info(`http: TLS handshake error from ${socket.remoteAddress ?? ''}: ${err.message}`);
      socket.destroy();
    });
  }

  /**
   * Closes an HTTP/1 connection whose first request headers are not complete within `ms` of the
   * handshake, as Go's ReadHeaderTimeout does. Node's own header timeout lets a connection that
   * sent nothing, or an unfinished request line, stay until the idle timeout.
   */
  #awaitFirstHeaders(socket: TLSSocket, ms: number): void {
    const timer = setTimeout(() => socket.destroy(), ms);
    timer.unref();
    this.#firstHeaders.set(socket, timer);
    socket.once('close', () => clearTimeout(timer));
  }

  /** Closes an HTTP/2 connection whose client preface is not complete within PrefaceTimeoutMs. */
  #awaitPreface(session: ServerHttp2Session): void {
    const timer = setTimeout(() => session.destroy(), PrefaceTimeoutMs);
    timer.unref();
    session.once('remoteSettings', () => clearTimeout(timer));
    session.once('close', () => clearTimeout(timer));
  }

  #buildState(s: ServerSettings, startTime: Date): ServerState {
    return {
      cache: s.cache,
      policies: new PolicySet(s.admin, s.policies),
      routes: applyApiOverrides(defaultRoutes(), s.api),
      startTime,
      errorLog: this.errorLog,
      auditLog: this.auditLog,
      metrics: this.metrics,
      collectMetrics: () => this.#collectMetrics(),
      evictFromOtherWorkers: (name) => this.#evictFromOtherWorkers(name),
      build: this.#opts.build ?? buildInfo(),
      workers: this.#opts.workers ?? 1,
      random: this.#opts.random ?? systemRandom,
    };
  }

  #warnAbout(tls: TlsMaterial): void {
    for (const w of tls.warnings ?? []) this.errorLog.warn(w);
  }

  /** The counters of every worker (of this process alone without a cluster). */
  async #collectMetrics(): Promise<readonly MetricsSnapshot[]> {
    if (!this.#link) return [this.metrics.snapshot()];
    const { snapshots, complete } = await this.#link.collect();
    if (!complete) this.errorLog.warn('metrics: the other workers did not answer in time; reporting this worker only');
    return snapshots;
  }

  async #evictFromOtherWorkers(name: string): Promise<void> {
    if (!this.#link || (await this.#link.evictOthers(name))) return;
    this.errorLog.warn(`cache: not every other worker confirmed dropping the deleted key '${name}'; one that did not may serve it until its cache expiry`);
  }

  /** False (and the socket destroyed) when the client's certificate does not pass (docs/protocol.md#client-certificates). */
  #checkClient(socket: TLSSocket): boolean {
    const present = hasPeerCertificate(socket);
    let problem = '';
    if (this.#mode.requireCert && !present) problem = 'client did not provide a certificate';
    else if (this.#mode.verify && present && !socket.authorized && !this.#isKnownApiKeyClient(socket)) {
      problem = `client certificate not trusted (${String(socket.authorizationError)})`;
    }
    if (problem === '') return true;
    this.errorLog.info(`http: TLS handshake error from ${socket.remoteAddress ?? ''}: ${problem}`);
    socket.destroy();
    return false;
  }

  /**
   * An API-key client whose identity the configuration names (admin or a policy member) passes
   * verification: its self-signed certificate cannot chain to any CA, and its key is the pin.
   */
  #isKnownApiKeyClient(socket: TLSSocket): boolean {
    const identity = apiKeyIdentity(socket);
    if (identity === undefined) return false;
    const policies = this.#state.policies;
    return policies.isAdmin(identity) || policies.policyOf(identity) !== undefined;
  }

  /** The current state (read-only view for tests and the CLI). */
  get state(): ServerState {
    return this.#state;
  }

  /**
   * Creates the startup keys, then listens on `host:port` (IPv6 as `[::1]:port`).
   * @returns the bound address (port 0 picks a free port).
   */
  async listen(address: string): Promise<AddressInfo> {
    await createStartupKeys(this.#state.cache, this.#opts.keys ?? [], this.#state.policies.admin, this.#state.random);
    const { host, port } = splitHostPort(address);
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#started = true;
    // Always ticking: a reload may bring a rotation source the start-up settings lacked.
    this.#tlsTimer = setInterval(() => void this.#reloadTls(), this.#opts.tlsReloadMs ?? 15 * 60_000);
    this.#tlsTimer.unref();
    return this.#server.address() as AddressInfo;
  }

  async #reloadTls(): Promise<void> {
    try {
      if (!this.#reloadTlsFn) return;
      const tls = await this.#reloadTlsFn();
      this.#server.setSecureContext(secureContextOptions(tls, this.#mode));
    } catch (err) {
      this.errorLog.error(`failed to reload TLS certificate: ${errorMessage(err)}`);
    }
  }

  /**
   * Replaces the configuration: builds the new state (policies, routes, startup keys) and TLS
   * context first, then swaps; the old key cache is closed afterwards.
   * @throws when the new settings are unusable; the old state keeps serving.
   */
  async update(next: ServerSettings): Promise<void> {
    const state = this.#buildState(next, this.#state.startTime);
    await createStartupKeys(next.cache, next.keys ?? [], state.policies.admin, state.random);
    this.#warnAbout(next.tls);
    const mode = clientAuthMode(next.tls.auth, anySkipAuth(next.api));
    this.#server.setSecureContext(secureContextOptions(next.tls, mode));
    const old = this.#state;
    this.#state = state;
    this.#mode = mode;
    this.#reloadTlsFn = next.reloadTls;
    if (next.log) {
      this.errorLog.setLevel(next.log.error);
      this.auditLog.setLevel(next.log.audit);
    }
    if (old.cache !== next.cache) await old.cache.close();
  }

  /** Stops accepting, waits up to `graceMs` for open connections, then force-closes them. */
  async close(graceMs = 1000): Promise<void> {
    clearInterval(this.#tlsTimer);
    if (this.#started) {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      const timer = setTimeout(() => this.#closeAll(), graceMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
      this.#started = false;
    }
    await this.#state.cache.close();
  }

  #closeAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }
}

/** Splits `host:port` / `[v6]:port`. @throws on a malformed address */
export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new Error(`invalid listen address '${address}': want host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid listen address '${address}': port out of range`);
  return { host: m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]), port };
}
