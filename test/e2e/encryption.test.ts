/**
 * End to end on real peers: OpenBao (dev) ← TypeScript KES server ← MinIO (single node, single
 * drive), everything configured from the project's renderers (sandbox/deployment.ts). Objects are
 * written and read with `mc` and with the AWS S3 SDK under bucket-default SSE-KMS, explicit SSE-KMS
 * with a context, and SSE-S3; copies, listings, `mc stat` and `mc admin kms key …` go through KES.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { Deployment, applyVaultSetup, defaultVaultLayout } from '../../sandbox/deployment.ts';
import { Mc, describeError } from '../../sandbox/mc.ts';
import { startOpenBao } from '../../sandbox/openbao.ts';
import type { OpenBao } from '../../sandbox/openbao.ts';
import {
  MiB,
  encryptionContext,
  s3Client,
  sha256,
  sha256OfStream,
  sha256OfTestData,
  testData,
  testDataStream,
  workDir,
} from './helpers.ts';

const LARGE = 70 * MiB; // above 64 MiB: multipart for mc and for the SDK upload below
const PART = 16 * MiB;

interface Env {
  bao: OpenBao;
  deployment: Deployment;
  mc: Mc;
  s3: S3Client;
  dir: string;
}

/** Starts OpenBao + KES + MinIO for a describe block; everything is torn down by `after`. */
function setUp(name: string, minioAuth: 'certificate' | 'api-key'): () => Env {
  let env: Partial<Env> = {};
  const work = workDir(name);
  before(async () => {
    env.dir = work.dir;
    env.bao = await startOpenBao();
    const credentials = await applyVaultSetup(env.bao);
    env.deployment = await Deployment.start({ dir: work.dir, vault: env.bao, credentials, minioAuth });
    env.mc = new Mc(join(work.dir, 'mc'));
    await env.mc.aliasSet('e2e', env.deployment.minio.endpoint, env.deployment.minio.rootUser, env.deployment.minio.rootPassword);
    env.s3 = s3Client(env.deployment.minio.endpoint, env.deployment.minio.rootUser, env.deployment.minio.rootPassword);
  });
  after(async () => {
    env.s3?.destroy();
    await env.deployment?.stop();
    await env.bao?.stop();
    work.remove();
    env = {};
  });
  return () => env as Env;
}

async function getSha(s3: S3Client, bucket: string, key: string): Promise<{ sha: string; sse?: string; kmsKey?: string }> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const sha = await sha256OfStream(res.Body as AsyncIterable<Uint8Array>);
  return { sha, sse: res.ServerSideEncryption, kmsKey: res.SSEKMSKeyId };
}

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: Buffer): string[] {
  const hits: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if (statSync(path).size > 256 * MiB) continue;
    if (readFileSync(path).includes(needle)) hits.push(path);
  }
  return hits;
}

