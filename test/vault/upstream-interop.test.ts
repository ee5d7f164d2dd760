/**
 * Interoperability with the reference server: the upstream `kes` binary and VaultKeyStore share
 * one OpenBao (same engine, prefix and policy). Keys made by upstream are read and used here,
 * keys made here are used by upstream (through the upstream `kes` CLI).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateApiKey, type ApiKey } from '../../kes-server/src/auth/api-key.ts';
import { decrypt, encrypt, generateKeyVersion } from '../../kes-server/src/crypto/key.ts';
import { encodeKeyVersion, parseKeyVersion } from '../../kes-server/src/crypto/stored-key.ts';
import { VaultKeyStore } from '../../kes-server/src/keystore/vault/index.ts';
import type { VaultOptions } from '../../kes-server/src/keystore/vault/options.ts';
import { clientCertificateOfApiKey, createCertificate, createKeyPair } from '../../kes-server/src/tls/x509.ts';
import { KesProcess } from '../../sandbox/kes-process.ts';
import { peerPath } from '../../sandbox/peers.ts';
import { freePort, startOpenBao, type OpenBao } from '../../sandbox/openbao.ts';
import { provisionKes } from '../../sandbox/openbao-provision.ts';

const run = promisify(execFile);
const enc = (s: string) => new TextEncoder().encode(s);

let bao: OpenBao;
let dir: string;
let serverCert: string;
let serverKey: string;
let apiKey: ApiKey;

before(async () => {
  peerPath('kes');
  bao = await startOpenBao();
  dir = await mkdtemp(join(tmpdir(), 'vault-interop-'));
  const pair = createKeyPair('ecdsa-p256');
  serverCert = createCertificate({
    commonName: 'localhost',
    publicKey: pair.publicKey,
    signingKey: pair.privateKey,
    notAfter: new Date(Date.now() + 86_400_000),
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    extKeyUsage: ['serverAuth'],
  });
  serverKey = pair.privateKeyPem;
  apiKey = generateApiKey();
});
after(async () => {
  await bao?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Upstream `kes` server config for the given Vault options (written as the upstream docs show). */
function upstreamConfig(port: number, options: VaultOptions, files: { cert: string; key: string }): string {
  const a = options.approle!;
  return [
    `address: 127.0.0.1:${port}`,
    'admin:',
    `  identity: ${apiKey.identity}`,
    'tls:',
    `  key: ${files.key}`,
    `  cert: ${files.cert}`,
    'cache:',
    '  expiry:',
    '    any: 1s',
    '    unused: 1s',
    'log:',
    '  error: on',
    '  audit: off',
    'keystore:',
    '  vault:',
    `    endpoint: ${options.endpoint}`,
    `    engine: ${options.engine}`,
    `    version: ${options.version}`,
    ...(options.prefix ? [`    prefix: ${options.prefix}`] : []),
    ...(options.namespace ? [`    namespace: ${options.namespace}`] : []),
    '    approle:',
    `      id: \${KES_TEST_APPROLE_ID}`,
    `      secret: \${KES_TEST_APPROLE_SECRET}`,
    '    status:',
    '      ping: 10s',
    '',
  ].join('\n');
}

