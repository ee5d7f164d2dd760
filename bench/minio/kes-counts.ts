/**
 * How many API requests a KES server has answered, from its Prometheus metrics (`/v1/metrics`):
 * the `kes_http_request_success`, `_error` and `_failure` counters, summed over status codes.
 * Both implementations count only key/policy/identity routes, so status probes and the metrics
 * request itself are not included.
 */
import { closeSessions, type Endpoint, openSession, send } from '../client.ts';

export interface KesCounts {
  readonly success: number;
  readonly error: number;
  readonly failure: number;
}

/** Sums the three request counters of a Prometheus text exposition. */
export function parseKesCounts(text: string): KesCounts {
  const sums = { success: 0, error: 0, failure: 0 };
  for (const line of text.split('\n')) {
    const m = /^kes_http_request_(success|error|failure)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) sums[m[1] as keyof KesCounts] += Number(m[2]);
  }
  return sums;
}

export async function readKesCounts(ep: Endpoint): Promise<KesCounts> {
  const s = await openSession(ep);
  try {
    const r = await send(s, 'GET', '/v1/metrics');
    if (r.status !== 200) throw new Error(`KES /v1/metrics answered ${r.status}`);
    return parseKesCounts(r.body);
  } finally {
    await closeSessions([s]);
  }
}

export const totalOf = (c: KesCounts): number => c.success + c.error + c.failure;

export function countsBetween(a: KesCounts, b: KesCounts): KesCounts {
  return { success: b.success - a.success, error: b.error - a.error, failure: b.failure - a.failure };
}
