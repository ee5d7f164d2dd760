/**
 * `VaultKeyStore`: KES keys in a Vault/OpenBao K/V engine (docs/protocol.md#vault-layout). A key `N` is a secret whose
 * data holds one field named `N` with the storage text (or its transit ciphertext, docs/protocol.md#vault-transit).
 */
import { listPage, type KeyPage, type KeyStore, type KeyStoreStatus } from '../keystore.ts';
import { systemClock, type Clock } from '../../clock.ts';
import { TokenSource, makeLogin, type RenewalTiming } from './auth.ts';
import type { KvList, KvV1Secret, KvV2Secret } from './answers.ts';
import { VaultClient, type VaultClientOptions, type VaultRequest, type VaultResponse } from './client.ts';
import { VaultError, answerCode, rewrap, vaultErrorText } from './errors.ts';
import { SealMonitor, probeStatus } from './health.ts';
import type { VaultOptions } from './options.ts';
import { isSafeKeyName, joinPath } from './path.ts';
import { Transit, transitPrefix } from './transit.ts';

/** Optional knobs of `VaultKeyStore.connect`, mostly for tests. */
export interface VaultConnectOptions {
  readonly clock?: Clock;
  readonly renewal?: Partial<RenewalTiming>;
  readonly client?: VaultClientOptions;
  /** Receives background failures (token renewal); messages carry no secret. */
  readonly onError?: (err: Error) => void;
}

/** Response cap of list calls (docs/protocol.md#vault-layout). */
const maxListBody = 32 << 20;

type Op = 'create' | 'read' | 'delete' | 'list';
type Request = Omit<VaultRequest, 'token' | 'namespace'>;

export class VaultKeyStore implements KeyStore {
  readonly #options: VaultOptions;
  readonly #client: VaultClient;
  readonly #tokens: TokenSource;
  readonly #seal: SealMonitor;
  readonly #transit: Transit | undefined;
  readonly #clock: Clock;
  readonly #loginNamespace: string;
  #closed = false;
  readonly #creating = new Map<string, Promise<void>>();

  private constructor(options: VaultOptions, client: VaultClient, tokens: TokenSource, seal: SealMonitor, loginNamespace: string, clock: Clock) {
    this.#options = options;
    this.#client = client;
    this.#tokens = tokens;
    this.#seal = seal;
    this.#clock = clock;
    this.#loginNamespace = loginNamespace;
    this.#transit = options.transit ? new Transit(options.transit, (req) => this.#send(req)) : undefined;
  }

  /**
   * Connects: reads the TLS files, logs in (AppRole or Kubernetes), then starts the token renewal
   * loop and the seal monitor. Rejects with a KeyStoreError naming the endpoint, auth path and
   * Vault's reason (never a secret) when the initial login fails.
   */
  static async connect(options: VaultOptions, opts: VaultConnectOptions = {}): Promise<VaultKeyStore> {
    const clock = opts.clock ?? systemClock;
    const client = await VaultClient.create(options.endpoint, options.tls, opts.client);
    const login = makeLogin(client, options);
    const initial = await login.login();
    const seal = new SealMonitor(client, options.statusPingMs, clock);
    const tokens = new TokenSource(client, login, initial, {
      clock,
      isSealed: () => seal.sealed,
      ...(opts.renewal ? { timing: opts.renewal } : {}),
      ...(opts.onError ? { onError: opts.onError } : {}),
    });
    seal.start();
    tokens.start();
    return new VaultKeyStore(options, client, tokens, seal, login.namespace, clock);
  }

  toString(): string {
    const o = this.#options;
    return `vault: ${this.#client.endpoint.origin} (${o.engine} ${o.version}${o.prefix ? `, prefix '${o.prefix}'` : ''}${o.namespace ? `, namespace '${o.namespace}'` : ''})`;
  }

