/**
 * A client that holds only its own private key and a victim's PUBLIC key must not get the victim's
 * identity. The forged chains are built with the openssl CLI, as an attacker would, and sent over
 * real TLS (HTTP/1.1 and HTTP/2) with `tls.auth` off, where nothing verifies signatures:
 *  - [the attacker's CA-marked certificate (issuer DN CN=kes-forged), a forged leaf with the
 *    victim's public key (subject CN=kes-forged, signature invalid)];
 *  - [the attacker's self-signed CA certificate, the same forged leaf];
 *  - [the attacker's leaf (issuer DN CN=kes-forged), the same forged leaf].
 * The identity is that of the first certificate, the one whose key signed the handshake.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultRoutes } from '../../src/http/routes.ts';
import { PathIdentitySelfDescribe, PathVersion } from '../../src/http/paths.ts';
import { opensslIdentity, openssl } from '../tls/openssl.ts';
import { call, type ClientCredential } from '../support/client.ts';
import { startKes } from '../support/kes.ts';
import { makePki, type Credential } from '../support/pki.ts';

const errBody = (msg: string): string => `{"message":${JSON.stringify(msg)}\n}`;

interface Forgeries {
  readonly caFirst: ClientCredential;
  readonly selfSignedCaFirst: ClientCredential;
  readonly leafFirst: ClientCredential & { readonly identity: string };
}

/** The three forged chains for `victim`, made by openssl from the victim's public key only. */
function forge(victim: Credential): Forgeries {
  const dir = mkdtempSync(join(tmpdir(), 'kes-forge-'));
  try {
    const f = (name: string): string => join(dir, name);
    const ssl = (...args: string[]): void => void openssl(args);
    writeFileSync(f('victim.crt'), victim.cert);
    ssl('x509', '-in', f('victim.crt'), '-noout', '-pubkey', '-out', f('victim.pub'));
    // The attacker's own key pair, and an unrelated key that "issues" as CN=kes-forged.
    ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('attacker.key'));
    ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('issuer.key'));
    ssl('x509', '-new', '-subj', '/CN=kes-forged', '-key', f('issuer.key'), '-days', '1', '-out', f('issuer.crt'));
    // The forged leaf: the victim's public key, signed by the attacker (so the signature is
    // invalid), subject CN=kes-forged so that name matching links it as the first one's issuer.
    ssl('x509', '-new', '-subj', '/CN=kes-forged', '-key', f('attacker.key'), '-force_pubkey', f('victim.pub'), '-days', '1', '-out', f('forged.crt'));
    ssl('req', '-new', '-key', f('attacker.key'), '-subj', '/CN=attacker', '-out', f('attacker.csr'));
    const ext = (ca: boolean): string => {
      const file = f(`ext-${ca}`);
      writeFileSync(file, `basicConstraints=critical,CA:${ca ? 'TRUE' : 'FALSE'}\nsubjectKeyIdentifier=none\nauthorityKeyIdentifier=none\n`);
      return file;
    };
    const issued = (name: string, ca: boolean): string => {
      ssl('x509', '-req', '-in', f('attacker.csr'), '-CA', f('issuer.crt'), '-CAkey', f('issuer.key'), '-extfile', ext(ca), '-days', '1', '-out', f(name));
      return readFileSync(f(name), 'utf8');
    };
    ssl('x509', '-req', '-in', f('attacker.csr'), '-signkey', f('attacker.key'), '-extfile', ext(true), '-days', '1', '-out', f('selfca.crt'));
    const forged = readFileSync(f('forged.crt'), 'utf8');
    const key = readFileSync(f('attacker.key'), 'utf8');
    const leaf = issued('leaf.crt', false);
    assert.equal(opensslIdentity(forged), victim.identity, 'the forged leaf carries the victim key');
    return {
      caFirst: { cert: issued('ca.crt', true) + forged, key },
      selfSignedCaFirst: { cert: readFileSync(f('selfca.crt'), 'utf8') + forged, key },
      leafFirst: { cert: leaf + forged, key, identity: opensslIdentity(leaf) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One request per route of the table, resource `k`, with a body where the route takes one. */
const requests = defaultRoutes()
  .filter((r) => r.path !== PathVersion && r.path !== PathIdentitySelfDescribe)
  .map((r) => ({
    method: r.method,
    path: r.prefix ? `${r.path}k` : r.path,
    body: r.maxBody > 0 ? JSON.stringify({ plaintext: 'aGk=', ciphertext: 'aGk=', key: Buffer.alloc(32).toString('base64'), cipher: 'AES256', message: 'aGk=' }) : undefined,
  }));

for (const victimKind of ['admin', 'policy identity'] as const) {
  test(`a forged chain carrying the ${victimKind}'s public key gets nothing, on every route, over HTTP/1.1 and HTTP/2`, async (t) => {
    const pki = makePki();
    const admin = pki.issueClient('admin');
    const member = pki.issueClient('minio');
    const victim = victimKind === 'admin' ? admin : member;
    const s = await startKes(t, pki, {
      admin: admin.identity,
      policies: new Map([['minio', { allow: ['/v1/*'], deny: [], identities: [member.identity] }]]),
      keys: ['existing'],
    });
    const forged = forge(victim);
    const cases = [
      { name: 'CA-marked first certificate', client: forged.caFirst, status: 400, message: 'tls: client certificate is required' },
      { name: 'self-signed CA first', client: forged.selfSignedCaFirst, status: 400, message: 'tls: client certificate is required' },
      { name: 'attacker leaf first', client: forged.leafFirst, status: 400, message: 'tls: received more than one client certificate' },
    ];
    for (const http2 of [false, true]) {
      for (const c of cases) {
        for (const r of requests) {
          const res = await call({ port: s.port, ca: pki.caCert, client: c.client, method: r.method, path: r.path, body: r.body, http2 });
          assert.equal(res.status, c.status, `${c.name}: ${r.method} ${r.path} (http2 ${http2})`);
          assert.equal(res.text, errBody(c.message), `${c.name}: ${r.method} ${r.path}`);
        }
        // Self-describe never names the victim.
        const self = await call({ port: s.port, ca: pki.caCert, client: c.client, path: PathIdentitySelfDescribe, http2 });
        assert.notEqual(self.status, 200, c.name);
        assert.ok(!self.text.includes(victim.identity), `${c.name}: self-describe leaks nothing`);
      }
    }
    // Nothing was created, imported or deleted.
    assert.deepEqual((await s.store.list('', 0)).names, ['existing']);
    // The victim itself, with its private key, still works on the same server.
    const own = await call({ port: s.port, ca: pki.caCert, client: victim, path: PathIdentitySelfDescribe });
    assert.equal(own.status, 200);
    assert.equal(JSON.parse(own.text).identity, victim.identity);
  });
}

test('a legitimate chain [leaf, intermediate CA] keeps working and names the leaf', async (t) => {
  const pki = makePki();
  const dir = mkdtempSync(join(tmpdir(), 'kes-chain-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = (name: string): string => join(dir, name);
  const ssl = (...args: string[]): void => void openssl(args);
  ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('int.key'));
  ssl('req', '-x509', '-new', '-subj', '/CN=intermediate', '-key', f('int.key'), '-addext', 'basicConstraints=critical,CA:TRUE', '-days', '1', '-out', f('int.crt'));
  ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('leaf.key'));
  ssl('req', '-new', '-key', f('leaf.key'), '-subj', '/CN=client', '-out', f('leaf.csr'));
  writeFileSync(f('ext'), 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n');
  ssl('x509', '-req', '-in', f('leaf.csr'), '-CA', f('int.crt'), '-CAkey', f('int.key'), '-extfile', f('ext'), '-days', '1', '-out', f('leaf.crt'));
  const leaf = readFileSync(f('leaf.crt'), 'utf8');
  const identity = opensslIdentity(leaf);
  const s = await startKes(t, pki, { admin: identity });
  const client = { cert: leaf + readFileSync(f('int.crt'), 'utf8'), key: readFileSync(f('leaf.key'), 'utf8') };
  for (const http2 of [false, true]) {
    const r = await call({ port: s.port, ca: pki.caCert, client, method: 'POST', path: `/v1/key/create/chain-${http2}`, http2 });
    assert.equal(r.status, 200, r.text);
    const self = await call({ port: s.port, ca: pki.caCert, client, path: PathIdentitySelfDescribe, http2 });
    assert.equal(JSON.parse(self.text).identity, identity);
  }
});

test('with tls.auth on the forged chains do not get past the handshake', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const s = await startKes(t, pki, { admin: admin.identity, auth: true, api: new Map([['/v1/ready', { skipAuth: true, timeoutMs: 0 }]]) });
  const forged = forge(admin);
  for (const http2 of [false, true]) {
    for (const client of [forged.caFirst, forged.selfSignedCaFirst, forged.leafFirst]) {
      await assert.rejects(call({ port: s.port, ca: pki.caCert, client, path: '/v1/status', http2, timeoutMs: 5000 }));
    }
    // The probe route still answers without a certificate; the admin still works.
    assert.equal((await call({ port: s.port, ca: pki.caCert, path: '/v1/ready', http2 })).status, 200);
    assert.equal((await call({ port: s.port, ca: pki.caCert, client: admin, path: '/v1/status', http2 })).status, 200);
  }
});
