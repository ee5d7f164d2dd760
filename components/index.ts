/** Public API of the minio-sse-kes component package. */
export * from './vault-backend.ts';
export * from './pki.ts';
export * from './kes-deployment.ts';
export * from './minio.ts';
export * from './bucket-encryption.ts';
export * from './stack.ts';
export * as render from './render/index.ts';
