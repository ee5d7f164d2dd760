/**
 * Every log of a test run in one folder, and a sweep of that folder for secrets.
 *
 * `npm test` sets `MINIO_SSE_KES_LOG_DIR` to a fresh folder (test/global-setup.ts). While it is set:
 * - processes started through `ManagedProcess` keep their log there (a hard link, so the log
 *   outlives the test's temporary folder), in-process servers and OpenBao write theirs with
 *   `runLog`, and removed containers leave their `docker logs` there;
 * - helpers that make or receive a secret (API key, Vault token, secret-id, private key, password,
 *   plaintext, data key) call `registerSecret`, which appends it to a registry in the same folder.
 * At the end, `sweepLogs` looks for every registered secret in every log line (as is, base64,
 * base64url, hex) and for secret shapes no test registered (PEM private keys, `kes:v1:` API keys,
 * Vault tokens). A finding names the file, line and kind, never the secret.
 * Without the variable (a single test file run by hand) every function here does nothing.
 */
import { appendFileSync, copyFileSync, linkSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

export const LOG_DIR_ENV = 'MINIO_SSE_KES_LOG_DIR';
/** The registry file: one `label<TAB>base64 of the secret` per line. Never swept itself. */
const REGISTRY = 'secrets.registry';
/** Shorter encodings are not looked for: they would match by chance (a 12-character form is 72 bits). */
const MIN_FORM = 12;

let serial = 0;

/** The run's log folder, or undefined outside `npm test`. */
export function runLogDir(): string | undefined {
  const dir = process.env[LOG_DIR_ENV];
  return dir === undefined || dir === '' ? undefined : dir;
}

/** A fresh file name in the run's log folder (unique across the run's processes). */
function logPath(name: string): string | undefined {
  const dir = runLogDir();
  if (dir === undefined) return undefined;
  mkdirSync(dir, { recursive: true });
  return join(dir, `${process.pid}-${serial++}-${basename(name).replace(/[^\w.-]/g, '_')}`);
}

/** Keeps `file` (a log being written) in the run's log folder: same inode, so it survives `rm`. */
export function keepLog(file: string): void {
  const path = logPath(file);
  if (path === undefined) return;
  try {
    linkSync(file, path);
  } catch {
    // another file system: the log is copied when the caller says it is complete
    keepLater.set(file, path);
  }
}
const keepLater = new Map<string, string>();

/** Copies a log `keepLog` could not link (call when the writer has exited). */
export function logComplete(file: string): void {
  const path = keepLater.get(file);
  if (path === undefined) return;
  keepLater.delete(file);
  try {
    copyFileSync(file, path);
  } catch {
    // the log is gone; nothing to sweep
  }
}

/** Writes `text` as a log file of the run (in-process servers, piped output, container logs). */
export function runLog(name: string): (text: string) => void {
  const path = logPath(name);
  return path === undefined ? () => undefined : (text) => appendFileSync(path, text.endsWith('\n') ? text : `${text}\n`);
}

/** Appends a child's output to a log file of the run as it comes, chunk by chunk. */
export function runLogChunks(name: string): (chunk: string | Uint8Array) => void {
  const path = logPath(name);
  return path === undefined ? () => undefined : (chunk) => appendFileSync(path, chunk);
}

const registered = new Set<string>();

/** Records a secret the sweep must never find in a log. A no-op outside `npm test`. */
export function registerSecret(label: string, value: string | Uint8Array | undefined): void {
  const dir = runLogDir();
  if (dir === undefined || value === undefined || value.length === 0) return;
  const entry = `${label.replace(/[\t\n]/g, ' ')}\t${Buffer.from(value).toString('base64')}\n`;
  if (registered.has(entry)) return;
  registered.add(entry);
  mkdirSync(dir, { recursive: true });
  // One short append per secret: atomic next to other processes' appends.
  appendFileSync(join(dir, REGISTRY), entry);
}

/** Registers the `plaintext` (a data key or what was encrypted) of a KES request and its answer. */
export function registerKesBodies(request: string | Uint8Array | undefined, response: string | Uint8Array | undefined): void {
  if (runLogDir() === undefined) return;
  for (const body of [request, response]) {
    if (body === undefined) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body).toString('utf8'));
    } catch {
      continue;
    }
    const plaintext = (parsed as { plaintext?: unknown } | null)?.plaintext;
    if (typeof plaintext === 'string') registerSecret('kes plaintext', Buffer.from(plaintext, 'base64'));
  }
}

/** Fields of Vault/OpenBao answers that hold a credential (`keys` only at the top: `sys/init`). */
const VAULT_SECRET_FIELDS = new Set(['client_token', 'root_token', 'secret_id', 'token', 'unseal_key', 'keys_base64', 'recovery_keys', 'recovery_keys_base64']);

