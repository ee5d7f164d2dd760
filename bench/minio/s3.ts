/**
 * A lean S3 client for the benchmark: SigV4-signed requests over node:http keep-alive
 * connections (one per request in flight), bodies read whole and capped, every request bounded
 * by a timeout. Path-style addressing (`/bucket/key`), as MinIO serves on 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { EMPTY_SHA256, type S3Credentials, SigV4Signer } from './sigv4.ts';

export interface S3Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Transport failures and timeouts; never carries object data. */
class S3ClientError extends Error {}

const MAX_BODY = 1 << 20;

export class S3Client {
  readonly #host: string;
  readonly #port: number;
  readonly #signer: SigV4Signer;
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  /** `endpoint` is `http://127.0.0.1:PORT`; `connections` bounds the keep-alive pool. */
  constructor(endpoint: string, creds: S3Credentials, connections: number, timeoutMs = 30_000) {
    const url = new URL(endpoint);
    if (url.protocol !== 'http:') throw new S3ClientError(`s3: only http endpoints are supported, got ${url.protocol}`);
    this.#host = url.host;
    this.#port = Number(url.port);
    this.#signer = new SigV4Signer(creds);
    this.#agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections, scheduling: 'fifo' });
    this.#timeoutMs = timeoutMs;
  }

  /**
   * One signed request. `payloadSha256` may be passed when the caller already hashed `body`
   * (it needs the hash for its own checks).
   */
  send(method: string, path: string, opts: { body?: Buffer; query?: Record<string, string>; headers?: Record<string, string>; payloadSha256?: string } = {}): Promise<S3Reply> {
    const body = opts.body;
    const payloadSha256 = opts.payloadSha256 ?? (body === undefined ? EMPTY_SHA256 : createHash('sha256').update(body).digest('hex'));
    const headers = this.#signer.sign({ method, path, query: opts.query, headers: opts.headers, host: this.#host, payloadSha256, now: new Date() });
    if (body !== undefined) headers['content-length'] = String(body.length);
    const query = opts.query === undefined ? '' : `?${new URLSearchParams(opts.query).toString()}`;
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.#port, method, path: path + query, headers, agent: this.#agent, timeout: this.#timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) req.destroy(new S3ClientError(`${method} ${path}: response body over ${MAX_BODY} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (err) => reject(new S3ClientError(`${method} ${path}: ${err.message}`)));
      });
      req.on('timeout', () => req.destroy(new S3ClientError(`${method} ${path}: no response within ${this.#timeoutMs} ms`)));
      req.on('error', (err) => reject(err instanceof S3ClientError ? err : new S3ClientError(`${method} ${path}: ${err.message}`)));
      req.end(body);
    });
  }

  /** Creates `bucket` (an existing bucket owned by us is fine). */
  async createBucket(bucket: string): Promise<void> {
    const r = await this.send('PUT', `/${bucket}`);
    if (r.status !== 200 && !(r.status === 409 && r.body.includes('BucketAlreadyOwnedByYou'))) throw new S3ClientError(`create bucket ${bucket}: ${r.status} ${errorCode(r)}`);
  }

  /** Sets the bucket's default encryption to SSE-KMS with `keyId` (PutBucketEncryption). */
  async setBucketKms(bucket: string, keyId: string): Promise<void> {
    const xml =
      '<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault>' +
      `<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>${keyId}</KMSMasterKeyID>` +
      '</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>';
    const body = Buffer.from(xml);
    const md5 = createHash('md5').update(body).digest('base64');
    const r = await this.send('PUT', `/${bucket}`, { body, query: { encryption: '' }, headers: { 'content-md5': md5 } });
    if (r.status !== 200) throw new S3ClientError(`set bucket encryption of ${bucket}: ${r.status} ${errorCode(r)}`);
  }

  /** The bucket's default encryption configuration (XML text). */
  async bucketEncryption(bucket: string): Promise<string> {
    const r = await this.send('GET', `/${bucket}`, { query: { encryption: '' } });
    if (r.status !== 200) throw new S3ClientError(`get bucket encryption of ${bucket}: ${r.status} ${errorCode(r)}`);
    return r.body.toString('utf8');
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** The `<Code>` of an S3 error body, for messages (never the whole body). */
export function errorCode(r: S3Reply): string {
  return /<Code>([^<]{1,100})<\/Code>/.exec(r.body.toString('utf8'))?.[1] ?? '(no error code)';
}
