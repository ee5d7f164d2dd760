/**
 * Typed, line-aware access to the YAML document, with `${VAR}` substitution (docs/protocol.md#config-environment-variables).
 * All scalars are read as their text (failsafe schema), like the upstream `env[T]` wrapper that
 * reads a scalar's text, substitutes it and only then decodes it as the field's type.
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { ConfigError } from './errors.ts';
import { parseGoDuration } from './duration.ts';

/** Environment used for substitution. */
export type Env = Readonly<Record<string, string | undefined>>;

interface Context {
  readonly doc: Document;
  readonly lines: LineCounter;
  readonly env: Env;
}

const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
const TRUE = new Set(['true', 'yes', 'on', 'y']);
const FALSE = new Set(['false', 'no', 'off', 'n']);

/** A node of the config document at a dotted `path` (`tls.auth`, `keys[0].name`); may be absent. */
export class ConfigNode {
  readonly path: string;
  readonly #node: YamlNode | null;
  readonly #ctx: Context;
  readonly #line: number | undefined;

  constructor(node: YamlNode | null, path: string, ctx: Context, parentLine?: number) {
    this.#node = isAlias(node) ? ((node.resolve(ctx.doc) as YamlNode | undefined) ?? null) : node;
    this.path = path;
    this.#ctx = ctx;
    const start = node?.range?.[0];
    this.#line = start === undefined ? parentLine : ctx.lines.linePos(start).line;
  }

  /** The top-level key this node belongs to; used as the error's section. */
  get section(): string {
    return this.path.split(/[.[]/)[0] || 'config';
  }

  get line(): number | undefined {
    return this.#line;
  }

  /** Builds a ConfigError for this field; `what` must not contain the field's value. */
  error(what: string): ConfigError {
    return new ConfigError(this.section, `'${this.path}' ${what}`, this.#line);
  }

  /** True for an absent key or an explicit null / empty value. */
  isNull(): boolean {
    const n = this.#node;
    return n === null || (isScalar(n) && n.type === 'PLAIN' && NULLS.has(String(n.value)));
  }

  /** The child `key` of a mapping (absent if missing). Throws ConfigError if this is no mapping. */
  get(key: string): ConfigNode {
    for (const [k, v] of this.entries()) if (k === key) return v;
    // A missing top-level section has no line worth naming; a missing field names its parent's.
    return new ConfigNode(null, this.#join(key), this.#ctx, this.path === '' ? undefined : this.#line);
  }

  #join(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  /** The entries of a mapping in document order; `[]` if null. Throws ConfigError otherwise. */
  entries(): Array<[string, ConfigNode]> {
    if (this.isNull()) return [];
    if (!isMap(this.#node)) throw this.error('must be a mapping');
    return this.#node.items.map((pair) => {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const value = (pair.value ?? null) as YamlNode | null;
      const line = isScalar(pair.key) && pair.key.range ? this.#ctx.lines.linePos(pair.key.range[0]).line : this.#line;
      return [key, new ConfigNode(value, this.#join(key), this.#ctx, line)];
    });
  }

  /** The elements of a sequence; `[]` if null. Throws ConfigError otherwise. */
  items(): ConfigNode[] {
    if (this.isNull()) return [];
    if (!isSeq(this.#node)) throw this.error('must be a list');
    return this.#node.items.map((item, i) => new ConfigNode(item as YamlNode, `${this.path}[${i}]`, this.#ctx, this.#line));
  }

  /**
   * The scalar's text, "" if null. With `env` (the default) a scalar that is exactly
   * `${NAME}` (after trimming) is replaced by that variable's value (docs/protocol.md#config-environment-variables). Throws ConfigError
   * for a non-scalar or an unset variable.
   */
  string(opts: { env?: boolean } = {}): string {
    if (this.isNull()) return '';
    const n = this.#node;
    if (!isScalar(n)) throw this.error('must be a scalar value');
    const text = String(n.value);
    if (opts.env === false) return text;
    const trimmed = text.trim();
    if (!trimmed.startsWith('${') || !trimmed.endsWith('}')) return text;
    const name = trimmed.slice(2, -1).trim();
    const value = this.#ctx.env[name];
    if (value === undefined) throw this.error(`refers to environment variable '${name}', which is not set`);
    return value;
  }

  /** A boolean (`true`/`false`, and the YAML 1.1 `yes`/`no`/`on`/`off`); null → `fallback`. */
  bool(fallback = false): boolean {
    const s = this.string().trim().toLowerCase();
    if (s === '') return fallback;
    if (TRUE.has(s)) return true;
    if (FALSE.has(s)) return false;
    throw this.error('must be a boolean (true or false)');
  }

  /** A Go duration in ms; null or empty → 0. Throws ConfigError if unparsable or negative. */
  durationMs(): number {
    const s = this.string().trim();
    if (s === '') return 0;
    let ms: number;
    try {
      ms = parseGoDuration(s);
    } catch {
      throw this.error('is not a duration (e.g. 30s, 5m, 1h30m)');
    }
    if (ms < 0) throw this.error('must not be negative');
    return ms;
  }
}

/** Parses the YAML text into the root node. Throws ConfigError on YAML syntax errors. */
export function parseYaml(text: string, env: Env): ConfigNode {
  const lines = new LineCounter();
  const doc = parseDocument(text, { schema: 'failsafe', lineCounter: lines, prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line;
    const what = first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError('config', `YAML syntax: ${what}`, line);
  }
  const root = new ConfigNode((doc.contents ?? null) as YamlNode | null, '', { doc, lines, env });
  if (!root.isNull() && !isMap(doc.contents)) {
    throw new ConfigError('config', 'the document must be a YAML mapping', root.line);
  }
  return root;
}