  status(signal?: AbortSignal): Promise<KeyStoreStatus> {
    return probeStatus(this.#client, this.#clock, signal);
  }

  /**
   * Stores a new key. Never overwrites: KV v2 writes carry cas 0, so Vault itself refuses a second
   * version. KV v1 has no atomic guard: creates of one name are serialised within this store, but
   * two KES servers racing past the existence check may both write (as upstream KES does); the
   * recommended policy grants no `update`, which makes Vault refuse most such overwrites too.
   */
  create(name: string, value: Uint8Array): Promise<void> {
    const previous = this.#creating.get(name) ?? Promise.resolve();
    const run = previous.then(() => this.#create(name, value));
    const tail = run.then(
      () => {},
      () => {},
    );
    this.#creating.set(name, tail);
    void tail.then(() => {
      if (this.#creating.get(name) === tail) this.#creating.delete(name);
    });
    return run;
  }

  async #create(name: string, value: Uint8Array): Promise<void> {
    const location = this.#location(name, 'data');
    this.#guard('create', location);
    if (await this.#exists(name, location)) throw exists(name);
    const transit = this.#transit;
    const text = transit ? await this.#attempt('create', location, () => transit.wrap(value)) : Buffer.from(value).toString('utf8');
    const body = this.#options.version === 'v2' ? { options: { cas: 0 }, data: { [name]: text } } : { [name]: text };
    const res = await this.#attempt('create', location, () => this.#send({ method: 'PUT', path: location, body, idempotent: false }));
    if (res.status === 200 || res.status === 204) return;
    // A lost race shows up as a cas mismatch (400, v2) or as a denied update (403).
    if ((res.status === 400 || res.status === 403) && (await this.#exists(name, location))) throw exists(name);
    throw failure('create', location, res);
  }

  async get(name: string): Promise<Uint8Array> {
    const location = this.#location(name, 'data');
    this.#guard('read', location);
    const text = await this.#read(name, location);
    if (text === undefined) throw new VaultError('KEY_NOT_FOUND', `key '${name}' does not exist`);
    if (text.startsWith(transitPrefix)) {
      const transit = this.#transit;
      if (!transit) {
        throw new VaultError('FAILED', `failed to read '${location}': the value is transit-encrypted but no transit key is configured`);
      }
      return this.#attempt('read', location, () => transit.unwrap(text));
    }
    return new Uint8Array(Buffer.from(text, 'utf8'));
  }

  /** Deletes the key (v2: all versions and metadata). Deleting a missing key succeeds (docs/protocol.md#vault-errors). */
  async delete(name: string): Promise<void> {
    const location = this.#location(name, 'metadata');
    this.#guard('delete', location);
    const res = await this.#attempt('delete', location, () => this.#send({ method: 'DELETE', path: location, idempotent: true }));
    if (res.status === 200 || res.status === 204 || res.status === 404) return;
    throw failure('delete', location, res);
  }

  /**
   * Lists key names starting with `prefix` (`listPage`). Vault's 404 for an empty folder is an empty
   * list; sub-folder entries (ending in `/`) are not keys and are left out.
   */
  async list(prefix: string, n: number): Promise<KeyPage> {
    const o = this.#options;
    const location = joinPath(o.engine, o.version === 'v2' ? 'metadata' : '', o.prefix);
    this.#guard('list', location);
    const res = await this.#attempt('list', location, () =>
      this.#send<KvList>({ method: 'GET', path: location, query: { list: 'true' }, idempotent: true, maxBodyBytes: maxListBody }),
    );
    let keys: unknown[] = [];
    if (res.status === 200) {
      const raw = res.body?.data?.keys;
      if (raw !== undefined && raw !== null && !Array.isArray(raw)) {
        throw new VaultError('FAILED', `failed to list '${location}': 'data.keys' is not a list`);
      }
      keys = raw ?? [];
    } else if (res.status !== 404) {
      throw failure('list', location, res);
    }
    const names = keys.filter((k): k is string => typeof k === 'string' && !k.endsWith('/'));
    return listPage(names, prefix, n);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#tokens.close(), this.#seal.close()]);
  }

  #location(name: string, sub: 'data' | 'metadata'): string {
    if (!isSafeKeyName(name)) throw new VaultError('INVALID_NAME', `invalid key name '${name}'`);
    const o = this.#options;
    return joinPath(o.engine, o.version === 'v2' ? sub : '', o.prefix, name);
  }

  #guard(op: Op, location: string): void {
    if (this.#closed) throw new VaultError('FAILED', `failed to ${op} '${location}': the keystore is closed`);
    if (this.#seal.sealed) throw new VaultError('UNREACHABLE', `failed to ${op} '${location}': Vault is sealed`);
  }

  /**
   * Reads the field `name`: its string, or undefined when the secret does not exist. `op` names
   * the operation in messages (a create reads first).
   */
  async #read(name: string, location: string, op: Op = 'read'): Promise<string | undefined> {
    // KES only ever writes version 1 on KV v2 (cas 0), so that is the version to read.
    const req: Request = { method: 'GET', path: location, idempotent: true };
    let data: unknown;
    if (this.#options.version === 'v2') {
      const res = await this.#attempt(op, location, () => this.#send<KvV2Secret>({ ...req, query: { version: '1' } }));
      if (missing(res)) return undefined;
      if (res.status !== 200) throw failure(op, location, res);
      data = res.body?.data?.data;
    } else {
      const res = await this.#attempt(op, location, () => this.#send<KvV1Secret>(req));
      if (missing(res)) return undefined;
      if (res.status !== 200) throw failure(op, location, res);
      data = res.body?.data;
    }
    // An own field only: a key named like an Object method must not find that method.
    const value: unknown = data !== null && typeof data === 'object' ? Object.getOwnPropertyDescriptor(data, name)?.value : undefined;
    if (typeof value !== 'string') {
      throw new VaultError('FAILED', `failed to ${op} '${location}': the secret has no string field '${name}'`);
    }
    return value;
  }

  #exists(name: string, location: string): Promise<boolean> {
    return this.#read(name, location, 'create').then((text) => text !== undefined);
  }

  /** Runs `fn`; a failure becomes `vault: failed to <op> '<location>': <reason>`, keeping its code. */
  async #attempt<T>(op: Op, location: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw rewrap(`failed to ${op} '${location}'`, err);
    }
  }

