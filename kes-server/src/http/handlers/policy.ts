/** Read-only views of the configured policies and identities (docs/protocol.md#policy-and-identity-routes). */
import type { Policy } from '../../auth/policy.ts';
import {
  ErrIdentityNotFound,
  ErrInvalidIdentity,
  ErrInvalidPattern,
  ErrInvalidPolicyName,
  ErrPolicyNotFound,
} from '../errors.ts';
import { formatTime } from '../json.ts';
import { isValidName, isValidPattern, patternPrefix } from '../names.ts';
import { json, type RequestContext, type Reply } from '../route.ts';
import type { ServerState } from '../state.ts';

/** `{pattern: {}}` objects as upstream encodes rule sets; undefined when empty (omitted). */
function rules(patterns: readonly string[]): Record<string, Record<string, never>> | undefined {
  if (patterns.length === 0) return undefined;
  return Object.fromEntries(patterns.map((p) => [p, {}]));
}

function policyByName(ctx: RequestContext, state: ServerState): Policy {
  if (!isValidName(ctx.resource)) throw ErrInvalidPolicyName;
  const policy = state.policies.policy(ctx.resource);
  if (policy === undefined) throw ErrPolicyNotFound;
  return policy;
}

export async function describePolicy(ctx: RequestContext, state: ServerState): Promise<Reply> {
  const policy = policyByName(ctx, state);
  return json({ name: policy.name, created_at: formatTime(state.startTime), created_by: state.policies.admin });
}

export async function readPolicy(ctx: RequestContext, state: ServerState): Promise<Reply> {
  const policy = policyByName(ctx, state);
  return json({
    name: policy.name,
    allow: rules(policy.allow),
    deny: rules(policy.deny),
    created_at: formatTime(state.startTime),
    created_by: state.policies.admin,
  });
}

export async function listPolicies(ctx: RequestContext, state: ServerState): Promise<Reply> {
  if (!isValidPattern(ctx.resource)) throw ErrInvalidPattern;
  const prefix = patternPrefix(ctx.resource);
  return json({ names: state.policies.policyNames().filter((n) => n.startsWith(prefix)), continue_at: '' });
}

export async function describeIdentity(ctx: RequestContext, state: ServerState): Promise<Reply> {
  if (!isValidName(ctx.resource)) throw ErrInvalidIdentity;
  const identity = ctx.resource;
  if (state.policies.isAdmin(identity)) return json({ admin: true, created_at: formatTime(state.startTime) });
  const policy = state.policies.policyOf(identity);
  if (policy === undefined) throw ErrIdentityNotFound;
  return json({ policy: policy.name, created_at: formatTime(state.startTime), created_by: state.policies.admin });
}

export async function listIdentities(ctx: RequestContext, state: ServerState): Promise<Reply> {
  if (!isValidPattern(ctx.resource)) throw ErrInvalidPattern;
  const prefix = patternPrefix(ctx.resource);
  return json({ identities: state.policies.identities().filter((n) => n.startsWith(prefix)), continue_at: '' });
}

/**
 * Describes the caller. Upstream looks up the (empty) path resource instead of the caller, so
 * every non-admin gets 404; here the caller is looked up, and the answer has the shape the Go
 * client decodes: `policy` as the policy name, `allow`/`deny` at the top level (docs/protocol.md#policy-and-identity-routes).
 */
export async function describeSelf(ctx: RequestContext, state: ServerState): Promise<Reply> {
  const identity = ctx.identity;
  const createdAt = formatTime(state.startTime);
  if (state.policies.isAdmin(identity)) return json({ identity, admin: true, created_at: createdAt });
  const policy = identity === '' ? undefined : state.policies.policyOf(identity);
  if (policy === undefined) throw ErrIdentityNotFound;
  return json({
    identity,
    policy: policy.name,
    allow: rules(policy.allow),
    deny: rules(policy.deny),
    created_at: createdAt,
    created_by: state.policies.admin,
  });
}
