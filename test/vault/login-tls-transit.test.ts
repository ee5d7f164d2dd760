/**
 * Kubernetes login (through OpenBao's jwt auth mounted at `kubernetes`, with a JWT signed here),
 * TLS to OpenBao with and without the CA, and transit wrapping, all against a real OpenBao.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKeyStoreError } from '../../kes-server/src/keystore/errors.ts';
import { VaultKeyStore } from '../../kes-server/src/keystore/vault/index.ts';
import type { VaultOptions } from '../../kes-server/src/keystore/vault/options.ts';
import { appRoleRoleParameters, renderKesVaultPolicy } from '../../components/render/vault.ts';
import { startOpenBao, type OpenBao } from '../../sandbox/openbao.ts';
import { ensureAuth, provisionKes } from '../../sandbox/openbao-provision.ts';
import { createCertificate, createKeyPair } from '../../kes-server/src/tls/x509.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A service-account-like ES256 JWT. */
function signJwt(key: KeyObject, claims: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: 'test' }));
  const payload = b64url(JSON.stringify(claims));
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key, dsaEncoding: 'ieee-p1363' });
  return `${header}.${payload}.${b64url(signature)}`;
}

function serviceAccountClaims(sub: string, lifetimeSeconds = 600): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: 'https://kubernetes.default.svc', sub, aud: ['openbao'], iat: now, nbf: now - 5, exp: now + lifetimeSeconds };
}

let bao: OpenBao;
let dir: string;
before(async () => {
  bao = await startOpenBao();
  dir = await mkdtemp(join(tmpdir(), 'vault-login-test-'));
});
after(async () => {
  await bao?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Kubernetes login', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const subject = 'system:serviceaccount:minio:kes';
  let options: VaultOptions;

  before(async () => {
    const p = await provisionKes(bao, { layout: { engine: 'k8s', version: 'v2', prefix: 'kes' }, name: 'kes-k8s' });
    await ensureAuth(bao, 'kubernetes', 'jwt');
    await bao.requestOk('POST', 'auth/kubernetes/config', {
      jwt_validation_pubkeys: [publicKey.export({ type: 'spki', format: 'pem' })],
      bound_issuer: 'https://kubernetes.default.svc',
    });
    await bao.requestOk('POST', 'auth/kubernetes/role/kes', {
      role_type: 'jwt',
      user_claim: 'sub',
      bound_subject: subject,
      bound_audiences: ['openbao'],
      ...appRoleRoleParameters({ policies: ['kes-k8s'] }),
      bind_secret_id: undefined,
      secret_id_num_uses: undefined,
      secret_id_ttl: undefined,
    });
    const { approle: _unused, ...rest } = p.options;
    options = { ...rest, kubernetes: { engine: 'kubernetes', namespace: '', role: 'kes', jwt: '' } };
  });

  test('a JWT given inline logs in and the store works', async (t) => {
    const jwt = signJwt(privateKey, serviceAccountClaims(subject));
    const store = await VaultKeyStore.connect({ ...options, kubernetes: { ...options.kubernetes!, jwt } });
    t.after(() => store.close());
    await store.create('inline', enc('x'));
    assert.equal(dec(await store.get('inline')), 'x');
  });

  test('a JWT file is re-read at every login', async (t) => {
    const file = join(dir, 'token');
    await writeFile(file, signJwt(privateKey, serviceAccountClaims(subject)) + '\n');
    const store = await VaultKeyStore.connect({ ...options, kubernetes: { ...options.kubernetes!, jwt: file } });
    t.after(() => store.close());
    await store.create('from-file', enc('1'));

    // a JWT for another service account: the next login (forced by revoking tokens) must fail
    await writeFile(file, signJwt(privateKey, serviceAccountClaims('system:serviceaccount:other:intruder')));
    await bao.requestOk('PUT', 'sys/leases/revoke-prefix/auth/kubernetes/login', {});
    await assert.rejects(store.get('from-file'), (e: Error) => {
      assert.match(e.message, /failed to log in with Kubernetes at 'auth\/kubernetes\/login'/);
      return true;
    });

    // the rotated, valid JWT: the store recovers by reading the file again
    await writeFile(file, signJwt(privateKey, serviceAccountClaims(subject)));
    assert.equal(dec(await store.get('from-file')), '1');
  });

  test('a JWT signed by another key is refused at connect', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const jwt = signJwt(other, serviceAccountClaims(subject));
    await assert.rejects(VaultKeyStore.connect({ ...options, kubernetes: { ...options.kubernetes!, jwt } }), (e: Error) => {
      assert.match(e.message, /^vault: failed to log in with Kubernetes/);
      assert.ok(!e.message.includes(jwt), 'message holds no JWT');
      return true;
    });
  });

  test('a missing JWT file fails with a message naming the file', async () => {
    const file = join(dir, 'missing', 'token');
    await assert.rejects(VaultKeyStore.connect({ ...options, kubernetes: { ...options.kubernetes!, jwt: file } }), (e: Error) =>
      e.message.includes(`'${file}'`),
    );
  });
});

