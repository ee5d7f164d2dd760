/** BucketEncryption: a bucket whose default encryption is SSE-KMS with a KES key. */
import * as pulumi from '@pulumi/pulumi';
import * as minio from '@pulumi/minio';
import { requireBucketName, requireKesName } from './render/validate.ts';
import { rethrowAsResourceError } from './errors.ts';

/** Arguments of `BucketEncryption`. Pass `dependsOn` MinIO's readiness and the minio provider in `opts.providers`. */
export interface BucketEncryptionArgs {
  /** Bucket name (S3 rules: 3–63 lower-case letters, digits, dots, hyphens). */
  readonly bucket: string;
  /** KES key used as the bucket's default SSE-KMS key; must exist in KES (MinIO test-generates with it). */
  readonly keyId: string;
  /** Delete objects on bucket destroy; default false. */
  readonly forceDestroy?: boolean;
}

/** A MinIO bucket and its default-encryption rule (SSE-KMS with `keyId`), declared after the bucket. */
export class BucketEncryption extends pulumi.ComponentResource {
  /** The bucket's name. */
  public readonly bucket: pulumi.Output<string>;
  /** Its default SSE-KMS key. */
  public readonly keyId: string;

  constructor(name: string, args: BucketEncryptionArgs, opts?: pulumi.ComponentResourceOptions) {
    super('minio-sse-kes:index:BucketEncryption', name, {}, opts);
    try {
      requireBucketName('bucket', args.bucket);
      requireKesName('keyId', args.keyId);
    } catch (e) {
      rethrowAsResourceError('BucketEncryption', e, this);
    }
    const bucket = new minio.S3Bucket(`${name}-bucket`, { bucket: args.bucket, forceDestroy: args.forceDestroy ?? false }, { parent: this });
    new minio.S3BucketServerSideEncryption(
      `${name}-sse`,
      { bucket: bucket.bucket, encryptionType: 'aws:kms', kmsKeyId: args.keyId },
      { parent: this, dependsOn: [bucket] },
    );
    this.bucket = bucket.bucket;
    this.keyId = args.keyId;
    this.registerOutputs({ bucket: this.bucket, keyId: this.keyId });
  }
}
