/**
 * Authorization (docs/protocol.md#authorization): the admin identity may do everything; any other identity must be
 * assigned to exactly one policy, whose deny patterns win over its allow patterns.
 */
import { ErrNotAllowed } from '../http/errors.ts';
import { byteOrder } from '../keystore/keystore.ts';

/**
 * Pattern matching of the newest server: an empty pattern never matches; a pattern ending in
 * `*` matches every path that starts with the pattern minus that `*`; any other pattern (a `*`
 * elsewhere is literal) must equal the path.
 */
export function matchPattern(pattern: string, path: string): boolean {
  if (pattern === '') return false;
  if (pattern.endsWith('*')) return path.startsWith(pattern.slice(0, -1));
  return pattern === path;
}

/** A named set of allow/deny path patterns. */
export class Policy {
  readonly name: string;
  readonly allow: readonly string[];
  readonly deny: readonly string[];

  constructor(name: string, allow: readonly string[], deny: readonly string[]) {
    this.name = name;
    this.allow = Object.freeze([...allow]);
    this.deny = Object.freeze([...deny]);
  }

  /** True when no deny pattern and at least one allow pattern matches `path`. */
  permits(path: string): boolean {
    if (this.deny.some((p) => matchPattern(p, path))) return false;
    return this.allow.some((p) => matchPattern(p, path));
  }
}

/** Policy definitions as the configuration describes them. */
export type PolicyDefinitions = ReadonlyMap<string, { allow: readonly string[]; deny: readonly string[]; identities: readonly string[] }>;

/** The admin identity, all policies and the identity → policy assignment, immutable. */
export class PolicySet {
  readonly admin: string;
  readonly #policies: ReadonlyMap<string, Policy>;
  readonly #assigned: ReadonlyMap<string, Policy>;

  constructor(admin: string, definitions: PolicyDefinitions) {
    this.admin = admin;
    const policies = new Map<string, Policy>();
    const assigned = new Map<string, Policy>();
    for (const [name, def] of definitions) {
      const policy = new Policy(name, def.allow, def.deny);
      policies.set(name, policy);
      for (const identity of def.identities) {
        if (identity === admin) throw new Error(`policy: identity of policy '${name}' is the admin identity`);
        if (assigned.has(identity)) throw new Error(`policy: identity assigned to policies '${assigned.get(identity)!.name}' and '${name}'`);
        assigned.set(identity, policy);
      }
    }
    this.#policies = policies;
    this.#assigned = assigned;
  }

  isAdmin(identity: string): boolean {
    return identity !== '' && identity === this.admin;
  }

  /** The policy by name, or undefined. */
  policy(name: string): Policy | undefined {
    return this.#policies.get(name);
  }

  /** The policy assigned to `identity`, or undefined. */
  policyOf(identity: string): Policy | undefined {
    return this.#assigned.get(identity);
  }

  /** Policy names, sorted by byte order. */
  policyNames(): string[] {
    return [...this.#policies.keys()].sort(byteOrder);
  }

  /** Admin and all assigned identities, sorted by byte order. */
  identities(): string[] {
    return [this.admin, ...this.#assigned.keys()].sort(byteOrder);
  }

  /**
   * Decides whether `identity` may request the decoded URL `path`.
   * @throws ErrNotAllowed (403) when it may not.
   */
  authorize(identity: string, path: string): void {
    if (this.isAdmin(identity)) return;
    const policy = this.#assigned.get(identity);
    if (policy === undefined || !policy.permits(path)) throw ErrNotAllowed;
  }
}