for (const version of ['v1', 'v2'] as const) {
  describe(`upstream kes and VaultKeyStore on one OpenBao (kv ${version})`, () => {
    let options: VaultOptions;
    let kes: KesProcess;
    let store: VaultKeyStore;

    /** Runs the upstream CLI against the upstream server (or `server`); returns stdout. */
    async function cli(...args: string[]): Promise<string> {
      return cliAt(kes, ...args);
    }
    async function cliAt(server: KesProcess, ...args: string[]): Promise<string> {
      const { stdout } = await run(peerPath('kes'), args, {
        env: { PATH: process.env.PATH ?? '', HOME: dir, KES_SERVER: server.url, KES_API_KEY: apiKey.toString() },
        timeout: 20_000,
      });
      return stdout;
    }

    let roleId = '';
    let secretId = '';
    let files = { cert: '', key: '' };

    before(async () => {
      const engine = `interop${version}`;
      const p = await provisionKes(bao, { layout: { engine, version, prefix: 'kes/keys' }, name: `kes-${engine}` });
      options = p.options;
      roleId = p.roleId;
      secretId = p.secretId;
      const port = await freePort();
      files = { cert: join(dir, `${version}.crt`), key: join(dir, `${version}.key`) };
      await writeFile(files.cert, serverCert);
      await writeFile(files.key, serverKey, { mode: 0o600 });
      const configFile = join(dir, `kes-${version}.yml`);
      await writeFile(configFile, upstreamConfig(port, options, files));
      const client = clientCertificateOfApiKey(apiKey);
      kes = await KesProcess.start({
        configFile,
        port,
        logDir: dir,
        ca: serverCert,
        implementation: 'upstream',
        name: `upstream-kes-${version}`,
        env: { KES_TEST_APPROLE_ID: p.roleId, KES_TEST_APPROLE_SECRET: p.secretId },
        clientCert: client.cert,
        clientKey: client.key,
      }).catch(async (err) => {
        throw new Error(`upstream kes did not start: ${(err as Error).message}`);
      });
      store = await VaultKeyStore.connect(options);
    });
    after(async () => {
      await store?.close();
      await kes?.stop();
    });

    test('a key created by upstream is readable here and decrypts upstream ciphertexts', async () => {
      await cli('key', 'create', '-k', 'made-upstream');
      const kv = parseKeyVersion(await store.get('made-upstream'));
      assert.equal(kv.key.length, 32);
      const dek = JSON.parse(await cli('key', 'dek', '-k', 'made-upstream'));
      const plaintext = Buffer.from(dek.plaintext, 'base64');
      assert.equal(plaintext.length, 32);
      assert.deepEqual(Buffer.from(decrypt(kv, Buffer.from(dek.ciphertext, 'base64'), new Uint8Array())), plaintext);

      const context = 'bucket/object';
      // the CLI takes the context base64-encoded
      const dek2 = JSON.parse(await cli('key', 'dek', '-k', 'made-upstream', Buffer.from(context).toString('base64')));
      assert.deepEqual(
        Buffer.from(decrypt(kv, Buffer.from(dek2.ciphertext, 'base64'), enc(context))),
        Buffer.from(dek2.plaintext, 'base64'),
      );
      assert.throws(() => decrypt(kv, Buffer.from(dek2.ciphertext, 'base64'), enc('other')));
    });

    test('a key created here is usable by upstream in both directions', async () => {
      const kv = generateKeyVersion(apiKey.identity);
      await store.create('made-here', encodeKeyVersion(kv));
      // upstream generates a data key: decrypt it here
      const dek = JSON.parse(await cli('key', 'dek', '-k', 'made-here'));
      assert.deepEqual(Buffer.from(decrypt(kv, Buffer.from(dek.ciphertext, 'base64'), new Uint8Array())), Buffer.from(dek.plaintext, 'base64'));
      // encrypt here: upstream decrypts
      const secret = Buffer.from('0123456789abcdef0123456789abcdef');
      const ciphertext = Buffer.from(encrypt(kv, secret, new Uint8Array())).toString('base64');
      const out = JSON.parse(await cli('key', 'decrypt', '-k', 'made-here', ciphertext));
      assert.deepEqual(Buffer.from(out.plaintext, 'base64'), secret);
    });

    test('upstream lists the keys of both, and refuses to overwrite a key made here', async () => {
      const listed = await cli('key', 'ls', '-k', '--json');
      for (const name of ['made-upstream', 'made-here']) assert.ok(listed.includes(`"${name}"`), `upstream list lacks ${name}`);
      await assert.rejects(cli('key', 'create', '-k', 'made-here'), /already exists/);
      const names = (await store.list('made-', 0)).names;
      assert.deepEqual(names, ['made-here', 'made-upstream']);
    });

    test('the TypeScript kes-server on the same OpenBao: data keys cross between the two servers', async (t) => {
      const port = await freePort();
      const configFile = join(dir, `kes-ts-${version}.yml`);
      await writeFile(configFile, upstreamConfig(port, options, files));
      const client = clientCertificateOfApiKey(apiKey);
      const ts = await KesProcess.start({
        configFile,
        port,
        logDir: dir,
        ca: serverCert,
        implementation: 'ts',
        name: `ts-kes-${version}`,
        env: { KES_TEST_APPROLE_ID: roleId, KES_TEST_APPROLE_SECRET: secretId },
        clientCert: client.cert,
        clientKey: client.key,
      });
      t.after(() => ts.stop());
      const context = Buffer.from('bucket/object').toString('base64');
      // created by the TypeScript server, data key from upstream, decrypted by the TypeScript server
      await cliAt(ts, 'key', 'create', '-k', 'made-by-ts');
      const dek1 = JSON.parse(await cliAt(kes, 'key', 'dek', '-k', 'made-by-ts', context));
      const out1 = JSON.parse(await cliAt(ts, 'key', 'decrypt', '-k', 'made-by-ts', dek1.ciphertext, context));
      assert.equal(out1.plaintext, dek1.plaintext);
      // created by upstream, data key from the TypeScript server, decrypted by upstream
      await cliAt(kes, 'key', 'create', '-k', 'made-by-upstream');
      const dek2 = JSON.parse(await cliAt(ts, 'key', 'dek', '-k', 'made-by-upstream', context));
      const out2 = JSON.parse(await cliAt(kes, 'key', 'decrypt', '-k', 'made-by-upstream', dek2.ciphertext, context));
      assert.equal(out2.plaintext, dek2.plaintext);
      assert.equal(Buffer.from(out2.plaintext, 'base64').length, 32);
      // a key created on one server exists for the other
      await assert.rejects(cliAt(ts, 'key', 'create', '-k', 'made-by-upstream'), /already exists/);
    });
  });
}
