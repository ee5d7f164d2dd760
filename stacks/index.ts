/**
 * The one stack: reads and validates the configuration (before any resource), then declares
 * MinioSseKes. Stack settings live in `stacks/Pulumi.<stack>.yaml`.
 */
import * as pulumi from '@pulumi/pulumi';
import { MinioSseKes } from '../components/index.ts';
import { readStackConfig } from './config.ts';

const config = new pulumi.Config();
const args = readStackConfig((key) => config.get(key), process.env);
// readStackConfig always sets the token of an existing Vault; it is a secret from here on.
const secretArgs =
  args.vault.mode === 'existing' ? { ...args, vault: { ...args.vault, token: pulumi.secret(args.vault.token as string) } } : args;

const system = new MinioSseKes('sse', secretArgs);

export const kesEndpoints = system.kesEndpoints;
export const minioEndpoint = system.minioEndpoint;
export const minioRootUser = system.minioRootUser;
export const minioRootPassword = system.minioRootPassword;
export const adminIdentity = system.adminIdentity;
export const minioIdentity = system.minioIdentity;
export const caCertPem = system.caCertPem;
export const buckets = system.buckets;
