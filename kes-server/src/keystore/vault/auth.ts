/**
 * Vault login (AppRole, Kubernetes; docs/protocol.md#vault-login) and the background token renewal loop (docs/protocol.md#vault-token-renewal).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sep } from 'node:path';
import { systemClock, type Clock } from '../../clock.ts';
import { errorMessage } from '../../errors.ts';
import type { AuthAnswer } from './answers.ts';
import type { VaultClient } from './client.ts';
import type { VaultOptions } from './options.ts';
import { VaultError, rewrap, vaultErrorText } from './errors.ts';

/** A Vault token and its lease as returned by login or renew-self. */
export interface VaultToken {
  readonly token: string;
  /** Lease duration in seconds; 0 = never expires. */
  readonly ttlSeconds: number;
  readonly renewable: boolean;
}

/** Tunables of the renewal loop; upstream values by default. */
export interface RenewalTiming {
  /** Below this remaining TTL the loop logs in again instead of renewing. Default 30 s. */
  readonly minTtlMs: number;
  /** Pause after a forced re-login (also the retry delay after failures). Default 3 s. */
  readonly reloginWaitMs: number;
  /** Poll interval while Vault is sealed. Default 1 s. */
  readonly sealedPollMs: number;
  /** Upper bound of the delay before switching to a new token. Default 30 s. */
  readonly maxSwitchDelayMs: number;
  /**
   * After the n-th refusal in a row of the same credentials, the next login with them waits the
   * n-th of these (the last one from then on). Default 15 s, 1 min, 4 min, then 16 min: a refusal
   * during a Vault restart costs seconds, and no more than 4 refusals come before a 16 min pause,
   * while Vault and OpenBao lock a role out after 5 refusals with less than 15 min between them (a
   * locked-out role refuses corrected credentials too). Changed credentials log in at once.
   */
  readonly refusedLoginWaitsMs: readonly number[];
}

export const defaultRenewalTiming: RenewalTiming = {
  minTtlMs: 30_000,
  reloginWaitMs: 3_000,
  sealedPollMs: 1_000,
  maxSwitchDelayMs: 30_000,
  refusedLoginWaitsMs: [15_000, 60_000, 4 * 60_000, 16 * 60_000],
};

type RenewalStep =
  | { readonly kind: 'never' }
  | { readonly kind: 'relogin' }
  | { readonly kind: 'renew'; readonly renewInMs: number; readonly switchDelayMs: number };

/**
 * What the renewal loop does for a token with the given TTL (docs/protocol.md#vault-token-renewal): nothing for TTL 0, an
 * immediate re-login below `minTtlMs`, otherwise renew after 80 % of the TTL and switch to the
 * result after `min((TTL − renewIn) / 2, maxSwitchDelay)`.
 */
export function planRenewal(ttlMs: number, timing: RenewalTiming = defaultRenewalTiming): RenewalStep {
  if (ttlMs <= 0) return { kind: 'never' };
  if (ttlMs < timing.minTtlMs) return { kind: 'relogin' };
  const renewInMs = Math.floor(ttlMs * 0.8);
  const switchDelayMs = Math.min(Math.floor((ttlMs - renewInMs) / 2), timing.maxSwitchDelayMs);
  return { kind: 'renew', renewInMs, switchDelayMs };
}

/**
 * The namespace of a login request: the auth block's own namespace, `/` meaning the root
 * namespace (no header), or the store namespace when the auth block has none.
 */
export function loginNamespace(authNamespace: string, storeNamespace: string): string {
  if (authNamespace === '/') return '';
  return authNamespace !== '' ? authNamespace : storeNamespace;
}

/** A kubernetes `jwt` setting is a file path when it contains a path separator. */
export function jwtIsFile(jwt: string): boolean {
  return jwt.includes('/') || jwt.includes(sep);
}

export interface Login {
  /** `approle` or `kubernetes`, for messages. */
  readonly method: string;
  /** Namespace the token was issued in ("" = root); renew-self is sent there. */
  readonly namespace: string;
  login(): Promise<VaultToken>;
  /**
   * A digest of the credentials the next login would send (never the credentials): a refused
   * login is sent again early only when they changed, e.g. a rotated Kubernetes JWT file.
   */
  credentials?(): Promise<string>;
}

const digest = (...parts: string[]): string => createHash('sha256').update(parts.join('\0')).digest('hex');