  /**
   * Sends with the current token and the store namespace. When Vault answers 403 and the token
   * itself turns out to be invalid (revoked, expired), logs in again and repeats the request once.
   */
  async #send<T extends object = object>(req: Request): Promise<VaultResponse<T>> {
    const token = this.#tokens.token;
    const namespace = this.#options.namespace;
    const res = await this.#client.send<T>({ ...req, token, namespace });
    if (res.status !== 403 || !(await this.#tokenInvalid(token))) return res;
    await this.#tokens.refresh(token);
    return this.#client.send<T>({ ...req, token: this.#tokens.token, namespace });
  }

  async #tokenInvalid(token: string): Promise<boolean> {
    const res = await this.#client.send({
      method: 'GET',
      path: 'auth/token/lookup-self',
      token,
      namespace: this.#loginNamespace,
      idempotent: true,
    });
    return res.status === 403 || res.status === 401;
  }
}

function exists(name: string): VaultError {
  return new VaultError('KEY_EXISTS', `key '${name}' already exists`);
}

function failure(op: Op, location: string, res: VaultResponse): VaultError {
  return new VaultError(answerCode(res), `failed to ${op} '${location}': ${vaultErrorText(res)}`);
}

/** No secret at the path: 404, or (some proxies) an empty 200. */
function missing(res: VaultResponse): boolean {
  return res.status === 404 || (res.status === 200 && res.body === undefined);
}
