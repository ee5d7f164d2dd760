/** Command-line options of `bench/minio/run.ts`. */
import { parseArgs } from 'node:util';
import { OptionsError } from '../options.ts';

const KES_IDS = ['upstream', 'ts'] as const;
/** `upstream`: minio/kes; `ts`: this repository's kes-server with its default worker count. */
export type KesId = (typeof KES_IDS)[number];

/** `shared`: every process on every CPU; `pinned`: MinIO and KES on CPU 0, the load client on CPU 1. */
export type MinioPlacement = 'shared' | 'pinned';

export interface MinioBenchOptions {
  readonly requests: number;
  readonly warmup: number;
  /** Concurrent S3 clients; each value is measured separately. */
  readonly clients: readonly number[];
  readonly rounds: number;
  readonly size: number;
  readonly drives: number;
  readonly placement: MinioPlacement;
  readonly servers: readonly KesId[];
  readonly phaseTimeoutMs: number;
}

export const MINIO_USAGE = `Usage: node bench/minio/run.ts [options]

PUT and GET of small objects through one MinIO with bucket-default SSE-KMS, MinIO talking to
minio/kes in one phase and to this repository's kes-server in the other (same MinIO build, same
drives, same keys; MinIO restarts between phases). Prints one row per KES, operation and client
count, with the ratio to minio/kes.

Options:
  --requests N        measured PUTs (and as many GETs) per client count, KES and round (default 2000)
  --warmup N          untimed PUTs (and GETs) before each measured loop (default 200)
  --clients LIST      concurrent S3 clients, comma-separated (default 16,64); one keep-alive
                      connection each
  --rounds N          phases per KES; the order alternates each round (default 6)
  --size BYTES        object size (default 4096)
  --drives N          MinIO drives (folders) (default 1)
  --placement P       shared (default): every process on every CPU; pinned: MinIO and both KES
                      servers on CPU 0, the load client on CPU 1 (taskset)
  --servers LIST      comma-separated subset of ${KES_IDS.join(',')} (default both)
  --phase-timeout S   time limit of each warm-up or measured loop, seconds (default 60)
  --help              this text
`;

function positive(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new OptionsError(`--${name} must be a positive integer, got '${v}'`);
  return n;
}

function list(name: string, v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const items = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new OptionsError(`--${name} is empty`);
  return items;
}

/** Parses argv; returns null for --help. Throws OptionsError on a bad value. */
export function parseMinioOptions(argv: string[]): MinioBenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string' },
      warmup: { type: 'string' },
      clients: { type: 'string' },
      rounds: { type: 'string' },
      size: { type: 'string' },
      drives: { type: 'string' },
      placement: { type: 'string' },
      servers: { type: 'string' },
      'phase-timeout': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  const clients = [...new Set((list('clients', values.clients) ?? ['16', '64']).map((c) => positive('clients', c, 0)))];
  const servers = list('servers', values.servers) ?? [...KES_IDS];
  for (const s of servers) if (!(KES_IDS as readonly string[]).includes(s)) throw new OptionsError(`--servers: unknown '${s}' (expected ${KES_IDS.join(', ')})`);
  const placement = values.placement ?? 'shared';
  if (placement !== 'shared' && placement !== 'pinned') throw new OptionsError(`--placement must be shared or pinned, got '${placement}'`);
  return {
    requests: positive('requests', values.requests, 2000),
    warmup: values.warmup === '0' ? 0 : positive('warmup', values.warmup, 200),
    clients,
    rounds: positive('rounds', values.rounds, 6),
    size: positive('size', values.size, 4096),
    drives: positive('drives', values.drives, 1),
    placement,
    servers: KES_IDS.filter((k) => servers.includes(k)),
    phaseTimeoutMs: 1000 * positive('phase-timeout', values['phase-timeout'], 60),
  };
}
