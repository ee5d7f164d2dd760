/**
 * S3 load: PUT or GET of small objects with a fixed number of clients (one keep-alive connection
 * each), an untimed warm-up, then the measured loop. Every response is checked: a PUT must answer
 * 200 and say the object was encrypted with SSE-KMS under the expected key; a GET must answer 200,
 * say SSE-KMS, and return exactly the bytes that were PUT (compared by SHA-256). Any failed check
 * aborts the loop with a message that names the object, never its data.
 */
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { summarize, type LatencySummary } from '../stats.ts';
import { errorCode, type S3Client, type S3Reply } from './s3.ts';

export type S3Op = 'PUT' | 'GET';

/** An object this run wrote, with the hash of its bytes. */
export interface StoredObject {
  readonly key: string;
  readonly sha256: string;
}

export interface LoadSpec {
  readonly op: S3Op;
  readonly bucket: string;
  /** KES key the bucket's default encryption names; PUT and GET answers must name it. */
  readonly kmsKey: string;
  readonly clients: number;
  readonly requests: number;
  readonly warmup: number;
  /** Bound of each loop (warm-up, measured), ms. */
  readonly timeLimitMs: number;
  /** PUT: object size in bytes and the key prefix (unique per loop). */
  readonly size: number;
  readonly prefix: string;
  /** GET: the objects to read, in turn. */
  readonly objects?: readonly StoredObject[];
  /** Awaited between the warm-up and the measured loop (nothing in flight), and after it. */
  readonly onMeasureStart?: () => Promise<void>;
  readonly onMeasureEnd?: () => Promise<void>;
}

export interface LoadResult extends LatencySummary {
  readonly requests: number;
  readonly elapsedMs: number;
  readonly timeLimited: boolean;
  /** Responses whose checks passed, warm-up included. */
  readonly verified: number;
  /** Objects written (PUT), warm-up included; what a later GET loop reads. */
  readonly written: readonly StoredObject[];
  /** CPU time of this process during the measured loop (the load client). */
  readonly clientCpuMs: number;
}

export class CheckError extends Error {}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** SSE headers of a PUT or GET answer; throws a CheckError when they do not say SSE-KMS with `kmsKey`. */
function checkSse(r: S3Reply, kmsKey: string, what: string): void {
  const sse = r.headers['x-amz-server-side-encryption'];
  if (sse !== 'aws:kms') throw new CheckError(`${what}: x-amz-server-side-encryption is ${JSON.stringify(sse)}, expected "aws:kms"`);
  const id = r.headers['x-amz-server-side-encryption-aws-kms-key-id'];
  // MinIO names the key as an ARN (`arn:aws:kms:<name>`).
  if (typeof id !== 'string' || !(id === kmsKey || id.endsWith(`:${kmsKey}`))) {
    throw new CheckError(`${what}: x-amz-server-side-encryption-aws-kms-key-id is ${JSON.stringify(id)}, expected the key '${kmsKey}'`);
  }
}

function checkStatus(r: S3Reply, what: string): void {
  if (r.status !== 200) throw new CheckError(`${what}: status ${r.status} ${errorCode(r)}`);
}

/** Runs the warm-up and the measured loop of `spec` against `s3`. */
export async function runLoad(s3: S3Client, spec: LoadSpec): Promise<LoadResult> {
  if (spec.op === 'GET' && (spec.objects === undefined || spec.objects.length === 0)) throw new Error('load: GET needs objects to read');
  // Unique bytes per object: a shared random body with a fresh random head, so an answer with
  // another object's bytes fails the hash comparison.
  const base = randomBytes(spec.size);
  const written: StoredObject[] = [];
  let verified = 0;
  let next = 0;

  const one = async (i: number): Promise<void> => {
    if (spec.op === 'PUT') {
      const key = `${spec.prefix}/${i}`;
      const body = Buffer.from(base);
      randomFillSync(body, 0, Math.min(32, body.length));
      const hash = sha256(body);
      const what = `PUT ${spec.bucket}/${key}`;
      const r = await s3.send('PUT', `/${spec.bucket}/${key}`, { body, payloadSha256: hash });
      checkStatus(r, what);
      checkSse(r, spec.kmsKey, what);
      written.push({ key, sha256: hash });
    } else {
      const objects = spec.objects!;
      const o = objects[i % objects.length];
      const what = `GET ${spec.bucket}/${o.key}`;
      const r = await s3.send('GET', `/${spec.bucket}/${o.key}`);
      checkStatus(r, what);
      checkSse(r, spec.kmsKey, what);
      if (sha256(r.body) !== o.sha256) throw new CheckError(`${what}: the body (${r.body.length} bytes) is not the object that was PUT`);
    }
    verified++;
  };

  /** `count` requests with `clients` in flight, stopping early at `deadline`; latencies in ms. */
  const loop = async (count: number): Promise<{ latencies: Float64Array; done: number; elapsedMs: number; timeLimited: boolean }> => {
    const latencies = new Float64Array(count);
    let done = 0;
    let failed: unknown;
    const end = next + count;
    const t0 = performance.now();
    const deadline = t0 + spec.timeLimitMs;
    const client = async (): Promise<void> => {
      while (failed === undefined && next < end && performance.now() < deadline) {
        const i = next++;
        const s = performance.now();
        try {
          await one(i);
        } catch (err) {
          failed ??= err;
          return;
        }
        latencies[done++] = performance.now() - s;
      }
    };
    await Promise.all(Array.from({ length: spec.clients }, client));
    if (failed !== undefined) throw failed;
    const elapsedMs = performance.now() - t0;
    return { latencies: latencies.subarray(0, done), done, elapsedMs, timeLimited: done < count };
  };

  if (spec.warmup > 0) await loop(spec.warmup);
  await spec.onMeasureStart?.();
  const cpu0 = process.cpuUsage();
  const measured = await loop(spec.requests);
  const cpu = process.cpuUsage(cpu0);
  await spec.onMeasureEnd?.();
  return {
    requests: measured.done,
    elapsedMs: measured.elapsedMs,
    timeLimited: measured.timeLimited,
    verified,
    written,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    ...summarize(measured.latencies),
  };
}
