/**
 * Capture: runs the stack program (`stacks/index.ts`) under `pulumi.runtime.setMocks` for one
 * stack configuration and records what it declares: every resource with its exact inputs, its
 * parent, its dependencies (explicit `dependsOn` and those its input Outputs carry, as the Node
 * SDK reports them to the engine) and its provider, plus the stack's exports. Each capture runs in
 * a child process, so every stack gets a fresh copy of the program.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { LOG_DIR_ENV, runLogDir } from '../sandbox/log-sweep.ts';

/** One declared resource. Keys are `<type>::<name>` (the last two parts of its URN). */
export interface CapturedResource {
  readonly key: string;
  readonly type: string;
  readonly name: string;
  /** False for component resources (nothing to realize; their children are). */
  readonly custom: boolean;
  /** Key of the parent ('' at the stack root). */
  readonly parent: string;
  /** Keys of the custom resources it waits for. */
  readonly dependencies: readonly string[];
  /** Key of its explicit provider resource, if any. */
  readonly provider?: string;
  /** Its inputs, secrets unwrapped; still holding tokens for outputs known only after realization. */
  readonly inputs: Record<string, any>;
  /** Top-level input fields that were secret. */
  readonly secretInputs: readonly string[];
  /** Outputs already known at capture (local providers: tls, random). */
  readonly outputs: Record<string, unknown>;
  /** `retainOnDelete`: the resource stays when the stack is torn down. */
  readonly retainOnDelete: boolean;
}

export interface Capture {
  readonly project: string;
  readonly stack: string;
  readonly resources: readonly CapturedResource[];
  /** The program's exports, with the same tokens as the inputs. */
  readonly exports: Record<string, unknown>;
  /** Which resource output each token stands for. */
  readonly tokens: Record<string, { resource: string; field: string }>;
}

export interface CaptureOptions {
  /** A `Pulumi.<stack>.yaml` file. */
  readonly configFile: string;
  /** The stack name the program sees (`pulumi.getStack()`). */
  readonly stack: string;
  /** Settings added over the file's (keys without the project prefix), as `pulumi config set` would. */
  readonly set?: Record<string, string>;
  /** Keys of `set` that are secrets (`pulumi config set --secret`). */
  readonly secret?: readonly string[];
  /** Environment of the program (e.g. VAULT_TOKEN); default none besides PATH and HOME. */
  readonly env?: Record<string, string>;
}

export const PROJECT = 'minio-sse-kes';
const RUNNER = fileURLToPath(new URL('./capture-run.ts', import.meta.url));

/** The config of a stack file as the engine hands it to the program (structured values as JSON). */
export function stackConfig(file: string): Record<string, string> {
  const doc = parse(readFileSync(file, 'utf8')) as { config?: Record<string, unknown> } | null;
  return Object.fromEntries(Object.entries(doc?.config ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** The test run's log folder, so the secrets the program makes (keys, passwords) are registered. */
const logDirEnv = (): Record<string, string> => {
  const dir = runLogDir();
  return dir === undefined ? {} : { [LOG_DIR_ENV]: dir };
};

/** Runs the program for one stack and returns what it declared. */
export async function captureStack(o: CaptureOptions): Promise<Capture> {
  const config = stackConfig(o.configFile);
  for (const [k, v] of Object.entries(o.set ?? {})) config[`${PROJECT}:${k}`] = v;
  const dir = mkdtempSync(join(tmpdir(), 'realize-capture-'));
  try {
    // Secrets travel through files only this user can read, never through arguments or logs.
    const request = join(dir, 'request.json');
    const result = join(dir, 'capture.json');
    writeFileSync(request, JSON.stringify({ project: PROJECT, stack: o.stack, config, secretKeys: (o.secret ?? []).map((k) => `${PROJECT}:${k}`) }), { mode: 0o600 });
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}), ...logDirEnv(), ...o.env };
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, [RUNNER, request, result], { env, maxBuffer: 16 << 20, timeout: 120_000 }, (err, _stdout, stderr) => {
        if (err) reject(new Error(`realize: capturing stack ${o.stack} failed: ${stderr.trim().split('\n').slice(-5).join('\n') || err.message}`));
        else resolve();
      });
    });
    return JSON.parse(readFileSync(result, 'utf8')) as Capture;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
