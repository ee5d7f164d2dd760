/**
 * The one stack: reads and validates the configuration (before any resource), then declares
 * MinioSseKes. Stack settings live in `stacks/Pulumi.<stack>.yaml`.
 */
import * as pulumi from '@pulumi/pulumi';
import { MinioSseKes } from '../components/index.ts';
import { readStackConfig, stackNamePrefix } from './config.ts';

const config = new pulumi.Config();
const get = (key: string) => config.get(key);
const name = stackNamePrefix(get, pulumi.getStack());
const args = readStackConfig(get, process.env, pulumi.getStack());
// readStackConfig always sets the token of an existing Vault; it is a secret from here on.
const secretArgs =
  args.vault.mode === 'existing' ? { ...args, vault: { ...args.vault, token: pulumi.secret(args.vault.token as string) } } : args;

const system = new MinioSseKes(name, secretArgs);

export const kesEndpoints = system.kesEndpoints;
export const kesHostEndpoints = system.kesHostEndpoints;
export const minioEndpoint = system.minioEndpoint;
export const minioRootUser = system.minioRootUser;
export const minioRootPassword = system.minioRootPassword;
export const adminIdentity = system.adminIdentity;
export const minioIdentity = system.minioIdentity;
export const caCertPem = system.caCertPem;
export const buckets = system.buckets;
