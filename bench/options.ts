/** Command-line options of `bench/run.ts`. */
import { parseArgs } from 'node:util';
import { OPERATIONS, type Operation } from './load.ts';

export const SERVER_IDS = ['upstream', 'ts1', 'ts2'] as const;
export type ServerId = (typeof SERVER_IDS)[number];

export const PROTOCOLS = ['h2', 'h1'] as const;
/** `h2`: HTTP/2 sessions; `h1`: HTTP/1.1 keep-alive connections. */
export type Protocol = (typeof PROTOCOLS)[number];

export const PLACEMENTS = ['pinned', 'shared'] as const;
/** `pinned`: server on the first CPU, load client on the second (`taskset`); `shared`: both on all CPUs. */
export type Placement = (typeof PLACEMENTS)[number];

export const KEYSTORES = ['fs', 'vault'] as const;
/** `fs`: a key-store folder per server; `vault`: OpenBao (K/V v2, AppRole) behind a counting proxy per server. */
export type Keystore = (typeof KEYSTORES)[number];

export interface BenchOptions {
  readonly requests: number;
  readonly warmup: number;
  /** Requests in flight; each value is measured separately. */
  readonly concurrency: readonly number[];
  readonly sessions: number;
  readonly protocols: readonly Protocol[];
  readonly placements: readonly Placement[];
  readonly phaseTimeoutMs: number;
  readonly operations: readonly Operation[];
  readonly servers: readonly ServerId[];
  readonly rounds: number;
  readonly keystore: Keystore;
  readonly quick: boolean;
}

export const USAGE = `Usage: node bench/run.ts [options]

Benchmarks the TypeScript kes-server (1 and 2 workers) against the upstream kes server, both
on 127.0.0.1 with the same kind of key store, and prints one table row per operation, protocol, requests in
flight, CPU placement and server.

Options:
  --requests N        measured requests per operation, server and round (default 20000; --quick 4000)
  --warmup N          untimed warm-up requests before each measurement (default 2000; --quick 500)
  --concurrency LIST  requests in flight, comma-separated (default 32,256)
  --sessions N        HTTP/2 connections the requests are spread over (default 8); HTTP/1.1
                      uses one keep-alive connection per request in flight
  --protocols LIST    comma-separated subset of ${PROTOCOLS.join(',')} (default both)
  --placement LIST    comma-separated subset of ${PLACEMENTS.join(',')} (default both): pinned runs
                      the server on CPU 0 and the load client on CPU 1 (taskset)
  --phase-timeout S   time limit of each warm-up or measured loop, seconds (default 120; --quick 20)
  --ops LIST          comma-separated subset of ${OPERATIONS.join(',')} (default all)
  --servers LIST      comma-separated subset of ${SERVER_IDS.join(',')} (default all)
  --rounds N          repeat the whole matrix N times; each cell reports the median round (default 1)
  --keystore KIND     fs (default): a key-store folder per server; vault: one OpenBao dev server,
                      each KES server with its own K/V v2 path and AppRole role behind a proxy that
                      counts what it sends to OpenBao (a warm cache sends nothing)
  --quick             smaller counts
  --help              this text
`;

export class OptionsError extends Error {}

function positive(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new OptionsError(`--${name} must be a positive integer, got '${v}'`);
  return n;
}

function positiveList(name: string, v: string | undefined, fallback: readonly number[]): number[] {
  if (v === undefined) return [...fallback];
  const items = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new OptionsError(`--${name} is empty`);
  return [...new Set(items.map((i) => positive(name, i, 0)))];
}

function subset<T extends string>(name: string, v: string | undefined, all: readonly T[]): T[] {
  if (v === undefined) return [...all];
  const items = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const i of items) if (!(all as readonly string[]).includes(i)) throw new OptionsError(`--${name}: unknown '${i}' (expected ${all.join(', ')})`);
  if (items.length === 0) throw new OptionsError(`--${name} is empty`);
  return all.filter((a) => items.includes(a));
}

function oneOf<T extends string>(name: string, v: string | undefined, all: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!(all as readonly string[]).includes(v)) throw new OptionsError(`--${name}: unknown '${v}' (expected ${all.join(', ')})`);
  return v as T;
}

/** Parses argv; returns null for --help. Throws OptionsError on a bad value. */
export function parseOptions(argv: string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string' },
      warmup: { type: 'string' },
      concurrency: { type: 'string' },
      sessions: { type: 'string' },
      'phase-timeout': { type: 'string' },
      ops: { type: 'string' },
      servers: { type: 'string' },
      protocols: { type: 'string' },
      placement: { type: 'string' },
      rounds: { type: 'string' },
      keystore: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  const quick = values.quick === true;
  return {
    quick,
    requests: positive('requests', values.requests, quick ? 4000 : 20_000),
    warmup: positive('warmup', values.warmup, quick ? 500 : 2000),
    rounds: positive('rounds', values.rounds, 1),
    concurrency: positiveList('concurrency', values.concurrency, [32, 256]),
    sessions: positive('sessions', values.sessions, 8),
    phaseTimeoutMs: 1000 * positive('phase-timeout', values['phase-timeout'], quick ? 20 : 120),
    operations: subset('ops', values.ops, OPERATIONS),
    servers: subset('servers', values.servers, SERVER_IDS),
    protocols: subset('protocols', values.protocols, PROTOCOLS),
    placements: subset('placement', values.placement, PLACEMENTS),
    keystore: oneOf('keystore', values.keystore, KEYSTORES, 'fs'),
  };
}
