/**
 * Transport to Vault/OpenBao: one HTTP(S) request per call (no keep-alive, docs/protocol.md#vault-keystore), a timeout
 * per attempt, a capped and always consumed response body, `X-Vault-Token` and
 * `X-Vault-Namespace` headers, optional mTLS and CA from `tls`, and retries with backoff on
 * network errors and 5xx answers. Errors are KeyStoreErrors: `UNREACHABLE` when Vault could not
 * be reached (refused, reset, timed out, DNS), `FAILED` otherwise (TLS verification, oversized
 * or malformed body). Messages never contain the token or a request body.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { errorCode, errorMessage } from '../../errors.ts';
import { KeyStoreError } from '../errors.ts';
import { VaultError } from './errors.ts';
import { encodePath } from './path.ts';
import type { ErrorAnswer } from './answers.ts';
import type { VaultOptions } from './options.ts';

export interface VaultRequest {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path below `/v1/`, unencoded, e.g. `kv/data/my-key`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly token?: string;
  /** Sent as `X-Vault-Namespace` when not empty. */
  readonly namespace?: string;
  /** Response body cap in bytes. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /**
   * Whether the request may be repeated after it reached Vault (reads, lists, deletes). A
   * non-idempotent request is only retried when the connection was refused.
   */
  readonly idempotent: boolean;
  /** Overrides the client's retry count (0 = a single attempt). */
  readonly retries?: number;
  readonly signal?: AbortSignal;
}

/**
 * An answer of Vault. `T` is the shape of the JSON the caller reads (see answers.ts); nothing
 * checks it, so every leaf in those shapes is `unknown` and is checked where it is used.
 */
export interface VaultResponse<T extends object = object> {
  readonly status: number;
  /** Parsed JSON body, or `undefined` when the body is empty. */
  readonly body: (T & ErrorAnswer) | undefined;
}

export interface VaultClientOptions {
  /** Timeout of one attempt in ms. Default 10 s. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt. Default 2. */
  readonly retries?: number;
  /** Base backoff in ms, doubled per retry. Default 100. */
  readonly backoffMs?: number;
}

const defaultMaxBody = 1 << 20;

const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'ERR_VAULT_TIMEOUT',
]);

export class VaultClient {
  readonly endpoint: URL;
  readonly #tls: https.RequestOptions;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoffMs: number;

  private constructor(endpoint: URL, tls: https.RequestOptions, opts: VaultClientOptions) {
    this.endpoint = endpoint;
    this.#tls = tls;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#retries = opts.retries ?? 2;
    this.#backoffMs = opts.backoffMs ?? 100;
  }

  /** Reads the TLS files named in `tls` and returns a client. Throws KeyStoreError(FAILED). */
  static async create(endpoint: string, tls: VaultOptions['tls'], opts: VaultClientOptions = {}): Promise<VaultClient> {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new VaultError('FAILED', `invalid endpoint '${endpoint}'`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new VaultError('FAILED', `invalid endpoint '${endpoint}': scheme must be http or https`);
    }
    return new VaultClient(url, await loadTls(tls), opts);
  }

