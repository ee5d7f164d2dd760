import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderKesConfig } from '../../components/render/kes-config.ts';
import { caCertSpec, kesIdentityOfPublicKeyPem, kesServerSans, serverCertSpec, x509Fields } from '../../components/render/pki.ts';
import { createCertificate } from '../../kes-server/src/tls/x509.ts';

const main = fileURLToPath(new URL('../../kes-server/src/cli/main.ts', import.meta.url));

test('the KES server starts from a rendered config (fs keystore) and answers /v1/ready', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kes-rendered-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caPem = createCertificate({ ...x509Fields(caCertSpec('test-ca', 24)), publicKey: caKeys.publicKey, signingKey: caKeys.privateKey });
  const serverKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spec = serverCertSpec('kes', kesServerSans({ target: 'linux', hosts: ['127.0.0.1'] }), 24);
  writeFileSync(join(dir, 'server.crt'), createCertificate({ ...x509Fields(spec), publicKey: serverKeys.publicKey, signingKey: caKeys.privateKey, issuer: new X509Certificate(caPem) }));
  writeFileSync(join(dir, 'server.key'), serverKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const admin = kesIdentityOfPublicKeyPem(generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const minio = kesIdentityOfPublicKeyPem(generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const config = renderKesConfig({
    address: '127.0.0.1:0',
    adminIdentity: admin,
    minioIdentity: minio,
    tls: { keyFile: join(dir, 'server.key'), certFile: join(dir, 'server.crt') },
    keys: ['minio-default'],
    keystore: { kind: 'fs', path: join(dir, 'keys') },
  });
  writeFileSync(join(dir, 'config.yaml'), config);

  const child = spawn(process.execPath, [main, 'server', '--config', join(dir, 'config.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`KES did not print its endpoint within 20 s: ${output.slice(0, 2000)}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /Endpoint:\s+(https:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`KES exited with ${code}: ${output.slice(0, 2000)}`));
    });
  });
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${endpoint}/v1/ready`, { ca: caPem, timeout: 10_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 200);
});
