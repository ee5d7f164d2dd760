/** MinIO nodes as Docker containers (one volume per drive), health-checked with `mc ready local`. */
import * as pulumi from '@pulumi/pulumi';
import * as docker from '@pulumi/docker';
import { minioVolumes } from '../../render/minio-env.ts';

export function declareDockerMinio(
  parent: pulumi.Resource,
  name: string,
  a: {
    readonly image: string;
    readonly nodes: number;
    readonly drivesPerNode: number;
    readonly network: pulumi.Input<string>;
    readonly hostPort: number;
    readonly env: pulumi.Output<Record<string, string>>;
    readonly files: Record<string, pulumi.Input<string>>;
    /** Leave the data volumes in place on destroy. */
    readonly retainVolumes: boolean;
    /** What the nodes wait for (KES): a component's dependsOn does not reach its children. */
    readonly dependsOn?: pulumi.ResourceOptions['dependsOn'];
  },
): { containers: docker.Container[]; endpoint: string; volumes: string } {
  const image = new docker.RemoteImage(`${name}-image`, { name: a.image, keepLocally: true }, { parent });
  const prefix = `${name}-`;
  const volumes = minioVolumes({ nodes: a.nodes, drivesPerNode: a.drivesPerNode, dataRoot: '/data', hostPrefix: prefix });
  const envs = pulumi.secret(a.env.apply((e) => Object.keys({ ...e, MINIO_VOLUMES: '' }).sort().map((k) => `${k}=${k === 'MINIO_VOLUMES' ? volumes : e[k]}`)));
  const uploads = Object.keys(a.files).sort().map((file) => ({ file, content: a.files[file] }));
  const drives = a.drivesPerNode === 1 ? ['/data'] : Array.from({ length: a.drivesPerNode }, (_, d) => `/data${d + 1}`);
  const containers: docker.Container[] = [];
  for (let i = 1; i <= a.nodes; i++) {
    const cname = `${prefix}${i}`;
    const mounts = drives.map((path, d) => {
      const vol = new docker.Volume(`${cname}-data${d + 1}`, { name: `${cname}-data${d + 1}` }, { parent, retainOnDelete: a.retainVolumes });
      return { volumeName: vol.name, containerPath: path };
    });
    containers.push(
      new docker.Container(
        cname,
        {
          name: cname,
          hostname: cname,
          image: image.imageId,
          command: ['server', '--console-address', ':9001'],
          envs,
          uploads,
          volumes: mounts,
          networksAdvanced: [{ name: a.network, aliases: [cname] }],
          // Only the first node is published, on loopback: the provider and tests reach MinIO there.
          ports: i === 1 ? [{ internal: 9000, external: a.hostPort, ip: '127.0.0.1' }] : [],
          healthcheck: { tests: ['CMD', 'mc', 'ready', 'local'], interval: '5s', timeout: '5s', retries: 24, startPeriod: '5s' },
          wait: true,
          waitTimeout: 180,
          restart: 'unless-stopped',
        },
        { parent, dependsOn: a.dependsOn },
      ),
    );
  }
  return { containers, endpoint: `127.0.0.1:${a.hostPort}`, volumes };
}
