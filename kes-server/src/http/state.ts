/** Everything a request handler may use. Built whole and swapped whole on reload (docs/protocol.md#config-reload). */
import type { PolicySet } from '../auth/policy.ts';
import type { KeyCache } from '../cache/key-cache.ts';
import type { AuditLog } from '../log/audit-log.ts';
import type { ErrorLog } from '../log/error-log.ts';
import type { Metrics, MetricsSnapshot } from '../metrics/metrics.ts';
import type { Route } from './route.ts';

export interface BuildInfo {
  readonly version: string;
  readonly commit: string;
}

export interface ServerState {
  readonly cache: KeyCache;
  readonly policies: PolicySet;
  /** The effective route table, API overrides applied (reported by `/v1/api`). */
  readonly routes: readonly Route[];
  /** Server start: the synthetic `created_at` of policies and identities. */
  readonly startTime: Date;
  readonly errorLog: ErrorLog;
  readonly auditLog: AuditLog;
  readonly metrics: Metrics;
  /** The counters of every worker process serving the port (one entry with a single process). */
  readonly collectMetrics: () => Promise<readonly MetricsSnapshot[]>;
  /**
   * Drops a deleted key from the caches of the other worker processes serving the port and
   * resolves once they did (or gave up waiting; nothing to do with a single process). Never rejects.
   */
  readonly evictFromOtherWorkers: (name: string) => Promise<void>;
  readonly build: BuildInfo;
  /** Number of worker processes serving the port (reported as threads). */
  readonly workers: number;
  /** Randomness for data keys and HMAC keys of imports. */
  readonly random: (n: number) => Uint8Array;
}