describe('MinIO SSE through the TypeScript KES server (MinIO authenticates with a client certificate)', () => {
  const env = setUp('encryption', 'certificate');

  test('mc admin kms key create and status go through KES into Vault', async () => {
    const { mc, bao, deployment } = env();
    await mc.ok(['admin', 'kms', 'key', 'create', 'e2e', 'bucket-key']);
    await mc.ok(['admin', 'kms', 'key', 'create', 'e2e', 'object-key']);

    const again = await mc.run(['admin', 'kms', 'key', 'create', 'e2e', 'bucket-key']);
    assert.notEqual(again.code, 0, 'creating an existing key must fail');
    assert.match(describeError(again), /already exi/);

    const status = await mc.ok(['admin', 'kms', 'key', 'status', 'e2e', 'bucket-key']);
    assert.equal(status.json[0]?.keyId, 'bucket-key');
    assert.equal(status.json[0]?.encryptionError, undefined);
    assert.equal(status.json[0]?.decryptionError, undefined);
    const missing = await mc.run(['admin', 'kms', 'key', 'status', 'e2e', 'no-such-key']);
    assert.match(String(missing.json[0]?.encryptionError ?? describeError(missing)), /does not exist/);

    // The keys live in Vault, where the KES policy allows them.
    const stored = await bao.requestOk('LIST', `${defaultVaultLayout.engine}/${defaultVaultLayout.prefix}`);
    const names: string[] = stored.body.data.keys;
    for (const name of ['bucket-key', 'object-key', deployment.defaultKey]) assert.ok(names.includes(name), `${name} not in Vault: ${names.join(',')}`);
  });

  test('mc admin kms key list shows the keys (MinIO lists `*` as GET /v1/key/list, docs/protocol.md#mc-admin-kms)', async () => {
    const { mc, deployment } = env();
    const list = await mc.ok(['admin', 'kms', 'key', 'list', 'e2e']);
    const keys = list.json.flatMap((doc) => (Array.isArray(doc.keys) ? (doc.keys as string[]) : []));
    for (const name of ['bucket-key', 'object-key', deployment.defaultKey]) assert.ok(keys.includes(name), `${name} missing from ${keys.join(',')}`);
  });

  test('bucket default SSE-KMS with a named key: mc writes and reads small and multipart objects', async () => {
    const { mc, dir } = env();
    await mc.ok(['mb', 'e2e/kms-default']);
    await mc.ok(['encrypt', 'set', 'sse-kms', 'bucket-key', 'e2e/kms-default']);
    const info = await mc.ok(['encrypt', 'info', 'e2e/kms-default']);
    assert.deepEqual(info.json[0]?.encryption, { algorithm: 'aws:kms', keyId: 'bucket-key' });

    const small = testData('mc-small', 4096);
    await mc.ok(['pipe', 'e2e/kms-default/small.bin'], { input: small });
    const largeFile = join(dir, 'large.bin');
    await pipeline(testDataStream('mc-large', LARGE), createWriteStream(largeFile));
    await mc.ok(['cp', largeFile, 'e2e/kms-default/large.bin'], { timeoutMs: 300_000 });

    const readSmall = await mc.ok(['cat', 'e2e/kms-default/small.bin'], { binary: true });
    assert.equal(sha256(readSmall.bytes), sha256(small));
    const readLarge = await mc.ok(['cat', 'e2e/kms-default/large.bin'], { binary: true, timeoutMs: 300_000 });
    assert.equal(readLarge.bytes.length, LARGE);
    assert.equal(sha256(readLarge.bytes), await sha256OfTestData('mc-large', LARGE));

    for (const name of ['small.bin', 'large.bin']) {
      const stat = await mc.ok(['stat', `e2e/kms-default/${name}`]);
      const metadata = stat.json[0]?.metadata as Record<string, string>;
      assert.equal(metadata['X-Amz-Server-Side-Encryption'], 'aws:kms');
      assert.equal(metadata['X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id'], 'arn:aws:kms:bucket-key');
    }
    const multipartEtag = String((await mc.ok(['stat', 'e2e/kms-default/large.bin'])).json[0]?.etag);
    assert.match(multipartEtag, /-\d+$/, 'the large object must have been uploaded in parts');
  });

  test('bucket default SSE-KMS: the S3 SDK writes and reads small and multipart objects', async () => {
    const { s3 } = env();
    const small = testData('sdk-small', 1000);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'kms-default', Key: 'sdk-small.bin', Body: small }));
    assert.equal(put.ServerSideEncryption, 'aws:kms');
    assert.equal(put.SSEKMSKeyId, 'arn:aws:kms:bucket-key');

    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'kms-default', Key: 'sdk-large.bin' }));
    const parts: Array<{ ETag: string; PartNumber: number }> = [];
    const data = testData('sdk-large', LARGE);
    for (let offset = 0, number = 1; offset < LARGE; offset += PART, number++) {
      const body = data.subarray(offset, Math.min(offset + PART, LARGE));
      const part = await s3.send(new UploadPartCommand({ Bucket: 'kms-default', Key: 'sdk-large.bin', UploadId: upload.UploadId, PartNumber: number, Body: body }));
      parts.push({ ETag: String(part.ETag), PartNumber: number });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'kms-default', Key: 'sdk-large.bin', UploadId: upload.UploadId, MultipartUpload: { Parts: parts } }));

    const gotSmall = await getSha(s3, 'kms-default', 'sdk-small.bin');
    assert.deepEqual(gotSmall, { sha: sha256(small), sse: 'aws:kms', kmsKey: 'arn:aws:kms:bucket-key' });
    const gotLarge = await getSha(s3, 'kms-default', 'sdk-large.bin');
    assert.deepEqual(gotLarge, { sha: sha256(data), sse: 'aws:kms', kmsKey: 'arn:aws:kms:bucket-key' });
    // Objects mc wrote read back through the SDK as well.
    assert.equal((await getSha(s3, 'kms-default', 'large.bin')).sha, await sha256OfTestData('mc-large', LARGE));
  });

  test('SSE-KMS with an explicit key and context, SSE-S3, and CopyObject between them', async () => {
    const { s3, mc } = env();
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    const body = testData('explicit', 300_000);
    await s3.send(
      new PutObjectCommand({
        Bucket: 'plain',
        Key: 'explicit.bin',
        Body: body,
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'object-key',
        SSEKMSEncryptionContext: encryptionContext({ project: 'e2e', purpose: 'context-test' }),
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'plain', Key: 'explicit.bin' }));
    assert.equal(head.ServerSideEncryption, 'aws:kms');
    assert.equal(head.SSEKMSKeyId, 'arn:aws:kms:object-key');
    assert.equal((await getSha(s3, 'plain', 'explicit.bin')).sha, sha256(body));

    const s3Body = testData('sse-s3', 12_345);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'sse-s3.bin', Body: s3Body, ServerSideEncryption: 'AES256' }));
    assert.equal(put.ServerSideEncryption, 'AES256');
    assert.deepEqual(await getSha(s3, 'plain', 'sse-s3.bin'), { sha: sha256(s3Body), sse: 'AES256', kmsKey: undefined });
    const stat = await mc.ok(['stat', 'e2e/plain/sse-s3.bin']);
    assert.equal((stat.json[0]?.metadata as Record<string, string>)['X-Amz-Server-Side-Encryption'], 'AES256');

    // Copy SSE-KMS(object-key) → SSE-S3, and SSE-S3 → SSE-KMS(bucket-key): decrypt + generate.
    await s3.send(new CopyObjectCommand({ Bucket: 'plain', Key: 'copy-to-s3.bin', CopySource: 'plain/explicit.bin', ServerSideEncryption: 'AES256' }));
    await s3.send(
      new CopyObjectCommand({ Bucket: 'plain', Key: 'copy-to-kms.bin', CopySource: 'plain/sse-s3.bin', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'bucket-key' }),
    );
    assert.deepEqual(await getSha(s3, 'plain', 'copy-to-s3.bin'), { sha: sha256(body), sse: 'AES256', kmsKey: undefined });
    assert.deepEqual(await getSha(s3, 'plain', 'copy-to-kms.bin'), { sha: sha256(s3Body), sse: 'aws:kms', kmsKey: 'arn:aws:kms:bucket-key' });

    // A key KES does not have is refused before anything is stored.
    await assert.rejects(
      s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'nokey.bin', Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'no-such-key' })),
      (error: Error) => /does not exist|not found/i.test(error.message),
    );
  });

  test('listing decrypts the ETags of SSE-S3 objects and shows every object', async () => {
    const { s3 } = env();
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'plain' }));
    const byKey = new Map((listed.Contents ?? []).map((o) => [o.Key, o]));
    assert.deepEqual([...byKey.keys()].sort(), ['copy-to-kms.bin', 'copy-to-s3.bin', 'explicit.bin', 'sse-s3.bin']);
    assert.equal(byKey.get('sse-s3.bin')?.Size, 12_345);
    const md5 = createHash('md5').update(testData('sse-s3', 12_345)).digest('hex');
    assert.equal(byKey.get('sse-s3.bin')?.ETag, `"${md5}"`);

    const kmsListed = await s3.send(new ListObjectsV2Command({ Bucket: 'kms-default' }));
    assert.deepEqual(
      (kmsListed.Contents ?? []).map((o) => [o.Key, o.Size]).sort(),
      [['large.bin', LARGE], ['sdk-large.bin', LARGE], ['sdk-small.bin', 1000], ['small.bin', 4096]],
    );
  });

  test('the drives hold ciphertext only for encrypted objects', async () => {
    const { s3, deployment } = env();
    const marker = Buffer.from('minio-sse-kes plaintext marker 0123456789 '.repeat(200));
    const needle = marker.subarray(0, 64);
    await s3.send(new CreateBucketCommand({ Bucket: 'unencrypted' }));
    await s3.send(new PutObjectCommand({ Bucket: 'unencrypted', Key: 'clear.txt', Body: marker }));
    // The search works: the unencrypted copy is found on the drive...
    assert.ok(filesContaining(join(deployment.minio.dir, 'node1'), needle).length > 0, 'control object not found on the drive');
    await s3.send(new PutObjectCommand({ Bucket: 'kms-default', Key: 'marker.txt', Body: marker }));
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'marker.txt', Body: marker, ServerSideEncryption: 'AES256' }));
    // ...and nothing under the encrypted buckets contains it.
    const drive = join(deployment.minio.dir, 'node1', 'd1');
    assert.deepEqual(filesContaining(join(drive, 'kms-default'), needle), []);
    assert.deepEqual(filesContaining(join(drive, 'plain'), needle), []);
    assert.equal((await getSha(s3, 'kms-default', 'marker.txt')).sha, sha256(marker));
  });

  test('mc: explicit SSE-KMS key, SSE-S3, a server-side copy and a listing', async () => {
    const { mc, dir } = env();
    await mc.ok(['mb', 'e2e/mc-explicit']);
    const body = testData('mc-explicit', 2 * MiB + 7);
    const file = join(dir, 'mc-explicit.bin');
    await pipeline(testDataStream('mc-explicit', body.length), createWriteStream(file));
    await mc.ok(['cp', '--enc-kms', 'e2e/mc-explicit/kms=object-key', file, 'e2e/mc-explicit/kms.bin']);
    await mc.ok(['pipe', '--enc-s3', 'e2e/mc-explicit/s3', 'e2e/mc-explicit/s3.bin'], { input: body });
    // Both objects live on the same alias, so mc asks MinIO to copy (CopyObject): decrypt with
    // object-key, encrypt with the default key.
    await mc.ok(['cp', '--enc-s3', 'e2e/mc-explicit/copy', 'e2e/mc-explicit/kms.bin', 'e2e/mc-explicit/copy.bin']);

    const expected: Record<string, Record<string, string>> = {
      'kms.bin': { 'X-Amz-Server-Side-Encryption': 'aws:kms', 'X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id': 'arn:aws:kms:object-key' },
      's3.bin': { 'X-Amz-Server-Side-Encryption': 'AES256' },
      'copy.bin': { 'X-Amz-Server-Side-Encryption': 'AES256' },
    };
    for (const [name, headers] of Object.entries(expected)) {
      const metadata = (await mc.ok(['stat', `e2e/mc-explicit/${name}`])).json[0]?.metadata as Record<string, string>;
      for (const [header, value] of Object.entries(headers)) assert.equal(metadata[header], value, `${name} ${header}`);
      if (headers['X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id'] === undefined) {
        assert.equal(metadata['X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id'], undefined, `${name} must not name a KMS key`);
      }
      const read = await mc.ok(['cat', `e2e/mc-explicit/${name}`], { binary: true });
      assert.equal(sha256(read.bytes), sha256(body), name);
    }
    const listed = await mc.ok(['ls', 'e2e/mc-explicit']);
    assert.deepEqual(
      listed.json.map((doc) => [doc.key, doc.size]).sort(),
      [['copy.bin', body.length], ['kms.bin', body.length], ['s3.bin', body.length]],
    );
  });
});

