import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchPattern, Policy, PolicySet } from '../../src/auth/policy.ts';
import { ErrNotAllowed } from '../../src/http/errors.ts';

test('matchPattern: empty never matches, trailing * is a prefix, other * literal', () => {
  const cases: Array<[string, string, boolean]> = [
    ['', '', false],
    ['', '/v1/status', false],
    ['/v1/status', '/v1/status', true],
    ['/v1/status', '/v1/status/', false],
    ['/v1/key/generate/my-app*', '/v1/key/generate/my-app', true],
    ['/v1/key/generate/my-app*', '/v1/key/generate/my-app-1', true],
    ['/v1/key/generate/my-app*', '/v1/key/generate/my-ap', false],
    ['/v1/key/*/my-app', '/v1/key/generate/my-app', false],
    ['/v1/key/*/my-app', '/v1/key/*/my-app', true],
    ['*', '/anything', true],
    ['/v1/key/generate/*', '/v1/key/generate/a/b', true],
  ];
  for (const [pattern, path, want] of cases) assert.equal(matchPattern(pattern, path), want, `${pattern} vs ${path}`);
});

test('Policy.permits: deny wins, no match denies, empty policy denies everything', () => {
  const p = new Policy('p', ['/v1/key/*'], ['/v1/key/delete/*']);
  assert.equal(p.permits('/v1/key/create/a'), true);
  assert.equal(p.permits('/v1/key/delete/a'), false);
  assert.equal(p.permits('/v1/status'), false);
  assert.equal(new Policy('empty', [], []).permits('/v1/status'), false);
});

test('PolicySet: admin bypasses policies, unassigned identities get ErrNotAllowed', () => {
  const set = new PolicySet('admin-id', new Map([
    ['a', { allow: ['/v1/status'], deny: [], identities: ['id-a'] }],
    ['b', { allow: ['/v1/metrics'], deny: [], identities: ['id-b', 'id-c'] }],
  ]));
  set.authorize('admin-id', '/v1/anything');
  set.authorize('id-a', '/v1/status');
  assert.throws(() => set.authorize('id-a', '/v1/metrics'), (e) => e === ErrNotAllowed);
  assert.throws(() => set.authorize('nobody', '/v1/status'), (e) => e === ErrNotAllowed);
  assert.throws(() => set.authorize('', '/v1/status'), (e) => e === ErrNotAllowed);
  assert.equal(ErrNotAllowed.status, 403);
  assert.equal(ErrNotAllowed.message, 'not authorized: insufficient permissions');
  assert.equal(set.policyOf('id-c')?.name, 'b');
  assert.deepEqual(set.identities(), ['admin-id', 'id-a', 'id-b', 'id-c']);
  assert.deepEqual(set.policyNames(), ['a', 'b']);
  assert.equal(new PolicySet('', new Map()).isAdmin(''), false);
});

test('PolicySet rejects an identity in two policies and the admin in a policy', () => {
  assert.throws(() => new PolicySet('adm', new Map([['a', { allow: [], deny: [], identities: ['adm'] }]])), /admin/);
  assert.throws(
    () => new PolicySet('adm', new Map([['a', { allow: [], deny: [], identities: ['x'] }], ['b', { allow: [], deny: [], identities: ['x'] }]])),
    /'a' and 'b'/,
  );
});
