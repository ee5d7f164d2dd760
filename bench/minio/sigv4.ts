/**
 * AWS Signature Version 4 for S3 requests, with node:crypto only: the canonical request, the
 * string to sign and the `Authorization` header. The signing key depends only on the date, so it
 * is derived once per day and reused.
 */
import { createHash, createHmac } from 'node:crypto';

export interface S3Credentials {
  readonly accessKey: string;
  readonly secretKey: string;
  /** MinIO's default region is `us-east-1`. */
  readonly region: string;
}

export interface SignInput {
  readonly method: string;
  /** Absolute path, already made of unreserved characters and `/` (object keys here are). */
  readonly path: string;
  /** Query parameters; a flag such as `encryption` has the value `''`. */
  readonly query?: Readonly<Record<string, string>>;
  /** Headers to sign besides host, x-amz-date and x-amz-content-sha256; names lower case. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly host: string;
  /** Hex SHA-256 of the payload. */
  readonly payloadSha256: string;
  readonly now: Date;
}

export const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves `!'()*` alone). */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `20130524T000000Z` */
function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export class SigV4Signer {
  readonly #creds: S3Credentials;
  #day = '';
  #key: Buffer = Buffer.alloc(0);

  constructor(creds: S3Credentials) {
    this.#creds = creds;
  }

  #signingKey(day: string): Buffer {
    if (day !== this.#day) {
      const k = hmac(hmac(hmac(hmac(`AWS4${this.#creds.secretKey}`, day), this.#creds.region), 's3'), 'aws4_request');
      this.#day = day;
      this.#key = k;
    }
    return this.#key;
  }

  /** The headers to send: the caller's, plus host, x-amz-date, x-amz-content-sha256 and authorization. */
  sign(input: SignInput): Record<string, string> {
    const date = amzDate(input.now);
    const day = date.slice(0, 8);
    const headers: Record<string, string> = {
      ...input.headers,
      host: input.host,
      'x-amz-content-sha256': input.payloadSha256,
      'x-amz-date': date,
    };
    const names = Object.keys(headers).sort();
    const query = Object.entries(input.query ?? {})
      .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
      .sort()
      .join('&');
    const canonical = [
      input.method,
      input.path,
      query,
      names.map((n) => `${n}:${headers[n].trim()}\n`).join(''),
      names.join(';'),
      input.payloadSha256,
    ].join('\n');
    const scope = `${day}/${this.#creds.region}/s3/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
    const signature = createHmac('sha256', this.#signingKey(day)).update(toSign).digest('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${this.#creds.accessKey}/${scope},SignedHeaders=${names.join(';')},Signature=${signature}`;
    return headers;
  }
}
