/**
 * Durability on real peers: objects encrypted through the TypeScript KES server stay readable
 * across restarts of KES, of MinIO and of both; while OpenBao is down, keys KES has cached keep
 * working for `cache.expiry.offline` (and creating a key fails with a clear error); when OpenBao
 * comes back, everything recovers without restarting anything.
 *
 * OpenBao runs with persistent (raft) storage, initialised and unsealed through its HTTP API: a
 * dev server keeps its data in memory, so it cannot be stopped and started again, and freezing a
 * dev server (SIGSTOP) would test hanging connections rather than an outage. Stopping the process
 * and starting it again on the same port and storage is the real outage and the real recovery.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { Deployment, applyVaultSetup, defaultVaultLayout } from '../../sandbox/deployment.ts';
import { Mc, describeError } from '../../sandbox/mc.ts';
import { MiB, encryptionContext, s3Client, sha256, sha256OfStream, testData, workDir } from './helpers.ts';
import { RaftOpenBao } from '../../sandbox/openbao-raft.ts';
import { STATUS_PROBE_MS } from '../../kes-server/src/cache/key-cache.ts';

// Cached keys not used for `unused` are evicted while the key store is online; while it is offline
// the regular expiry pauses and entries live up to `offline` (docs/protocol.md#key-cache).
const UNUSED_MS = 16_000;
const OFFLINE_MS = 600_000;

interface Stored {
  readonly bucket: string;
  readonly key: string;
  readonly sha: string;
}

describe('durability of SSE objects across restarts and a Vault outage', () => {
  const work = workDir('durability');
  let bao: RaftOpenBao | undefined;
  let deployment: Deployment | undefined;
  let s3: S3Client | undefined;
  let mc: Mc;
  const stored: Stored[] = [];

  before(async () => {
    bao = await RaftOpenBao.start(join(work.dir, 'openbao'));
    const credentials = await applyVaultSetup(bao);
    deployment = await Deployment.start({
      dir: work.dir,
      vault: bao,
      credentials,
      cache: { anyMs: 300_000, unusedMs: UNUSED_MS, offlineMs: OFFLINE_MS },
    });
    mc = new Mc(join(work.dir, 'mc'));
    await mc.aliasSet('dur', deployment.minio.endpoint, deployment.minio.rootUser, deployment.minio.rootPassword);
    s3 = s3Client(deployment.minio.endpoint, deployment.minio.rootUser, deployment.minio.rootPassword);

    await mc.ok(['admin', 'kms', 'key', 'create', 'dur', 'durable-key']);
    await mc.ok(['admin', 'kms', 'key', 'create', 'dur', 'context-key']);
    await mc.ok(['mb', 'dur/durable']);
    await mc.ok(['encrypt', 'set', 'sse-kms', 'durable-key', 'dur/durable']);
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));

    const put = async (bucket: string, key: string, body: Buffer, extra: Record<string, string> = {}) => {
      await (s3 as S3Client).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...extra }));
      stored.push({ bucket, key, sha: sha256(body) });
    };
    await put('durable', 'bucket-default.bin', testData('dur-1', 1 * MiB));
    await put('plain', 'sse-s3.bin', testData('dur-2', 100_000), { ServerSideEncryption: 'AES256' });
    await put('plain', 'context.bin', testData('dur-3', 50_000), {
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'context-key',
      SSEKMSEncryptionContext: encryptionContext({ tenant: 'durability' }),
    });
    const big = testData('dur-4', 18 * MiB);
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'durable', Key: 'multipart.bin' }));
    const parts = [];
    for (let i = 0; i < 3; i++) {
      const part = await s3.send(
        new UploadPartCommand({ Bucket: 'durable', Key: 'multipart.bin', UploadId: upload.UploadId, PartNumber: i + 1, Body: big.subarray(i * 6 * MiB, (i + 1) * 6 * MiB) }),
      );
      parts.push({ ETag: part.ETag, PartNumber: i + 1 });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'durable', Key: 'multipart.bin', UploadId: upload.UploadId, MultipartUpload: { Parts: parts } }));
    stored.push({ bucket: 'durable', key: 'multipart.bin', sha: sha256(big) });
  });
  after(async () => {
    s3?.destroy();
    await deployment?.stop();
    await bao?.stop();
    work.remove();
  });

  /** Reads every stored object back and compares its SHA-256. */
  async function assertAllReadable(when: string): Promise<void> {
    for (const object of stored) {
      let sha: string;
      try {
        const res = await (s3 as S3Client).send(new GetObjectCommand({ Bucket: object.bucket, Key: object.key }));
        sha = await sha256OfStream(res.Body as AsyncIterable<Uint8Array>);
      } catch (error) {
        assert.fail(`${when}: GET ${object.bucket}/${object.key} failed: ${(error as Error).message}\n${deployment?.logTail(15)}`);
      }
      assert.equal(sha, object.sha, `${when}: ${object.bucket}/${object.key} changed`);
    }
  }

  // KES keeps its keys only in memory: a restart empties the cache, so every decrypt below fetches
  // its key from OpenBao again.
  test('every object decrypts after restarting KES (empty key cache, OpenBao up)', async () => {
    const d = deployment as Deployment;
    const before = d.kes[0].process?.pid;
    await d.kes[0].restart();
    assert.notEqual(d.kes[0].process?.pid, before, 'KES must be a new process');
    await assertAllReadable('after KES restart');
  });

  test('every object decrypts after restarting MinIO', async () => {
    const d = deployment as Deployment;
    await d.minio.restart();
    await assertAllReadable('after MinIO restart');
  });

  test('every object decrypts after restarting KES and MinIO', async () => {
    const d = deployment as Deployment;
    await d.minio.stop();
    await d.kes[0].stop();
    await d.kes[0].start();
    await d.minio.start();
    await assertAllReadable('after restarting both');
  });

  test('with OpenBao down, cached keys keep working for the offline period and creating a key fails clearly', async () => {
    const d = deployment as Deployment;
    // Warm the cache (every key is used now), then take Vault away.
    await assertAllReadable('before the outage');
    await (bao as RaftOpenBao).stop();
    // KES marks the store offline at its next background probe (every STATUS_PROBE_MS, in each
    // worker). `/v1/status` asks Vault directly and says `keystore_unreachable` at once, so it does
    // not tell when that happened: keep every key in use for a full probe interval and a margin,
    // so the `unused` expiry cannot evict anything before the offline mode starts.
    const until = Date.now() + STATUS_PROBE_MS + 2_000;
    while (Date.now() < until) {
      await assertAllReadable('while KES has not yet noticed the outage');
      await sleep(500);
    }
    const reported = JSON.parse((await d.kesAdmin('GET', '/v1/status')).body);
    assert.equal(reported.keystore_unreachable, true, 'KES reports the key store unreachable');
    // Wait longer than `unused`: online, the entries would be evicted by now; offline, they stay.
    await sleep(UNUSED_MS + 12_000);
    assert.equal(d.kes[0].running && d.minio.processes.every((p) => p.running), true, 'nothing may have crashed');
    await assertAllReadable('during the outage');
    // A new object with a cached key is still encrypted (generate needs no Vault call).
    const body = testData('during-outage', 30_000);
    await (s3 as S3Client).send(new PutObjectCommand({ Bucket: 'durable', Key: 'during-outage.bin', Body: body }));
    stored.push({ bucket: 'durable', key: 'during-outage.bin', sha: sha256(body) });

    const create = await mc.run(['admin', 'kms', 'key', 'create', 'dur', 'created-offline']);
    assert.notEqual(create.code, 0, 'creating a key without Vault must fail');
    // KES answers a key-store failure on create with 502 `failed to create key` (docs/protocol.md#vault-errors), which
    // MinIO passes on.
    assert.match(describeError(create), /failed to create KMS key: failed to create key/);

    const status = await d.kesAdmin('GET', '/v1/status');
    assert.equal(status.status, 200);
    assert.equal(JSON.parse(status.body).keystore_unreachable, true);
  });

  test('when OpenBao is back, KES and MinIO recover without a restart', async () => {
    const d = deployment as Deployment;
    const pids = [d.kes[0].process?.pid, ...d.minio.processes.map((p) => p.pid)];
    await (bao as RaftOpenBao).startAgain();
    // KES notices at its next key-store probe; MinIO may have parked the endpoint for 30 s after
    // a 5xx (docs/protocol.md#minio-environment), so allow a bounded while.
    let created = false;
    let lastError = '';
    for (let attempt = 0; attempt < 60 && !created; attempt++) {
      const result = await mc.run(['admin', 'kms', 'key', 'create', 'dur', 'created-after']);
      created = result.code === 0;
      if (!created) {
        lastError = describeError(result);
        await sleep(1_000);
      }
    }
    assert.ok(created, `key creation did not recover: ${lastError}\n${d.logTail(15)}`);
    const names: string[] = (await (bao as RaftOpenBao).requestOk('LIST', `${defaultVaultLayout.engine}/${defaultVaultLayout.prefix}`)).body.data.keys;
    assert.ok(names.includes('created-after'));
    assert.ok(!names.includes('created-offline'));
    await assertAllReadable('after the outage');
    assert.deepEqual([d.kes[0].process?.pid, ...d.minio.processes.map((p) => p.pid)], pids, 'no process was restarted');
    // The status follows at the next key-store probe (every 10 s).
    let unreachable: unknown = true;
    for (let attempt = 0; attempt < 30 && unreachable !== undefined; attempt++) {
      unreachable = JSON.parse((await d.kesAdmin('GET', '/v1/status')).body).keystore_unreachable;
      if (unreachable !== undefined) await sleep(1_000);
    }
    assert.equal(unreachable, undefined, 'KES still reports the key store unreachable');
  });
});