describe('TLS to OpenBao', () => {
  let tlsBao: OpenBao;
  let options: VaultOptions;
  before(async () => {
    tlsBao = await startOpenBao({ tls: true });
    options = (await provisionKes(tlsBao, { layout: { engine: 'kv', version: 'v1', prefix: '' } })).options;
  });
  after(() => tlsBao?.stop());

  test('works with tls.ca set to the CA file', async (t) => {
    assert.ok(tlsBao.address.startsWith('https://'));
    assert.ok(options.tls.ca !== '');
    const store = await VaultKeyStore.connect(options);
    t.after(() => store.close());
    await store.create('over-tls', enc('t'));
    assert.equal(dec(await store.get('over-tls')), 't');
    assert.ok((await store.status()).latencyMs >= 0);
  });

  test('works with tls.ca set to a folder holding the CA', async (t) => {
    const caDir = join(dir, 'cas');
    await mkdir(caDir, { recursive: true });
    await copyFile(tlsBao.caFile, join(caDir, 'openbao.pem'));
    const store = await VaultKeyStore.connect({ ...options, tls: { ...options.tls, ca: caDir } });
    t.after(() => store.close());
    assert.ok((await store.list('', 0)).names.includes('over-tls'));
    assert.equal(dec(await store.get('over-tls')), 't');
  });

  test('fails with a clear TLS error without the CA', async () => {
    await assert.rejects(VaultKeyStore.connect({ ...options, tls: { ...options.tls, ca: '' } }), (e: Error) => {
      assert.match(e.message, /^vault: failed to log in with AppRole/);
      assert.match(e.message, /TLS handshake failed/);
      assert.match(e.message, /tls\.ca/);
      return true;
    });
  });

  test('a missing CA file is reported with its path', async () => {
    const ca = join(dir, 'nope.pem');
    await assert.rejects(VaultKeyStore.connect({ ...options, tls: { ...options.tls, ca } }), (e: Error) =>
      isKeyStoreError(e, 'FAILED') && e.message.includes(`tls.ca '${ca}'`),
    );
  });
});

describe('mTLS to OpenBao', () => {
  let mtlsBao: OpenBao;
  let options: VaultOptions;
  const files = { ca: '', cert: '', key: '', otherCert: '', otherKey: '' };

  /** A leaf certificate signed by `issuer` (or self-signed), written to `<name>.pem`/`<name>.key`. */
  async function leaf(name: string, usage: 'serverAuth' | 'clientAuth', issuer?: { cert: string; key: KeyObject }) {
    const pair = createKeyPair('ecdsa-p256');
    const cert = createCertificate({
      commonName: name,
      publicKey: pair.publicKey,
      signingKey: issuer?.key ?? pair.privateKey,
      ...(issuer ? { issuer: new X509Certificate(issuer.cert) } : {}),
      notAfter: new Date(Date.now() + 86_400_000),
      ...(usage === 'serverAuth' ? { ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] } : {}),
      extKeyUsage: [usage],
    });
    await writeFile(join(dir, `${name}.pem`), cert);
    await writeFile(join(dir, `${name}.key`), pair.privateKeyPem, { mode: 0o600 });
    return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  }

  before(async () => {
    const caPair = createKeyPair('ecdsa-p256');
    const caPem = createCertificate({
      commonName: 'test vault ca',
      publicKey: caPair.publicKey,
      signingKey: caPair.privateKey,
      notAfter: new Date(Date.now() + 86_400_000),
      isCA: true,
    });
    files.ca = join(dir, 'mtls-ca.pem');
    await writeFile(files.ca, caPem);
    const server = await leaf('mtls-server', 'serverAuth', { cert: caPem, key: caPair.privateKey });
    const client = await leaf('mtls-client', 'clientAuth', { cert: caPem, key: caPair.privateKey });
    const stranger = await leaf('mtls-stranger', 'clientAuth');
    Object.assign(files, { cert: client.cert, key: client.key, otherCert: stranger.cert, otherKey: stranger.key });
    mtlsBao = await startOpenBao({ tlsListener: { certFile: server.cert, keyFile: server.key, clientCaFile: files.ca } });
    const p = await provisionKes(mtlsBao, { layout: { engine: 'kv', version: 'v2', prefix: 'mtls' } });
    options = { ...p.options, endpoint: mtlsBao.listenerAddress, tls: { ca: files.ca, cert: files.cert, key: files.key } };
  });
  after(() => mtlsBao?.stop());

  test('works with a client certificate issued by the CA OpenBao trusts', async (t) => {
    assert.match(mtlsBao.listenerAddress, /^https:\/\/127\.0\.0\.1:\d+$/);
    const store = await VaultKeyStore.connect(options);
    t.after(() => store.close());
    await store.create('over-mtls', enc('m'));
    assert.equal(dec(await store.get('over-mtls')), 'm');
  });

  test('fails without a client certificate and with an untrusted one', async () => {
    const cases = [
      { tls: { ca: files.ca, cert: '', key: '' }, reason: /CERTIFICATE_REQUIRED/ },
      { tls: { ca: files.ca, cert: files.otherCert, key: files.otherKey }, reason: /UNKNOWN_CA/ },
    ];
    for (const { tls, reason } of cases) {
      await assert.rejects(VaultKeyStore.connect({ ...options, tls }), (e: Error) => {
        assert.match(e.message, /^vault: failed to log in with AppRole at 'auth\/approle\/login': PUT auth\/approle\/login: TLS handshake failed/);
        assert.match(e.message, reason);
        return true;
      });
    }
  });

  test('a client certificate without its key is a configuration error', async () => {
    await assert.rejects(
      VaultKeyStore.connect({ ...options, tls: { ...options.tls, key: '' } }),
      (e) => isKeyStoreError(e, 'FAILED') && /tls\.cert and tls\.key/.test(e.message),
    );
  });
});