  /** Sends one request (with retries) and resolves with any HTTP status. */
  async send<T extends object = object>(req: VaultRequest): Promise<VaultResponse<T>> {
    const retries = req.retries ?? this.#retries;
    for (let attempt = 0; ; attempt++) {
      let retryable = false;
      try {
        const res = await this.#once<T>(req);
        if (res.status < 500 || !req.idempotent || attempt >= retries) return res;
        retryable = true;
      } catch (err) {
        const code = err instanceof KeyStoreError ? errorCode(err.cause) : undefined;
        retryable =
          attempt < retries &&
          !req.signal?.aborted &&
          err instanceof KeyStoreError &&
          err.code === 'UNREACHABLE' &&
          (req.idempotent || code === 'ECONNREFUSED');
        if (!retryable) throw err;
      }
      await sleep(this.#backoffMs * 2 ** attempt * (0.75 + Math.random() / 2));
    }
  }

  #once<T extends object>(req: VaultRequest): Promise<VaultResponse<T>> {
    const url = new URL(`/v1/${encodePath(req.path.replace(/^\/+/, ''))}`, this.endpoint);
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string> = { Connection: 'close' };
    if (req.token) headers['X-Vault-Token'] = req.token;
    if (req.namespace) headers['X-Vault-Namespace'] = req.namespace;
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const what = `${req.method} ${req.path}`;
    const maxBody = req.maxBodyBytes ?? defaultMaxBody;
    const isHttps = url.protocol === 'https:';
    return new Promise<VaultResponse<T>>((resolve, reject) => {
      let settled = false;
      const fail = (err: KeyStoreError) => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      const options: https.RequestOptions = {
        method: req.method,
        headers,
        agent: false,
        timeout: this.#timeoutMs,
        ...(isHttps ? this.#tls : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      };
      const request = (isHttps ? https : http).request(url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBody) {
            res.destroy();
            fail(new VaultError('FAILED', `${what}: response body exceeds ${maxBody} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err) => fail(transportError(what, err)));
        res.on('end', () => {
          if (settled) return;
          const text = Buffer.concat(chunks).toString('utf8');
          let body: (T & ErrorAnswer) | undefined;
          if (text.trim() !== '') {
            try {
              body = JSON.parse(text);
            } catch {
              fail(new VaultError('FAILED', `${what}: response (HTTP ${res.statusCode}) is not JSON`));
              return;
            }
          }
          settled = true;
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      request.on('timeout', () => {
        const err = Object.assign(new Error(`timed out after ${this.#timeoutMs} ms`), { code: 'ERR_VAULT_TIMEOUT' });
        request.destroy(err);
      });
      request.on('error', (err) => fail(transportError(what, err)));
      request.end(payload);
    });
  }
}

/** Maps a socket/TLS error to a KeyStoreError with a message that names the cause. */
function transportError(what: string, err: Error & { code?: string }): KeyStoreError {
  const code = err.code ?? '';
  if (err.name === 'AbortError' || code === 'ABORT_ERR') {
    return new VaultError('UNREACHABLE', `${what}: request cancelled`, { cause: err });
  }
  if (unreachableCodes.has(code)) {
    return new VaultError('UNREACHABLE', `${what}: ${err.message}`, { cause: err });
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|ERR_SSL|ERR_TLS/.test(code)) {
    // OpenSSL's own message for alerts is a long internal trace; the code says it all.
    const reason = code.startsWith('ERR_SSL') ? code : `${code}: ${err.message}`;
    return new VaultError(
      'FAILED',
      `${what}: TLS handshake failed (${reason}); check keystore.vault.tls.ca and, for mTLS, tls.cert/tls.key`,
      { cause: err },
    );
  }
  return new VaultError('UNREACHABLE', `${what}: ${err.message}`, { cause: err });
}

/** Loads client certificate, key and CA bundle (file, or every file of a directory). */
async function loadTls(tls: VaultOptions['tls']): Promise<https.RequestOptions> {
  const out: { cert?: Buffer; key?: Buffer; ca?: Buffer[] } = {};
  const read = async (what: string, path: string) => {
    try {
      return await readFile(path);
    } catch (err) {
      throw new VaultError('FAILED', `failed to read ${what} '${path}': ${errorMessage(err)}`, { cause: err });
    }
  };
  if ((tls.cert === '') !== (tls.key === '')) {
    throw new VaultError('FAILED', 'tls.cert and tls.key must be given together');
  }
  if (tls.cert !== '') {
    out.cert = await read('tls.cert', tls.cert);
    out.key = await read('tls.key', tls.key);
  }
  if (tls.ca !== '') {
    let isDir = false;
    try {
      isDir = (await stat(tls.ca)).isDirectory();
    } catch (err) {
      throw new VaultError('FAILED', `failed to read tls.ca '${tls.ca}': ${errorMessage(err)}`, { cause: err });
    }
    if (isDir) {
      const names = (await readdir(tls.ca)).sort();
      out.ca = [];
      for (const name of names) {
        const path = join(tls.ca, name);
        if ((await stat(path)).isFile()) out.ca.push(await read('tls.ca', path));
      }
    } else {
      out.ca = [await read('tls.ca', tls.ca)];
    }
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