/** Builds the login of the configured auth method. Throws VaultError(FAILED) if none. */
export function makeLogin(client: VaultClient, options: VaultOptions): Login {
  if (options.approle) {
    const a = options.approle;
    const path = `auth/${a.engine}/login`;
    const namespace = loginNamespace(a.namespace, options.namespace);
    return {
      method: 'approle',
      namespace,
      login: () => loginAt(client, 'AppRole', path, namespace, async () => ({
        role_id: a.id,
        secret_id: a.secret,
      })),
      credentials: async () => digest(a.id, a.secret),
    };
  }
  if (options.kubernetes) {
    const k = options.kubernetes;
    const path = `auth/${k.engine}/login`;
    const namespace = loginNamespace(k.namespace, options.namespace);
    return {
      method: 'kubernetes',
      namespace,
      login: () => loginAt(client, 'Kubernetes', path, namespace, async () => ({ role: k.role, jwt: await kubernetesJwt(k.jwt) })),
      credentials: async () => digest(k.role, await kubernetesJwt(k.jwt)),
    };
  }
  throw new VaultError('FAILED', 'no authentication method configured (approle or kubernetes)');
}

/** The JWT itself, or the contents of the file it names (read anew at every login). */
async function kubernetesJwt(setting: string): Promise<string> {
  if (!jwtIsFile(setting)) return setting;
  try {
    return (await readFile(setting, 'utf8')).trim();
  } catch (err) {
    throw new VaultError('FAILED', `failed to read the Kubernetes JWT file '${setting}': ${errorMessage(err)}`);
  }
}

/** A login Vault refused: the credentials are wrong, revoked or locked out. */
export class LoginRefused extends VaultError {}

/**
 * The answers that refuse the credentials themselves (400 invalid role or secret ID, 401, 403
 * permission denied or locked out). Other 4xx, such as 429 (rate limit) or 412 (a standby not yet
 * caught up), say nothing about them and must not hold a login back.
 */
const REFUSING = new Set([400, 401, 403]);

async function loginAt(
  client: VaultClient,
  what: string,
  path: string,
  namespace: string,
  body: () => Promise<Record<string, string>>,
): Promise<VaultToken> {
  const context = `failed to log in with ${what} at '${path}'${namespace ? ` in namespace '${namespace}'` : ''}`;
  let res;
  try {
    res = await client.send<AuthAnswer>({ method: 'PUT', path, namespace, body: await body(), idempotent: false });
  } catch (err) {
    throw rewrap(context, err);
  }
  if (REFUSING.has(res.status)) throw new LoginRefused('FAILED', `${context}: ${vaultErrorText(res)}`);
  if (res.status !== 200) {
    throw new VaultError(res.status === 503 ? 'UNREACHABLE' : 'FAILED', `${context}: ${vaultErrorText(res)}`);
  }
  const auth = res.body?.auth;
  if (!auth || typeof auth.client_token !== 'string' || auth.client_token === '') {
    throw new VaultError('FAILED', `${context}: the response holds no token`);
  }
  return {
    token: auth.client_token,
    ttlSeconds: Number(auth.lease_duration) || 0,
    renewable: auth.renewable === true,
  };
}

interface TokenSourceOptions {
  readonly clock?: Clock;
  readonly timing?: Partial<RenewalTiming>;
  /** True while the seal monitor reports Vault sealed: renewal pauses. */
  readonly isSealed?: () => boolean;
  /** Receives renewal failures (messages carry no secret). */
  readonly onError?: (err: Error) => void;
}

/**
 * Holds the current token and keeps it alive in the background (docs/protocol.md#vault-token-renewal). `refresh(stale)` logs in
 * again on demand (single flight), e.g. after Vault rejected a revoked token.
 */
export class TokenSource {
  #current: VaultToken;
  readonly #client: VaultClient;
  readonly #login: Login;
  readonly #clock: Clock;
  readonly #timing: RenewalTiming;
  readonly #isSealed: () => boolean;
  readonly #onError: (err: Error) => void;
  readonly #stop = new AbortController();
  #refreshing: Promise<void> | undefined;
  #loop: Promise<void> | undefined;
  /** The last refused login: with which credentials, how many refusals in a row, and when they may be sent again. */
  #refused: { readonly error: VaultError; readonly credentials: string; readonly count: number; readonly until: number } | undefined;
  /** Whether the loop has reported `#refused` already (it retries every few seconds). */
  #refusalReported = false;

  constructor(client: VaultClient, login: Login, initial: VaultToken, opts: TokenSourceOptions = {}) {
    this.#client = client;
    this.#login = login;
    this.#current = initial;
    this.#clock = opts.clock ?? systemClock;
    this.#timing = { ...defaultRenewalTiming, ...opts.timing };
    this.#isSealed = opts.isSealed ?? (() => false);
    this.#onError = opts.onError ?? (() => {});
  }

