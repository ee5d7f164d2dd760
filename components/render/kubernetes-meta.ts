/**
 * What every Kubernetes renderer shares: the object shape, the name check and the app labels.
 */
import { RenderError, sortedRecord } from './validate.ts';

/** A Kubernetes object as plain data. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly [field: string]: unknown;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Throws `RenderError` unless `name` is a DNS-1123 label (names of Services, Deployments, …). */
export function requireDnsLabel(field: string, name: string): void {
  if (!DNS_LABEL.test(name) || name.length > 52) {
    throw new RenderError('INVALID_ARGUMENT', field, 'must be a lower-case DNS label of at most 52 characters');
  }
}

/** The recommended app labels of one component. */
export function appLabels(name: string, component: string): Record<string, string> {
  return sortedRecord({ 'app.kubernetes.io/name': component, 'app.kubernetes.io/instance': name, 'app.kubernetes.io/part-of': 'minio-sse-kes' });
}
