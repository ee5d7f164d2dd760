/**
 * The stack program for `Pulumi.kubernetes.yaml`, captured under mocks and realized by `realize/`
 * on the local cluster, an OpenBao and MinIO; and the way the machine running "Pulumi" reaches
 * MinIO inside the cluster: a loopback relay to the MinIO Service, found through the cluster's DNS
 * (what `kubectl port-forward` gives an operator).
 */
import { createConnection, createServer } from 'node:net';
import type { Server } from 'node:net';
import { Resolver } from 'node:dns/promises';
import { NODE_IP } from './cluster.ts';

/** Cluster DNS from the machine: asks the cluster's DNS server only, never the machine's resolver. */
export async function resolveInCluster(host: string): Promise<string> {
  const r = new Resolver({ timeout: 2000, tries: 2 });
  r.setServers([NODE_IP]);
  const [ip] = await r.resolve4(host);
  return ip;
}

/** A loopback port relaying each connection to `host():port`, resolved in the cluster at connect time. */
export async function clusterRelay(host: () => string, port: number): Promise<{ readonly address: string; close(): Promise<void> }> {
  const server: Server = createServer((client) => {
    client.pause();
    resolveInCluster(host()).then(
      (ip) => {
        const upstream = createConnection({ host: ip, port }, () => {
          client.pipe(upstream).pipe(client);
          client.resume();
        });
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      },
      () => client.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address() as { port: number };
  return {
    address: `127.0.0.1:${addr.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