  get token(): string {
    return this.#current.token;
  }

  /** Starts the renewal loop (once). */
  start(): void {
    this.#loop ??= this.#run().catch((err) => this.#fail(err));
  }

  /** Logs in again unless the token already changed since `stale` was read. */
  refresh(stale: string): Promise<void> {
    if (this.#current.token !== stale) return Promise.resolve();
    this.#refreshing ??= this.#logIn()
      .then((t) => {
        this.#current = t;
      })
      .finally(() => {
        this.#refreshing = undefined;
      });
    return this.#refreshing;
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let ttlMs = this.#current.ttlSeconds * 1000;
    while (!signal.aborted) {
      if (this.#isSealed()) {
        await this.#clock.sleep(this.#timing.sealedPollMs, signal);
        continue;
      }
      const step = planRenewal(ttlMs, this.#timing);
      if (step.kind === 'never') return;
      if (step.kind === 'relogin') {
        try {
          this.#current = await this.#logIn();
          ttlMs = this.#current.ttlSeconds * 1000;
        } catch (err) {
          this.#failLogin(err);
        }
        await this.#clock.sleep(this.#timing.reloginWaitMs, signal);
        continue;
      }
      await this.#clock.sleep(step.renewInMs, signal);
      if (signal.aborted) return;
      let next: VaultToken | undefined;
      if (this.#current.renewable) next = await this.#renew(this.#current.token);
      if (!next) {
        try {
          next = await this.#logIn();
        } catch (err) {
          this.#failLogin(err);
          ttlMs = 1; // below minTtl: retry by re-login after the wait
          continue;
        }
      }
      await this.#clock.sleep(step.switchDelayMs, signal);
      this.#current = next;
      ttlMs = next.ttlSeconds * 1000;
    }
  }

  /**
   * Logs in, unless Vault refused these same credentials and their wait (`refusedLoginWaitsMs`) has not passed: then
   * it fails at once with that refusal, sending nothing (a storm of refused logins locks the role
   * out, and then the corrected credentials are refused too).
   */
  async #logIn(): Promise<VaultToken> {
    const credentials = (await this.#login.credentials?.()) ?? '';
    const refused = this.#refused;
    if (refused !== undefined && refused.credentials === credentials && this.#clock.now() < refused.until) throw refused.error;
    try {
      const token = await this.#login.login();
      this.#refused = undefined;
      return token;
    } catch (err) {
      if (!(err instanceof LoginRefused)) throw err;
      const count = refused?.credentials === credentials ? refused.count + 1 : 1;
      const waits = this.#timing.refusedLoginWaitsMs;
      const until = this.#clock.now() + waits[Math.min(count, waits.length) - 1];
      const error = new LoginRefused('FAILED', `${err.reason}; the same credentials are not sent again before ${new Date(until).toISOString()}`, { cause: err });
      this.#refused = { error, credentials, count, until };
      this.#refusalReported = false;
      throw error;
    }
  }

  /** `renew-self` up to 3 times; stops on a 4xx. Resolves undefined when renewal failed. */
  async #renew(token: string): Promise<VaultToken | undefined> {
    for (let i = 0; i < 3 && !this.#stop.signal.aborted; i++) {
      try {
        const res = await this.#client.send<AuthAnswer>({
          method: 'PUT',
          path: 'auth/token/renew-self',
          token,
          namespace: this.#login.namespace,
          body: { increment: 0 },
          idempotent: true,
        });
        const auth = res.body?.auth;
        if (res.status === 200 && auth && typeof auth.client_token === 'string') {
          return { token: auth.client_token || token, ttlSeconds: Number(auth.lease_duration) || 0, renewable: auth.renewable === true };
        }
        this.#onError(new VaultError('FAILED', `failed to renew token: ${vaultErrorText(res)}`));
        if (res.status >= 400 && res.status < 500) return undefined;
      } catch (err) {
        this.#fail(err);
      }
    }
    return undefined;
  }

  /** Reports a failed login of the loop; a refusal still held is reported once, not at every retry. */
  #failLogin(err: unknown): void {
    if (this.#refused !== undefined && err === this.#refused.error) {
      if (this.#refusalReported) return;
      this.#refusalReported = true;
    }
    this.#fail(err);
  }

  /** Reports a background failure; what is thrown here is always an Error, but may come from outside. */
  #fail(err: unknown): void {
    this.#onError(err instanceof Error ? err : new VaultError('FAILED', errorMessage(err)));
  }
}
