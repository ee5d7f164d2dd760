/**
 * What a misconfigured KES policy does to MinIO, on real peers: a MinIO client certificate whose
 * identity the policy does not name, and a policy that does not grant `/v1/key/generate/` for the
 * key an upload asks for.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { Deployment, applyVaultSetup } from '../../sandbox/deployment.ts';
import { Mc, describeError } from '../../sandbox/mc.ts';
import { startOpenBao } from '../../sandbox/openbao.ts';
import type { OpenBao } from '../../sandbox/openbao.ts';
import { kesRequest } from '../../sandbox/kes-process.ts';
import { createCertificate } from '../../kes-server/src/tls/x509.ts';
import { s3Client, testData, workDir } from './helpers.ts';

const KMS_DENIED = 'insufficient permissions to perform KMS operation';

describe('MinIO whose client certificate is not in the KES policy', () => {
  const work = workDir('unknown-identity');
  let bao: OpenBao | undefined;
  let deployment: Deployment | undefined;
  let s3: S3Client | undefined;

  before(async () => {
    bao = await startOpenBao();
    const credentials = await applyVaultSetup(bao);
    deployment = await Deployment.start({ dir: work.dir, vault: bao, credentials, minioIdentityKnown: false, startMinio: false });
  });
  after(async () => {
    s3?.destroy();
    await deployment?.stop();
    await bao?.stop();
    work.remove();
  });

  test('KES refuses the identity, MinIO reports the KMS permission error and encrypts nothing', async () => {
    const d = deployment as Deployment;
    const presented = d.minioEnv.MINIO_KMS_KES_CERT_FILE ?? '';
    assert.notEqual(presented, d.pki.minio.certFile, 'MinIO must present a certificate other than the one the policy names');

    d.minio.launch(d.minioEnv);
    const proc = d.minio.processes[0];
    // MinIO either exits or keeps running with the KMS error logged; wait (bounded) for either.
    for (let i = 0; i < 150 && proc.running && !proc.log().includes(KMS_DENIED); i++) await sleep(200);
    assert.ok(proc.log().includes(KMS_DENIED), `MinIO did not report the KMS permission error:\n${proc.tail(40)}`);

    if (proc.running) {
      s3 = s3Client(d.minio.endpoint, d.minio.rootUser, d.minio.rootPassword);
      await s3.send(new CreateBucketCommand({ Bucket: 'refused' }));
      await assert.rejects(
        s3.send(new PutObjectCommand({ Bucket: 'refused', Key: 'x.bin', Body: testData('x', 1000), ServerSideEncryption: 'AES256' })),
        (error: Error) => {
          assert.equal(error.message, KMS_DENIED);
          return true;
        },
      );
    }

    // The refusal is about the identity alone: the identity the policy names may create and
    // describe a key, the presented one may not even describe it.
    const policyIdentity = { ca: d.pki.caPem, cert: d.pki.minio.certPem, key: d.pki.minio.keyPem };
    assert.equal((await kesRequest(d.kes[0].url, '/v1/key/create/identity-check', { ...policyIdentity, method: 'POST' })).status, 200);
    assert.equal((await kesRequest(d.kes[0].url, '/v1/key/describe/identity-check', policyIdentity)).status, 200);
    const asPresented = await kesRequest(d.kes[0].url, '/v1/key/describe/identity-check', {
      ca: d.pki.caPem,
      cert: readFileSync(presented, 'utf8'),
      key: readFileSync(d.minioEnv.MINIO_KMS_KES_KEY_FILE ?? '', 'utf8'),
    });
    assert.equal(asPresented.status, 403);
    assert.equal(JSON.parse(asPresented.body).message, 'not authorized: insufficient permissions');
  });

  test('the deployed KES verifies client certificates: the policy identity\'s own key in a self-signed certificate is refused', async () => {
    const d = deployment as Deployment;
    assert.match(readFileSync(d.kes[0].options.configFile, 'utf8'), /^ {2}auth: "?on"?$/m);
    const key = createPrivateKey(d.pki.minio.keyPem);
    const selfSigned = createCertificate({ commonName: 'minio', publicKey: createPublicKey(key), signingKey: key, notAfter: new Date(Date.now() + 3_600_000), extKeyUsage: ['clientAuth'] });
    await assert.rejects(kesRequest(d.kes[0].url, '/v1/key/describe/identity-check', { ca: d.pki.caPem, cert: selfSigned, key: d.pki.minio.keyPem }));
    // The same key in the CA-issued certificate is served.
    const issued = await kesRequest(d.kes[0].url, '/v1/key/describe/identity-check', { ca: d.pki.caPem, cert: d.pki.minio.certPem, key: d.pki.minio.keyPem });
    assert.equal(issued.status, 200);
  });
});

describe('KES policy without /v1/key/generate/ for the requested key', () => {
  const work = workDir('no-generate');
  let bao: OpenBao | undefined;
  let deployment: Deployment | undefined;
  let s3: S3Client | undefined;
  let mc: Mc;

  before(async () => {
    bao = await startOpenBao();
    const credentials = await applyVaultSetup(bao);
    // MinIO's policy covers keys named minio-* only.
    deployment = await Deployment.start({ dir: work.dir, vault: bao, credentials, keyPatterns: ['minio-*'], defaultKey: 'minio-default' });
    s3 = s3Client(deployment.minio.endpoint, deployment.minio.rootUser, deployment.minio.rootPassword);
    mc = new Mc(join(work.dir, 'mc'));
    await mc.aliasSet('neg', deployment.minio.endpoint, deployment.minio.rootUser, deployment.minio.rootPassword);
  });
  after(async () => {
    s3?.destroy();
    await deployment?.stop();
    await bao?.stop();
    work.remove();
  });

  test('the rendered policy grants generate only for the allowed key pattern', async () => {
    const config = readFileSync(join(work.dir, 'kes-1.yml'), 'utf8');
    assert.match(config, /\/v1\/key\/generate\/minio-\*/);
    assert.doesNotMatch(config, /\/v1\/key\/generate\/\*/);
  });

  test('an upload with a key outside the policy fails with the KMS permission error; an allowed key works', async () => {
    const d = deployment as Deployment;
    // The key exists (the KES admin creates it), so only the policy stands in the way.
    const created = await d.kesAdmin('POST', '/v1/key/create/restricted-key');
    assert.equal(created.status, 200, created.body);
    await mc.ok(['admin', 'kms', 'key', 'create', 'neg', 'minio-data']);
    const c = s3 as S3Client;
    await c.send(new CreateBucketCommand({ Bucket: 'policy' }));

    await assert.rejects(
      c.send(new PutObjectCommand({ Bucket: 'policy', Key: 'denied.bin', Body: testData('d', 1000), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'restricted-key' })),
      (error: Error) => {
        assert.match(error.message, /insufficient permissions|not authorized/i);
        return true;
      },
    );
    const setDefault = await mc.run(['encrypt', 'set', 'sse-kms', 'restricted-key', 'neg/policy']);
    assert.notEqual(setDefault.code, 0);
    assert.match(describeError(setDefault), /insufficient permissions|not authorized/i);

    const allowed = await c.send(
      new PutObjectCommand({ Bucket: 'policy', Key: 'allowed.bin', Body: testData('a', 1000), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'minio-data' }),
    );
    assert.equal(allowed.SSEKMSKeyId, 'arn:aws:kms:minio-data');
    const listed = await mc.ok(['ls', 'neg/policy']);
    assert.deepEqual(listed.json.map((doc) => doc.key), ['allowed.bin']);
  });
});