describe('transit wrapping', () => {
  let options: VaultOptions;
  before(async () => {
    const layout = { engine: 'wrapped', version: 'v2', prefix: 'kes', transit: { engine: 'transit', key: 'kes-wrap' } } as const;
    await bao.requestOk('POST', 'sys/mounts/transit', { type: 'transit' });
    await bao.requestOk('POST', 'transit/keys/kes-wrap', {});
    const p = await provisionKes(bao, { layout, name: 'kes-transit' });
    assert.match(p.policy, /transit\/encrypt\/kes-wrap/);
    assert.equal(p.policy, renderKesVaultPolicy(layout));
    options = { ...p.options, transit: layout.transit };
  });

  test('values are stored as transit ciphertexts and read back', async (t) => {
    const store = await VaultKeyStore.connect(options);
    t.after(() => store.close());
    const value = 'CiQKIHR9dGVzdC1rZXktbWF0ZXJpYWwtMDEyMzQ1Njc4OWFiEAES';
    await store.create('wrapped', enc(value));
    const raw = await bao.requestOk('GET', 'wrapped/data/kes/wrapped');
    const stored: string = raw.body.data.data.wrapped;
    assert.ok(stored.startsWith('vault:v1:'), 'stored as a transit ciphertext');
    assert.ok(!stored.includes(value));
    assert.equal(dec(await store.get('wrapped')), value);
  });

  test('a store without transit refuses a wrapped value', async (t) => {
    const { transit: _unused, ...plain } = options;
    const store = await VaultKeyStore.connect(plain);
    t.after(() => store.close());
    await assert.rejects(store.get('wrapped'), (e) => isKeyStoreError(e, 'FAILED') && /transit-encrypted/.test(e.message));
  });

  test('after a transit key rotation, create refuses vault:v2 ciphertexts', async (t) => {
    const store = await VaultKeyStore.connect(options);
    t.after(() => store.close());
    await store.create('before-rotation', enc('old'));
    await bao.requestOk('POST', 'transit/keys/kes-wrap/rotate', {});
    await assert.rejects(store.create('after-rotation', enc('new')), (e) => isKeyStoreError(e, 'FAILED') && /vault:v1:/.test(e.message));
    await assert.rejects(store.get('after-rotation'), (e) => isKeyStoreError(e, 'KEY_NOT_FOUND'));
    assert.equal(dec(await store.get('before-rotation')), 'old');
  });
});

test('the CA file of a TLS OpenBao is a PEM certificate', async (t) => {
  const own = await startOpenBao({ tls: true });
  t.after(() => own.stop());
  assert.match(await readFile(own.caFile, 'utf8'), /^-----BEGIN CERTIFICATE-----/);
});
