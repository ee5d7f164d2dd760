/**
 * The argument types tell the truth: each target's arguments are required by the type checker
 * (`npm test` type-checks this file, so each `@ts-expect-error` below must stay an error), and the
 * same mistakes from untyped JavaScript are refused at run time, naming the argument.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateKesDeploymentArgs, validateMinioClusterArgs, validateMinioSseKesArgs } from '../../components/index.ts';
import type { KesDeploymentArgs, MinioClusterArgs, MinioSseKesArgs } from '../../components/index.ts';

const vault = { mode: 'existing', address: 'https://vault.example.net:8200', token: 't' } as const;

// @ts-expect-error an ephemeral OpenBao exists only on the docker target
const ephemeralOnKubernetes: MinioSseKesArgs = { target: 'kubernetes', vault: { mode: 'ephemeral' }, defaultKey: 'k', kesImage: 'i', kubernetes: { namespace: 'n' } };
// @ts-expect-error the kubernetes target needs a pushed KES image
const noImage: MinioSseKesArgs = { target: 'kubernetes', vault, defaultKey: 'k', kubernetes: { namespace: 'n' } };
// @ts-expect-error the linux target needs its hosts
const noHosts: MinioSseKesArgs = { target: 'linux', vault, defaultKey: 'k' };
// @ts-expect-error docker settings do not belong to the linux target
const dockerOnLinux: MinioSseKesArgs = { target: 'linux', vault, defaultKey: 'k', linux: { kesHosts: [], minioHosts: [] }, docker: { minioHostPort: 9000 } };
const kesBase = {
  vault: { endpoint: 'https://v:8200', engine: 'kv', version: 'v1', prefix: '', approlePath: 'approle' },
  roleId: 'r',
  secretId: 's',
  serverCertPem: 'c',
  serverPrivateKeyPem: 'k',
  adminIdentity: 'a',
  minioIdentity: 'm',
  keys: ['k'],
} as const;
// @ts-expect-error the docker target needs the network
const kesNoNetwork: KesDeploymentArgs = { ...kesBase, target: 'docker' };
// @ts-expect-error the kubernetes target needs a namespace
const minioNoNamespace: MinioClusterArgs = { target: 'kubernetes', kes: { endpoints: [], caCertPem: '', defaultKeyName: 'k' } };

test('the mistakes the types refuse are refused at run time too, naming the argument', () => {
  const cases: Array<[() => void, RegExp]> = [
    [() => validateMinioSseKesArgs(ephemeralOnKubernetes), /invalid \[vault\.mode\]: an ephemeral OpenBao needs the docker target/],
    [() => validateMinioSseKesArgs(noImage), /invalid \[kesImage\]: the kubernetes target needs a pushed image/],
    [() => validateMinioSseKesArgs(noHosts), /invalid \[linux\.kesHosts\]: at least one host/],
    [() => validateKesDeploymentArgs(kesNoNetwork), /invalid \[docker\]: required for the docker target/],
    [() => validateMinioClusterArgs(minioNoNamespace), /invalid \[kubernetes\.namespace\]: must be a lower-case DNS label/],
  ];
  for (const [run, re] of cases) assert.throws(run, re);
  // Settings of another target are ignored at run time (the type refuses them).
  assert.throws(() => validateMinioSseKesArgs(dockerOnLinux), /invalid \[linux\.kesHosts\]/);
});
