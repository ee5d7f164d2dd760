/** What the realization driver hands to a provider module, and what a module provides. */
import type { FieldSpec } from './fields.ts';

/** A resource ready to be realized: its inputs with every token replaced by the real value. */
export interface Pending {
  readonly key: string;
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  /** Inputs of its explicit provider resource (resolved), if it has one. */
  readonly provider?: Record<string, any>;
}

/** A realized resource as the state keeps it. */
export interface Realized extends Pending {
  readonly outputs: Record<string, any>;
  readonly retainOnDelete: boolean;
  /** Keys of the resources it was realized after (they are deleted after it). */
  readonly prerequisites: readonly string[];
}

/** Settings of one realization run that are facts of the machine, not of the stack. */
export interface Environment {
  /** Images a `RemoteImage` would pull, by name, and the local image standing in for each. */
  readonly standIns?: Readonly<Record<string, string>>;
  /** Progress lines (resource type and name only, never values). */
  readonly log?: (line: string) => void;
  /** The kubeconfig file the default Kubernetes provider uses (else `KUBECONFIG`). */
  readonly kubeconfig?: string;
}

/** How one resource type is created and deleted. */
export interface TypeRealizer {
  /** Every input field it translates. */
  readonly fields: FieldSpec;
  /** Creates the resource; returns its outputs (at least `id`). */
  create(r: Pending, env: Environment): Promise<Record<string, any>>;
  /** Deletes it (not called for resources the stack retains). */
  delete(r: Realized, env: Environment): Promise<void>;
}

/** A provider module: its resource types and, for explicit providers, `pulumi:providers:<pkg>`. */
export type ProviderModule = Readonly<Record<string, TypeRealizer>>;
