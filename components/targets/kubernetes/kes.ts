/** KES on Kubernetes: ConfigMap, Secret, Deployment, Service and PodDisruptionBudget. */
import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import { createHash } from 'node:crypto';
import { kesKubernetesObjects } from '../../render/kubernetes.ts';

export function declareKubernetesKes(
  parent: pulumi.Resource,
  name: string,
  a: {
    readonly serviceName: string;
    readonly namespace: string;
    readonly replicas: number;
    readonly image: pulumi.Input<string>;
    readonly configYaml: pulumi.Input<string>;
    readonly files: Record<string, pulumi.Input<string>>;
    readonly env: Record<string, pulumi.Input<string>>;
  },
): { deployment: k8s.apps.v1.Deployment; service: k8s.core.v1.Service } {
  const checksum = pulumi
    .all([a.configYaml, ...Object.keys(a.files).sort().map((k) => a.files[k])])
    .apply((contents) => createHash('sha256').update(contents.join('\0')).digest('hex'));
  const objs = kesKubernetesObjects<pulumi.Input<string>>({
    name: a.serviceName,
    namespace: a.namespace,
    image: a.image,
    replicas: a.replicas,
    configYaml: a.configYaml,
    // The checksum covers private keys: hash output only, never the content.
    configChecksum: pulumi.unsecret(checksum),
    tlsFiles: a.files,
    secretEnv: a.env,
  });
  const opts = { parent };
  const configMap = new k8s.core.v1.ConfigMap(`${name}-config`, objs.configMap, opts);
  const secret = new k8s.core.v1.Secret(`${name}-secret`, { ...objs.secret, stringData: pulumi.secret(objs.secret.stringData) }, opts);
  const deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, objs.deployment, { parent, dependsOn: [configMap, secret] });
  const service = new k8s.core.v1.Service(`${name}-service`, objs.service, opts);
  new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, objs.podDisruptionBudget, opts);
  return { deployment, service };
}
