/**
 * KES on Linux hosts: our server and a Node runtime for the host's architecture, installed into
 * `/opt/kes-server/releases/<id>/{node,app}` and switched through `/opt/kes-server/current`.
 */
import * as pulumi from '@pulumi/pulumi';
import { basename } from 'node:path';
import { KES_PORT } from '../../render/kes-config.ts';
import { NODE_VERSION, UNAME_OF, kesServerArchive, nodeRuntimeArchive } from './artifacts.ts';
import { UPLOAD_DIR } from './install.ts';
import type { HostRelease, LinuxHost } from './install.ts';

/** Install root of the KES server on a host. */
export const KES_ROOT = '/opt/kes-server';

/** What the unit runs: the current release's Node and server entry point. */
export const KES_NODE = `${KES_ROOT}/current/node/bin/node`;
export const KES_ENTRY = `${KES_ROOT}/current/app/kes-server/src/cli/main.ts`;

/** Healthy once the local listener answers `/v1/ready` (the rendered config skips auth there). */
export const KES_HEALTH_COMMAND = `KES_HEALTHCHECK_ADDR=127.0.0.1:${KES_PORT} ${KES_NODE} ${KES_ROOT}/current/app/kes-server/src/cli/healthcheck.ts`;

/** The archives and the release for one host. */
export function kesRelease(host: LinuxHost): HostRelease {
  const arch = host.arch ?? 'x64';
  const app = kesServerArchive();
  const node = pulumi.output(nodeRuntimeArchive(arch));
  const appFile = basename(app.path);
  const nodeFile = `node-linux-${arch}-${NODE_VERSION}.tgz`;
  return {
    uploads: [
      { key: 'kes-server', artifact: app, fileName: appFile },
      { key: 'node', artifact: node, fileName: nodeFile },
    ],
    release: node.apply((n) => ({
      root: KES_ROOT,
      id: `${app.sha256.slice(0, 16)}-node${NODE_VERSION}-${arch}`,
      machine: UNAME_OF[arch],
      parts: [
        { archive: `${UPLOAD_DIR}/${nodeFile}`, sha256: n.sha256, into: 'node', stripComponents: 1 },
        { archive: `${UPLOAD_DIR}/${appFile}`, sha256: app.sha256, into: 'app' },
      ],
    })),
  };
}
