/**
 * An ephemeral environment for a CI job, the steps a job with the Pulumi CLI runs
 * (`pulumi up`, wait, check, `pulumi destroy`), performed here by the realization in realize/:
 *
 *   node scripts/ci-stack.ts up    STACK [--config stacks/Pulumi.ci.yaml]
 *   node scripts/ci-stack.ts wait  STACK
 *   node scripts/ci-stack.ts check STACK
 *   node scripts/ci-stack.ts down  STACK
 *
 * The state of STACK (it holds secrets, like Pulumi's state) lives in
 * <cache>/realize/STACK.json, mode 0600 (cache: ~/.cache/minio-sse-kes or MINIO_SSE_KES_CACHE).
 * Images a stack would pull are stood in for by those scripts/images.sh builds.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_MINIO_IMAGE, OPENBAO_IMAGE } from '../components/peers.ts';
import { captureStack } from '../realize/capture.ts';
import { destroy, loadState, saveState, up } from '../realize/index.ts';
import type { StackState } from '../realize/index.ts';
import type { Environment } from '../realize/types.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const cache = process.env.MINIO_SSE_KES_CACHE ?? join(homedir(), '.cache', 'minio-sse-kes');
const [command, stack, ...rest] = process.argv.slice(2);
const usage = 'usage: node scripts/ci-stack.ts up|wait|check|down STACK [--config FILE]';
if (!command || !stack || !/^[a-z][a-z0-9-]{0,25}$/.test(stack)) {
  console.error(usage);
  process.exit(2);
}
const stateFile = join(cache, 'realize', `${stack}.json`);
const say = (line: string) => console.log(`ci-stack ${stack}: ${line}`);

function environment(): Environment {
  const list = execFileSync('bash', [join(root, 'scripts/images.sh'), '--list'], { encoding: 'utf8' });
  const images = Object.fromEntries(list.trim().split('\n').map((l) => l.split(' ')));
  return { standIns: { [OPENBAO_IMAGE]: images.openbao, [DEFAULT_MINIO_IMAGE]: images.minio }, log: (l) => say(l) };
}

function state(): StackState {
  if (!existsSync(stateFile)) throw new Error(`no state for stack ${stack} (run up first)`);
  return loadState(stateFile);
}

/** GET `url` over HTTPS trusting only `ca`; resolves to the status code (0 when unreachable). */
function getStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { ca, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function waitReady(s: StackState): Promise<void> {
  const e = s.exports as { minioEndpoint: string; kesHostEndpoints?: string[]; caCertPem: string };
  const deadline = Date.now() + 180_000;
  for (;;) {
    const minio = await fetch(`http://${e.minioEndpoint}/minio/health/ready`).then((r) => r.status, () => 0);
    const kes = await Promise.all((e.kesHostEndpoints ?? []).map((k) => getStatus(`${k}/v1/ready`, e.caCertPem)));
    if (minio === 200 && kes.every((k) => k === 200)) return say(`ready: MinIO ${e.minioEndpoint}, KES ${(e.kesHostEndpoints ?? []).join(' ')}`);
    if (Date.now() > deadline) throw new Error(`not ready within 180 s (MinIO ${minio}, KES ${kes.join(' ')})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Per bucket: an object PUT is stored with SSE-KMS under the bucket's key and comes back intact. */
async function check(s: StackState): Promise<void> {
  const e = s.exports as { minioEndpoint: string; minioRootUser: string; minioRootPassword: string; buckets: string[] };
  const s3 = new S3Client({ endpoint: `http://${e.minioEndpoint}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: e.minioRootUser, secretAccessKey: e.minioRootPassword } });
  try {
    for (const bucket of e.buckets) {
      const body = randomBytes(64 << 10);
      const key = `ci-check-${randomBytes(4).toString('hex')}`;
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      if (put.ServerSideEncryption !== 'aws:kms') throw new Error(`${bucket}: object stored without SSE-KMS (${put.ServerSideEncryption})`);
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const back = Buffer.from(await got.Body!.transformToByteArray());
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      if (sha(back) !== sha(body)) throw new Error(`${bucket}: the object came back different`);
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      say(`check: ${bucket}: SSE-KMS (${got.SSEKMSKeyId}), ${body.length} bytes back intact`);
    }
  } finally {
    s3.destroy();
  }
}

try {
  const configIndex = rest.indexOf('--config');
  switch (command) {
    case 'up': {
      if (existsSync(stateFile)) throw new Error(`stack ${stack} exists (${stateFile}); run down first`);
      const configFile = configIndex >= 0 ? rest[configIndex + 1] : join(root, 'stacks/Pulumi.ci.yaml');
      const capture = await captureStack({ configFile, stack });
      try {
        saveState(stateFile, await up(capture, environment()));
      } catch (e) {
        const partial = (e as { state?: StackState }).state;
        if (partial) saveState(stateFile, partial);
        throw e;
      }
      say('up');
      break;
    }
    case 'wait':
      await waitReady(state());
      break;
    case 'check':
      await check(state());
      break;
    case 'down': {
      if (!existsSync(stateFile)) {
        say('nothing to tear down');
        break;
      }
      const s = state();
      try {
        await destroy(s, environment());
      } finally {
        if (s.resources.length > 0) saveState(stateFile, s);
        else rmSync(stateFile);
      }
      say('down');
      break;
    }
    default:
      console.error(usage);
      process.exit(2);
  }
} catch (e) {
  console.error(`ci-stack ${stack}: ${(e as Error).message}`);
  process.exit(1);
}
