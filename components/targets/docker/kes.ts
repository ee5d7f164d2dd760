/** KES replicas as Docker containers on one network, built from the repository's `kes-server/`. */
import * as pulumi from '@pulumi/pulumi';
import * as docker from '@pulumi/docker';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';

/** Build context of the KES image: the package's `kes-server/` folder (it holds the Dockerfile and its lockfile). */
export const kesServerContext = fileURLToPath(new URL('../../../kes-server/', import.meta.url));

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

/** The tmpfs that holds a KES container's config and TLS files (owned by the image's uid 1000). */
export const KES_FILES_DIR = '/etc/kes';
/** Environment variables carrying those files: `KES_FILE_<n>`, in the order of their paths. */
export const KES_FILE_ENV = 'KES_FILE_';

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The container's start-up line: write each file from its variable (mode 0600), then replace the
 * shell by the server (the image's `node src/cli/main.ts`) without those variables.
 */
export function kesStartScript(paths: readonly string[], configFile: string): string {
  for (const p of [...paths, configFile]) {
    if (!p.startsWith(`${KES_FILES_DIR}/`)) throw new Error(`invalid [files]: ${p} is outside ${KES_FILES_DIR}`);
  }
  const dirs = [...new Set(paths.map((p) => p.slice(0, p.lastIndexOf('/'))))].filter((d) => d !== KES_FILES_DIR);
  return [
    'set -e',
    'umask 077',
    ...(dirs.length ? [`mkdir -p ${dirs.map(shellQuote).join(' ')}`] : []),
    ...paths.map((p, i) => `printf '%s' "$${KES_FILE_ENV}${i}" > ${shellQuote(p)}`),
    `exec env ${paths.map((_, i) => `-u ${KES_FILE_ENV}${i}`).join(' ')} node src/cli/main.ts server --config ${shellQuote(configFile)}`,
  ].join('\n');
}

/** The files a KES container writes at start, read back from its `entrypoints` and `envs` inputs. */
export function kesContainerFiles(inputs: { entrypoints: string[]; envs: string[] }): Array<{ file: string; content: string }> {
  const env = new Map(inputs.envs.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  return [...inputs.entrypoints[2].matchAll(/^printf '%s' "\$(\w+)" > '([^']+)'$/gm)].map((m) => ({ file: m[2], content: env.get(m[1]) ?? '' }));
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
        build: { context: kesServerContext, dockerfile: `${kesServerContext}Dockerfile`, ...(ca ? { args: { NPM_CA_CERTS: ca } } : {}) },
        skipPush: true,
      },
      { parent },
    );
    image = built.imageName;
  }
  // The root file system is read-only, and the daemon refuses uploads into one: the files travel
  // in the environment and a start-up line writes them into a tmpfs only the `node` user reads.
  const paths = Object.keys(a.files).sort();
  const envs = pulumi.secret(
    pulumi.all([
      ...paths.map((p, i) => pulumi.interpolate`${KES_FILE_ENV}${i}=${a.files[p]}`),
      ...Object.keys(a.env).sort().map((k) => pulumi.interpolate`${k}=${a.env[k]}`),
    ]),
  );
  const entrypoints = ['/bin/sh', '-c', kesStartScript(paths, a.configFile)];
  const containers = kesContainerNames(name, a.replicas).map(
    (cname, i) =>
      new docker.Container(
        cname,
        {
          name: cname,
          hostname: cname,
          image,
          entrypoints,
          envs,
          networksAdvanced: [{ name: a.network, aliases: [a.serviceName] }],
          restart: 'unless-stopped',
          readOnly: true,
          tmpfs: { [KES_FILES_DIR]: 'rw,noexec,nosuid,size=1m,uid=1000,gid=1000,mode=0700' },
          capabilities: { drops: ['ALL'] },
          securityOpts: ['no-new-privileges'],
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
