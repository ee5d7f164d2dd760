/**
 * Schema checks for Kubernetes objects: the OpenAPI validators of `kubernetes-models` per kind,
 * and the MinIO Operator Tenant against `test/fixtures/minio-tenant-v2.schema.json`: a hand-written
 * subset of the operator v7.1.1 `minio.min.io/v2` Tenant schema, written from the documented
 * TenantSpec fields (not the CRD file itself); unknown spec fields are rejected.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';

const models: Record<string, new (o: never) => { validate(): void }> = { ConfigMap, Secret, Service, Deployment, StatefulSet, PodDisruptionBudget };

/** Throws unless `obj` is valid for the OpenAPI schema of its `kind` (an unknown kind throws too). */
export function validateK8s(obj: unknown): void {
  const kind = (obj as { kind?: string }).kind ?? '';
  const Model = models[kind];
  if (!Model) throw new Error(`no schema for kind ${JSON.stringify(kind)}`);
  new Model(obj as never).validate();
}

const tenantSchema = JSON.parse(readFileSync(new URL('../fixtures/minio-tenant-v2.schema.json', import.meta.url), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: false });
const tenant = ajv.compile(tenantSchema);

/** Errors of a Tenant against the CRD schema subset; `[]` when valid. */
export function tenantErrors(obj: unknown): string[] {
  return tenant(obj) ? [] : (tenant.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}
