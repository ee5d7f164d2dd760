/**
 * Distributed MinIO (2 processes × 2 drives) with two KES replicas listed in
 * `MINIO_KMS_KES_ENDPOINT`: one replica is killed (SIGKILL) in the middle of a bounded PUT/GET
 * loop. MinIO's KES client must fail over to the other replica by itself (the S3 client here does
 * not retry), and every object must be readable from both MinIO nodes afterwards.
 *
 * MinIO's KES client (kms-go) sends every request to the first of its localhost endpoints, in an
 * order settled by a race at start-up, so either replica may be the busy one. The test kills the
 * replica that served more requests during the first part of the loop (request counts from each
 * replica's `/v1/metrics`, one worker process per replica so the counts are complete), which makes
 * sure the failover path is the one exercised.
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

/** Successful requests a replica has answered so far (sum of `kes_http_request_success`). */
async function servedRequests(d: Deployment, replica: number): Promise<number> {
  const res = await d.kesAdmin('GET', '/v1/metrics', undefined, replica);
  assert.equal(res.status, 200, `metrics of replica ${replica + 1}`);
  let total = 0;
  for (const match of res.body.matchAll(/^kes_http_request_success\{[^}]*\} (\d+)$/gm)) total += Number(match[1]);
  return total;
}

describe('distributed MinIO with two KES replicas survives losing one', () => {
  const work = workDir('multi-node');
  let bao: OpenBao | undefined;
  let deployment: Deployment | undefined;
  let clients: S3Client[] = [];
  let mc: Mc;

  before(async () => {
    bao = await startOpenBao();
    const credentials = await applyVaultSetup(bao);
    deployment = await Deployment.start({ dir: work.dir, vault: bao, credentials, kesReplicas: 2, kesWorkers: 1, minioNodes: 2, minioDrives: 2 });
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

  test('killing one replica during a PUT/GET loop loses no request and no object', async (t) => {
    const d = deployment as Deployment;
    const failures: string[] = [];
    const written = new Map<string, string>();
    const baseline = await Promise.all(d.kes.map((_, r) => servedRequests(d, r)));
    let victim = -1;
    let servedBeforeKill = 0;
    let next = 0;
    let killed: Promise<void> | undefined;
    const killBusiest = async () => {
      const served = (await Promise.all(d.kes.map((_, r) => servedRequests(d, r)))).map((n, r) => n - baseline[r]);
      victim = served[0] >= served[1] ? 0 : 1;
      servedBeforeKill = served[victim];
      await d.kes[victim].kill();
    };
    const worker = async () => {
      for (let i = next++; i < OBJECTS; i = next++) {
        if (i === KILL_AT) killed = killBusiest();
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
    const survivor = 1 - victim;
    t.diagnostic(`replica ${victim + 1} killed after serving ${servedBeforeKill} requests of the loop`);
    assert.equal(d.kes[victim].running, false, `replica ${victim + 1} must be dead`);
    assert.equal(d.kes[survivor].running, true, `replica ${survivor + 1} must be alive`);
    // 20 PUT/GET pairs before the kill need at least 40 generate/decrypt calls between the replicas.
    assert.ok(servedBeforeKill >= 10, `the killed replica served only ${servedBeforeKill} requests of the loop`);
    assert.deepEqual(failures, [], `requests failed:\n${d.logTail(20)}`);
    assert.equal(written.size, OBJECTS);

    // Afterwards every object decrypts through either node, with only the survivor left.
    for (const [key, sha] of written) {
      for (const client of clients) {
        const res = await client.send(new GetObjectCommand({ Bucket: 'replicated', Key: key }));
        assert.equal(await sha256OfStream(res.Body as AsyncIterable<Uint8Array>), sha, key);
      }
    }
    const info = await mc.ok(['admin', 'info', 'dist']);
    const kmsStatus = (info.json[0]?.info as { services: { kmsStatus: Array<{ endpoint: string; status: string }> } }).services.kmsStatus;
    const byEndpoint = new Map(kmsStatus.map((s) => [s.endpoint, s.status]));
    assert.notEqual(byEndpoint.get(d.kes[victim].url), 'online');
    assert.equal(byEndpoint.get(d.kes[survivor].url), 'online');
  });
});
