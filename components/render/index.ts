/** Pure renderers (no Pulumi): configuration files, units, Kubernetes objects, certificate specs. */
export * from './validate.ts';
export * from './pki.ts';
export * from './kes-config.ts';
export * from './minio-env.ts';
export * from './systemd.ts';
export * from './kubernetes.ts';
export * from './install-script.ts';
export * from './vault.ts';
