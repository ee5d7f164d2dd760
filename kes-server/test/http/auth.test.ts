/** Authentication and authorization over real mTLS (docs/protocol.md#authorization): identities, policies, TLS modes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call } from '../support/client.ts';
import { startKes } from '../support/kes.ts';
import { makePki } from '../support/pki.ts';

const FORBIDDEN = '{"message":"not authorized: insufficient permissions"\n}';

test('policy identity: allow prefix rule, deny wins, everything else 403', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const member = pki.issueClient('member', 'rsa-2048');
  const stranger = pki.issueClient('stranger');
  const apiClient = pki.apiKeyClient();
  const s = await startKes(t, pki, {
    admin: admin.identity,
    keys: ['my-app', 'my-app-1', 'my-app-secret', 'other'],
    policies: new Map([
      ['app', { allow: ['/v1/key/generate/my-app*', '/v1/status', '/v1/identity/self/describe'], deny: ['/v1/key/generate/my-app-secret'], identities: [member.identity] }],
      ['api-key-users', { allow: ['/v1/key/describe/*', '/v1/key/list/*'], deny: [], identities: [apiClient.identity] }],
    ]),
  });
  const cases = [
    { who: 'member', client: member, method: 'POST', path: '/v1/key/generate/my-app', status: 200 },
    { who: 'member', client: member, method: 'POST', path: '/v1/key/generate/my-app-1', status: 200 },
    { who: 'member', client: member, method: 'POST', path: '/v1/key/generate/my-app-secret', status: 403 },
    { who: 'member', client: member, method: 'POST', path: '/v1/key/generate/other', status: 403 },
    { who: 'member', client: member, method: 'GET', path: '/v1/status', status: 200 },
    { who: 'member', client: member, method: 'GET', path: '/v1/status/', status: 404 },
    { who: 'member', client: member, method: 'POST', path: '/v1/key/create/my-app-2', status: 403 },
    // Authorization happens before the name is validated (docs/protocol.md#request-pipeline).
    { who: 'member', client: member, method: 'POST', path: '/v1/key/create/bad.name', status: 403 },
    { who: 'stranger', client: stranger, method: 'GET', path: '/v1/status', status: 403 },
    { who: 'stranger', client: stranger, method: 'GET', path: '/v1/key/list', status: 403 },
    { who: 'stranger', client: stranger, method: 'GET', path: '/version', status: 200 },
    { who: 'api key', client: apiClient, method: 'GET', path: '/v1/key/describe/other', status: 200 },
    // MinIO lists with `/v1/key/list` (no slash); a `/v1/key/list/*` policy must allow it (docs/protocol.md#mc-admin-kms).
    { who: 'api key', client: apiClient, method: 'GET', path: '/v1/key/list', status: 200 },
    { who: 'api key', client: apiClient, method: 'GET', path: '/v1/key/list/my*', status: 200 },
    { who: 'member', client: member, method: 'GET', path: '/v1/key/list', status: 403 },
    { who: 'api key', client: apiClient, method: 'DELETE', path: '/v1/key/delete/other', status: 403 },
    { who: 'admin', client: admin, method: 'DELETE', path: '/v1/key/delete/other', status: 200 },
  ];
  for (const http2 of [false, true]) {
    for (const c of cases) {
      const r = await call({ port: s.port, ca: pki.caCert, client: c.client, method: c.method, path: c.path, http2 });
      assert.equal(r.status, c.status, `${c.who} ${c.method} ${c.path}: ${r.text}`);
      if (c.status === 403) assert.equal(r.text, FORBIDDEN);
      if (c.path === '/v1/key/delete/other') break;
    }
  }
  const self = await call({ port: s.port, ca: pki.caCert, client: member, path: '/v1/identity/self/describe' });
  const parsed = JSON.parse(self.text);
  assert.equal(parsed.identity, member.identity);
  assert.equal(parsed.policy, 'app');
  assert.deepEqual(Object.keys(parsed.allow), ['/v1/key/generate/my-app*', '/v1/status', '/v1/identity/self/describe']);
  assert.deepEqual(parsed.deny, { '/v1/key/generate/my-app-secret': {} });
  assert.equal(parsed.created_by, admin.identity);
  // Self-describe only identifies: an unassigned caller is not 403 but 404.
  const unknown = await call({ port: s.port, ca: pki.caCert, client: stranger, path: '/v1/identity/self/describe' });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.text, '{"message":"identity does not exist"\n}');
  assert.ok(s.errorLines.some((l) => l.includes('level=DEBUG') && l.includes('access denied')));
});

test('a client without a certificate is refused at the handshake (HTTP/1.1 and HTTP/2)', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const s = await startKes(t, pki, { admin: admin.identity });
  for (const http2 of [false, true]) {
    await assert.rejects(call({ port: s.port, ca: pki.caCert, path: '/version', http2, timeoutMs: 5000 }));
  }
  // The same server still serves clients with certificates.
  assert.equal((await call({ port: s.port, ca: pki.caCert, client: pki.selfSignedClient('x'), path: '/version' })).status, 200);
});

test('skip_auth relaxes the handshake: the route identifies only, others answer 400 without a certificate', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const s = await startKes(t, pki, { admin: admin.identity, api: new Map([['/v1/ready', { skipAuth: true, timeoutMs: 0 }]]) });
  const ready = await call({ port: s.port, ca: pki.caCert, path: '/v1/ready' });
  assert.equal(ready.status, 200);
  const status = await call({ port: s.port, ca: pki.caCert, path: '/v1/status' });
  assert.equal(status.status, 400);
  assert.equal(status.text, '{"message":"tls: client certificate is required"\n}');
  assert.equal((await call({ port: s.port, ca: pki.caCert, client: pki.selfSignedClient('s'), path: '/v1/ready' })).status, 200);
});

test('tls.auth on: a CA-signed client passes, a self-signed client is refused', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const s = await startKes(t, pki, { admin: admin.identity, auth: true });
  const ok = await call({ port: s.port, ca: pki.caCert, client: admin, path: '/v1/status', http2: true });
  assert.equal(ok.status, 200);
  for (const http2 of [false, true]) {
    await assert.rejects(call({ port: s.port, ca: pki.caCert, client: pki.selfSignedClient('rogue'), path: '/version', http2, timeoutMs: 5000 }));
    await assert.rejects(call({ port: s.port, ca: pki.caCert, path: '/version', http2, timeoutMs: 5000 }));
  }
});

test('tls.auth on: an API-key client passes when the config names its identity, and only then', async (t) => {
  const pki = makePki();
  const admin = pki.apiKeyClient();
  const member = pki.apiKeyClient();
  const stranger = pki.apiKeyClient();
  const s = await startKes(t, pki, {
    admin: admin.identity,
    auth: true,
    policies: new Map([['minio', { allow: ['/v1/key/generate/*'], deny: [], identities: [member.identity] }]]),
    keys: ['k'],
  });
  // A self-signed ECDSA certificate is no API-key certificate, even for a configured identity.
  const ecdsa = pki.selfSignedClient('pinned');
  const s2 = await startKes(t, pki, { admin: ecdsa.identity, auth: true });
  for (const http2 of [false, true]) {
    const asAdmin = await call({ port: s.port, ca: pki.caCert, client: admin, path: '/v1/identity/self/describe', http2 });
    assert.equal(asAdmin.status, 200);
    assert.equal(JSON.parse(asAdmin.text).identity, admin.identity);
    const gen = await call({ port: s.port, ca: pki.caCert, client: member, method: 'PUT', path: '/v1/key/generate/k', body: '{}', http2 });
    assert.equal(gen.status, 200, gen.text);
    const denied = await call({ port: s.port, ca: pki.caCert, client: member, path: '/v1/key/list/*', http2 });
    assert.equal(denied.status, 403);
    await assert.rejects(call({ port: s.port, ca: pki.caCert, client: stranger, path: '/version', http2, timeoutMs: 5000 }));
    await assert.rejects(call({ port: s2.port, ca: pki.caCert, client: ecdsa, path: '/version', http2, timeoutMs: 5000 }));
  }
  assert.ok(s.errorLines.some((l) => l.includes('client certificate not trusted')), 'the refusal is logged');
});
