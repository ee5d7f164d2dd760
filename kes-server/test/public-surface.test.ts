/**
 * The package exports its curated entry point and nothing else: internal modules cannot be
 * imported by path through the package name, and the entry point runs a dev server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientCertificateOfApiKey } from '../src/tls/x509.ts';
import { call } from './support/client.ts';

test('the package entry point exports exactly the public surface', async () => {
  const api = await import('kes-server');
  assert.deepEqual(Object.keys(api).sort(), [
    'ApiError',
    'ApiKeyError',
    'AuditLog',
    'ConfigError',
    'ErrorLog',
    'FsKeyStore',
    'KesServer',
    'KeyStoreError',
    'MemKeyStore',
    'VaultKeyStore',
    'byteOrder',
    'connectKeyStore',
    'devSettings',
    'generateApiKey',
    'identityOfCertificate',
    'identityOfPublicKey',
    'isKeyStoreError',
    'listPage',
    'loadConfig',
    'parseApiKey',
    'parseConfig',
    'settingsFromConfig',
  ]);
});

test('internal modules are not exported by path', async () => {
  for (const path of ['kes-server/src/server.ts', 'kes-server/src/http/errors.ts', 'kes-server/package.json']) {
    await assert.rejects(import(path), (err: NodeJS.ErrnoException) => err.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED', path);
  }
});

test('a dev server started through the public API creates a key for its admin API key', async (t) => {
  const { KesServer, devSettings } = await import('kes-server');
  const dev = devSettings('127.0.0.1:0');
  const server = new KesServer(dev.settings);
  const { port } = await server.listen('127.0.0.1:0');
  t.after(() => server.close());
  // The dev certificate is self-signed: it is its own CA.
  const ca = dev.settings.tls.cert;
  const client = clientCertificateOfApiKey(dev.apiKey);
  assert.equal((await call({ port, ca, client, method: 'POST', path: '/v1/key/create/surface' })).status, 200);
  const described = await call({ port, ca, client, path: '/v1/key/describe/surface' });
  assert.equal(JSON.parse(described.text).created_by, dev.apiKey.identity);
});