describe('MinIO SSE through the TypeScript KES server (MinIO authenticates with a kes:v1 API key)', () => {
  const env = setUp('api-key', 'api-key');

  test('the API-key identity is the one the KES policy names, and SSE-KMS works with it', async () => {
    const { mc, deployment, s3 } = env();
    assert.notEqual(deployment.minioIdentity, deployment.pki.minio.identity);
    assert.equal(deployment.minioEnv.MINIO_KMS_KES_CERT_FILE, undefined);
    assert.match(deployment.minioEnv.MINIO_KMS_KES_API_KEY ?? '', /^kes:v1:/);

    await mc.ok(['admin', 'kms', 'key', 'create', 'e2e', 'api-key-bucket']);
    await mc.ok(['mb', 'e2e/via-api-key']);
    await mc.ok(['encrypt', 'set', 'sse-kms', 'api-key-bucket', 'e2e/via-api-key']);
    const body = testData('api-key', 200_000);
    await mc.ok(['pipe', 'e2e/via-api-key/object.bin'], { input: body });
    const read = await mc.ok(['cat', 'e2e/via-api-key/object.bin'], { binary: true });
    assert.equal(sha256(read.bytes), sha256(body));
    assert.deepEqual(await getSha(s3, 'via-api-key', 'object.bin'), { sha: sha256(body), sse: 'aws:kms', kmsKey: 'arn:aws:kms:api-key-bucket' });
    const status = await mc.ok(['admin', 'kms', 'key', 'status', 'e2e', 'api-key-bucket']);
    assert.equal(status.json[0]?.keyId, 'api-key-bucket');
    assert.equal(status.json[0]?.encryptionError, undefined);
  });
});