/** Registers the token a Vault request carried and every credential its answer holds. */
export function registerVaultExchange(token: string | null | undefined, answer: unknown): void {
  if (runLogDir() === undefined) return;
  if (token) registerSecret('vault token', token);
  const walk = (value: unknown, top: boolean): void => {
    if (value === null || typeof value !== 'object') return;
    for (const [name, v] of Object.entries(value)) {
      if (VAULT_SECRET_FIELDS.has(name) || (top && name === 'keys')) {
        for (const s of Array.isArray(v) ? v : [v]) if (typeof s === 'string') registerSecret(`vault ${name}`, s);
      } else walk(v, false);
    }
  };
  walk(answer, true);
}

/** The encodings under which a secret could show up in a log line. */
export function formsOf(secret: Buffer): string[] {
  const forms = new Set<string>([secret.toString('base64'), secret.toString('base64url'), secret.toString('hex')]);
  const text = secret.toString('utf8');
  // As is, when it is text (a token, a password, a PEM body line); padding-free base64 too.
  if (Buffer.from(text, 'utf8').equals(secret) && !/[\x00-\x08\x0e-\x1f]/.test(text)) {
    if (text.startsWith('-----BEGIN')) {
      for (const line of text.split('\n')) if (!line.startsWith('-----') && line.trim() !== '') forms.add(line.trim());
    } else forms.add(text);
  }
  forms.add(secret.toString('base64').replace(/=+$/, ''));
  return [...forms].filter((f) => f.length >= MIN_FORM);
}

/** Shapes that are secrets whoever made them. */
const PATTERNS: ReadonlyArray<readonly [string, RegExp]> = [
  ['PEM private key', /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/],
  ['KES API key', /kes:v1:[A-Za-z0-9+/]{20,}/],
  // Vault/OpenBao service, batch and recovery tokens.
  ['Vault token', /(?<![\w.])(?:hv[sbr]|s|b|r)\.[A-Za-z0-9_-]{24,}(?![\w.])/],
];

export interface Finding {
  readonly file: string;
  readonly line: number;
  /** The registered label and the encoding found (`api key (base64)`), or the pattern's name. */
  readonly what: string;
}

export interface SweepResult {
  readonly files: number;
  readonly lines: number;
  readonly bytes: number;
  readonly secrets: number;
  readonly forms: number;
  readonly findings: Finding[];
}

/** Sweeps every file under `dir` except the registry; at most 20 findings per file. */
export function sweepLogs(dir: string): SweepResult {
  const secrets = readRegistry(dir);
  // Forms indexed by their first MIN_FORM characters: one map look-up per position of a line.
  const index = new Map<string, Array<{ form: string; what: string }>>();
  let forms = 0;
  for (const [label, secret] of secrets) {
    for (const form of formsOf(secret)) {
      const head = form.slice(0, MIN_FORM);
      const list = index.get(head) ?? [];
      if (list.some((f) => f.form === form)) continue;
      list.push({ form, what: `${label} (${encodingOf(form, secret)})` });
      index.set(head, list);
      forms++;
    }
  }
  const findings: Finding[] = [];
  let files = 0;
  let lines = 0;
  let bytes = 0;
  for (const file of filesUnder(dir)) {
    if (basename(file) === REGISTRY) continue;
    const text = readFileSync(file, 'utf8');
    files++;
    bytes += Buffer.byteLength(text);
    let found = 0;
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    lines += all.length;
    all.forEach((line, i) => {
      if (found >= 20) return;
      const what = new Set<string>();
      for (const [name, pattern] of PATTERNS) if (pattern.test(line)) what.add(name);
      for (let p = 0; p + MIN_FORM <= line.length; p++) {
        const candidates = index.get(line.slice(p, p + MIN_FORM));
        if (candidates === undefined) continue;
        for (const c of candidates) if (line.startsWith(c.form, p)) what.add(c.what);
      }
      for (const w of what) {
        findings.push({ file: relative(dir, file), line: i + 1, what: w });
        found++;
      }
    });
  }
  return { files, lines, bytes, secrets: secrets.length, forms, findings };
}

function encodingOf(form: string, secret: Buffer): string {
  if (form === secret.toString('hex')) return 'hex';
  if (form === secret.toString('base64') || form === secret.toString('base64').replace(/=+$/, '')) return 'base64';
  if (form === secret.toString('base64url')) return 'base64url';
  return 'as is';
}

function readRegistry(dir: string): Array<[string, Buffer]> {
  let text: string;
  try {
    text = readFileSync(join(dir, REGISTRY), 'utf8');
  } catch {
    return [];
  }
  const seen = new Map<string, [string, Buffer]>();
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const value = line.slice(tab + 1);
    if (!seen.has(value)) seen.set(value, [line.slice(0, tab), Buffer.from(value, 'base64')]);
  }
  return [...seen.values()];
}

function* filesUnder(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else if (entry.isFile() && statSync(path).size > 0) yield path;
  }
}
