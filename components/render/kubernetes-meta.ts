/**
 * What every Kubernetes renderer shares: the object shape, the name check and the app labels.
 */
import { sortedRecord } from './validate.ts';

/** A Kubernetes object as plain data. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly [field: string]: unknown;
}

export { requireDnsLabel } from './validate.ts';

/** The recommended app labels of one component. */
export function appLabels(name: string, component: string): Record<string, string> {
  return sortedRecord({ 'app.kubernetes.io/name': component, 'app.kubernetes.io/instance': name, 'app.kubernetes.io/part-of': 'minio-sse-kes' });
}
