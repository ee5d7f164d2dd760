/** KES replicas as Docker containers on one network, built from the repository's `kes-server/`. */
import * as pulumi from '@pulumi/pulumi';
import * as docker from '@pulumi/docker';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';

/** Build context of the KES image: the repository root (kes-server/Dockerfile needs the lockfile there). */
export const kesServerContext = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The CA certificates of the machine's `NODE_EXTRA_CA_CERTS` that Node does not already trust (a
 * TLS-inspecting proxy's), for npm in the image's dependency stage (build argument `NPM_CA_CERTS`;
 * the final image holds none of them). Empty on a machine without such a CA.
 */
export function npmBuildCaCerts(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (!file) return '';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  const known = new Set(rootCertificates.map((c) => c.replace(/\s+/g, '')));
  const pems = text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  return pems.filter((p) => !known.has(p.replace(/\s+/g, ''))).join('\n');
}

/** Container names of the replicas; also the certificate SANs. */
export function kesContainerNames(name: string, replicas: number): string[] {
  return Array.from({ length: replicas }, (_, i) => `${name}-kes-${i}`);
}

/** Declares the image (unless given) and one container per replica. */
export function declareDockerKes(
  parent: pulumi.Resource,
  name: string,
  a: {
    readonly replicas: number;
    readonly image?: pulumi.Input<string>;
    readonly network: pulumi.Input<string>;
    /** First loopback host port; replica i is published at `hostPort + i`. */
    readonly hostPort?: number;
    readonly serviceName: string;
    readonly files: Record<string, pulumi.Input<string>>;
    readonly env: Record<string, pulumi.Input<string>>;
    readonly configFile: string;
  },
): { containers: docker.Container[]; image: pulumi.Output<string> } {
  let image: pulumi.Output<string>;
  if (a.image !== undefined) image = pulumi.output(a.image);
  else {
    const ca = npmBuildCaCerts();
    const built = new docker.Image(
      `${name}-image`,
      {
        imageName: 'minio-sse-kes/kes-server:local',
        build: { context: kesServerContext, dockerfile: `${kesServerContext}kes-server/Dockerfile`, ...(ca ? { args: { NPM_CA_CERTS: ca } } : {}) },
        skipPush: true,
      },
      { parent },
    );
    image = built.imageName;
  }
  const envs = pulumi.secret(
    pulumi.all(Object.keys(a.env).sort().map((k) => pulumi.interpolate`${k}=${a.env[k]}`)),
  );
  const uploads = Object.keys(a.files)
    .sort()
    .map((file) => ({ file, content: a.files[file] }));
  const containers = kesContainerNames(name, a.replicas).map(
    (cname, i) =>
      new docker.Container(
        cname,
        {
          name: cname,
          hostname: cname,
          image,
          command: ['server', '--config', a.configFile],
          envs,
          uploads,
          networksAdvanced: [{ name: a.network, aliases: [a.serviceName] }],
          restart: 'unless-stopped',
          // No read-only root filesystem: the daemon refuses uploads into one (files arrive by upload).
          capabilities: { drops: ['ALL'] },
          ports: a.hostPort === undefined ? [] : [{ internal: 7373, external: a.hostPort + i, ip: '127.0.0.1' }],
          // Created only once healthy (the image's HEALTHCHECK asks /v1/ready), so MinIO finds KES serving.
          wait: true,
          waitTimeout: 120,
        },
        { parent },
      ),
  );
  return { containers, image };
}
