/**
 * Distributed MinIO (2 processes × 2 drives) with two KES replicas listed in
 * `MINIO_KMS_KES_ENDPOINT`: one replica is killed (SIGKILL) in the middle of a bounded PUT/GET
 * loop. MinIO's KES client must fail over to the other replica by itself (the S3 client here does
 * not retry), and every object must be readable from both MinIO nodes afterwards.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { S3Client } from '@aws-sdk/client-s3';
import { Deployment, applyVaultSetup } from '../../sandbox/deployment.ts';
import { Mc } from '../../sandbox/mc.ts';
import { startOpenBao } from '../../sandbox/openbao.ts';
import type { OpenBao } from '../../sandbox/openbao.ts';
import { sha256, sha256OfStream, testData, workDir } from './helpers.ts';

const OBJECTS = 60;
const KILL_AT = 20;
const WORKERS = 3;

describe('distributed MinIO with two KES replicas survives losing one', () => {
  const work = workDir('multi-node');
  let bao: OpenBao | undefined;
  let deployment: Deployment | undefined;
  let clients: S3Client[] = [];
  let mc: Mc;

  before(async () => {
    bao = await startOpenBao();
    const credentials = await applyVaultSetup(bao);
    deployment = await Deployment.start({ dir: work.dir, vault: bao, credentials, kesReplicas: 2, minioNodes: 2, minioDrives: 2 });
    const { minio } = deployment;
    // No SDK retries: a failed request must be visible here, so failover is MinIO's doing.
    clients = minio.endpoints.map(
      (endpoint) =>
        new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: minio.rootUser, secretAccessKey: minio.rootPassword }, maxAttempts: 1 }),
    );
    mc = new Mc(join(work.dir, 'mc'));
    await mc.aliasSet('dist', minio.endpoint, minio.rootUser, minio.rootPassword);
    await mc.ok(['admin', 'kms', 'key', 'create', 'dist', 'replicated-key']);
    await mc.ok(['mb', 'dist/replicated']);
    await mc.ok(['encrypt', 'set', 'sse-kms', 'replicated-key', 'dist/replicated']);
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await deployment?.stop();
    await bao?.stop();
    work.remove();
  });

  test('the environment lists both KES replicas and MinIO sees both online', async () => {
    const d = deployment as Deployment;
    assert.equal(d.minioEnv.MINIO_KMS_KES_ENDPOINT, d.kes.map((k) => k.url).join(','));
    const info = await mc.ok(['admin', 'info', 'dist']);
    const kmsStatus = (info.json[0]?.info as { services: { kmsStatus: Array<{ endpoint: string; status: string }> } }).services.kmsStatus;
    assert.deepEqual(kmsStatus.map((s) => [s.endpoint, s.status]).sort(), d.kes.map((k) => [k.url, 'online']).sort());
  });

  test('killing one replica during a PUT/GET loop loses no request and no object', async () => {
    const d = deployment as Deployment;
    const failures: string[] = [];
    const written = new Map<string, string>();
    let next = 0;
    let killed: Promise<void> | undefined;
    const worker = async () => {
      for (let i = next++; i < OBJECTS; i = next++) {
        if (i === KILL_AT) killed = d.kes[0].kill();
        const key = `object-${String(i).padStart(3, '0')}.bin`;
        const body = testData(key, 64 * 1024 + i * 1000);
        // Write through one MinIO node, read through the other.
        const writer = clients[i % 2];
        const reader = clients[(i + 1) % 2];
        try {
          await writer.send(new PutObjectCommand({ Bucket: 'replicated', Key: key, Body: body }));
          written.set(key, sha256(body));
          const res = await reader.send(new GetObjectCommand({ Bucket: 'replicated', Key: key }));
          const sha = await sha256OfStream(res.Body as AsyncIterable<Uint8Array>);
          if (sha !== sha256(body)) failures.push(`${key}: content differs`);
          if (res.ServerSideEncryption !== 'aws:kms') failures.push(`${key}: not SSE-KMS`);
        } catch (error) {
          failures.push(`${key}: ${(error as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    await killed;
    assert.equal(d.kes[0].running, false, 'replica 1 must be dead');
    assert.equal(d.kes[1].running, true, 'replica 2 must be alive');
    assert.deepEqual(failures, [], `requests failed:\n${d.logTail(20)}`);
    assert.equal(written.size, OBJECTS);

    // Afterwards every object decrypts through either node, with only replica 2 left.
    for (const [key, sha] of written) {
      for (const client of clients) {
        const res = await client.send(new GetObjectCommand({ Bucket: 'replicated', Key: key }));
        assert.equal(await sha256OfStream(res.Body as AsyncIterable<Uint8Array>), sha, key);
      }
    }
    const info = await mc.ok(['admin', 'info', 'dist']);
    const kmsStatus = (info.json[0]?.info as { services: { kmsStatus: Array<{ endpoint: string; status: string }> } }).services.kmsStatus;
    const byEndpoint = new Map(kmsStatus.map((s) => [s.endpoint, s.status]));
    assert.notEqual(byEndpoint.get(d.kes[0].url), 'online');
    assert.equal(byEndpoint.get(d.kes[1].url), 'online');
  });
});
