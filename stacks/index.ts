/**
 * The one stack: reads and validates the configuration (before any resource), then declares
 * MinioSseKes. Stack settings live in `stacks/Pulumi.<stack>.yaml`; `Pulumi.yaml` runs this
 * through `stacks/main.js`, which checks the Node version first.
 */
import * as pulumi from '@pulumi/pulumi';
import { MinioSseKes } from '../components/index.ts';
import { readStackConfig, stackNamePrefix } from './config.ts';

const config = new pulumi.Config();
const get = (key: string) => config.get(key);
const stack = pulumi.getStack();
// Secrets (vaultToken, sshPrivateKey) are read as secrets and stay Outputs from here on.
const args = readStackConfig(get, process.env, stack, (key) => config.getSecret(key));
const system = new MinioSseKes(stackNamePrefix(get, stack), args);

/** KES URLs as MinIO reaches them. */
export const kesEndpoints = system.kesEndpoints;
/** KES URLs on the Docker host's loopback, for the `kes` CLI. */
export const kesHostEndpoints = system.kesHostEndpoints;
/** MinIO's S3 API `host:port`. */
export const minioEndpoint = system.minioEndpoint;
export const minioRootUser = system.minioRootUser;
/** Secret. */
export const minioRootPassword = system.minioRootPassword;
export const adminIdentity = system.adminIdentity;
/** The KES admin's client certificate and key (key secret): `kes --cert/--key`. */
export const adminCertPem = system.adminCertPem;
export const adminPrivateKeyPem = system.adminPrivateKeyPem;
export const minioIdentity = system.minioIdentity;
/** The CA of KES's server certificate: `kes --ca`. */
export const caCertPem = system.caCertPem;
/** Expiry of each certificate (RFC 3339). */
export const certificateExpiry = system.certificateExpiry;
export const buckets = system.buckets;
/** Ephemeral OpenBao only: its root token (secret). */
export const openbaoRootToken = system.openbaoRootToken;
