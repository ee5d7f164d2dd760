/**
 * Shared pieces of the end-to-end tests: deterministic test data of any size (AES-CTR keystream,
 * generated chunk by chunk, never held whole unless asked), SHA-256 of streams, an S3 client for
 * a MinIO endpoint and a per-file working folder.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';

/** 1 MiB. */
export const MiB = 1 << 20;

/**
 * A working folder under the OS temp dir, created on first use of `dir` (so a describe block
 * filtered out by --test-name-pattern creates nothing), and its removal.
 */
export function workDir(name: string): { readonly dir: string; remove: () => void } {
  let dir: string | undefined;
  return {
    get dir() {
      dir ??= mkdtempSync(join(tmpdir(), `mskes-e2e-${name}-`));
      return dir;
    },
    remove: () => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function keystream(seed: string) {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
}

/** `size` deterministic pseudo-random bytes for `seed`, as a stream of ≤ 1 MiB chunks. */
export function testDataStream(seed: string, size: number): Readable {
  const cipher = keystream(seed);
  const zeros = Buffer.alloc(MiB);
  let left = size;
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, MiB);
      left -= n;
      this.push(cipher.update(zeros.subarray(0, n)));
    },
  });
}

/** `size` deterministic pseudo-random bytes for `seed`, in memory. */
export function testData(seed: string, size: number): Buffer {
  return keystream(seed).update(Buffer.alloc(size));
}

/** Hex SHA-256 of a stream's bytes (consumes the stream). */
export async function sha256OfStream(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}

/** Hex SHA-256 of the bytes `testDataStream(seed, size)` produces. */
export function sha256OfTestData(seed: string, size: number): Promise<string> {
  return sha256OfStream(testDataStream(seed, size));
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** An S3 client for a MinIO endpoint (path style, region us-east-1, a few retries). */
export function s3Client(endpoint: string, accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 3,
  });
}

/** Base64 of the JSON of an SSE-KMS encryption context (the `x-amz-server-side-encryption-context` header). */
export function encryptionContext(context: Record<string, string>): string {
  return Buffer.from(JSON.stringify(context)).toString('base64');
}
