/**
 * `@pulumi/minio` resources through MinIO's S3 API (the AWS SDK's S3 client), field by field as the
 * provider documents them. The provider resource holds the endpoint and root credentials.
 */
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectVersionsCommand, DeleteBucketEncryptionCommand, PutBucketEncryptionCommand, S3Client } from '@aws-sdk/client-s3';
import type { Pending, ProviderModule, TypeRealizer } from './types.ts';

function s3(r: Pending): S3Client {
  const p = r.provider;
  if (!p?.minioServer || !p.minioUser || !p.minioPassword) throw new Error(`realize: ${r.type} ${r.name}: no minio provider with a server and credentials`);
  return new S3Client({
    // Provider inputs reach the engine as strings ("false").
    endpoint: `${String(p.minioSsl) === 'true' ? 'https' : 'http'}://${p.minioServer}`,
    region: p.minioRegion ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: p.minioUser, secretAccessKey: p.minioPassword },
  });
}

async function s3Do<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    throw new Error(`realize: ${what}: MinIO answered ${err.$metadata?.httpStatusCode ?? '?'} ${err.name}: ${err.message}`);
  }
}

async function emptyBucket(c: S3Client, bucket: string, what: string): Promise<void> {
  for (;;) {
    const page = await s3Do(what, () => c.send(new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 1000 })));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
    if (objects.length === 0) return;
    await s3Do(what, () => c.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } })));
  }
}

const provider: TypeRealizer = {
  fields: { minioServer: true, minioUser: true, minioPassword: true, minioSsl: true, minioRegion: true, version: true },
  async create(r) {
    return { id: r.name };
  },
  async delete() {},
};

const bucket: TypeRealizer = {
  fields: { bucket: true, forceDestroy: true },
  async create(r) {
    const c = s3(r);
    await s3Do(`bucket ${r.name}`, () => c.send(new CreateBucketCommand({ Bucket: r.inputs.bucket })));
    return { id: r.inputs.bucket, bucket: r.inputs.bucket };
  },
  async delete(r) {
    // Without forceDestroy a bucket that still holds objects is refused (by MinIO, as by the
    // provider); with it, every object version and delete marker goes first.
    const c = s3(r);
    if (r.inputs.forceDestroy === true) await emptyBucket(c, r.inputs.bucket, `bucket ${r.name}`);
    await s3Do(`bucket ${r.name}`, () => c.send(new DeleteBucketCommand({ Bucket: r.inputs.bucket }))).catch((e: Error) => {
      if (!/answered 404 NoSuchBucket/.test(e.message)) throw e;
    });
  },
};

const encryption: TypeRealizer = {
  fields: { bucket: true, encryptionType: true, kmsKeyId: true },
  async create(r) {
    if (r.inputs.encryptionType !== 'aws:kms') throw new Error(`realize: ${r.name}: only encryptionType aws:kms is realized`);
    const c = s3(r);
    await s3Do(`bucket encryption ${r.name}`, () =>
      c.send(
        new PutBucketEncryptionCommand({
          Bucket: r.inputs.bucket,
          ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: r.inputs.kmsKeyId } }] },
        }),
      ),
    );
    return { id: r.inputs.bucket };
  },
  async delete(r) {
    const c = s3(r);
    await s3Do(`bucket encryption ${r.name}`, () => c.send(new DeleteBucketEncryptionCommand({ Bucket: r.inputs.bucket }))).catch((e: Error) => {
      if (!/answered 404/.test(e.message)) throw e;
    });
  },
};

export const minio: ProviderModule = {
  'pulumi:providers:minio': provider,
  'minio:index/s3Bucket:S3Bucket': bucket,
  'minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption': encryption,
};
