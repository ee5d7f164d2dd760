/**
 * HTTP/2 clients resetting their streams with any error code, at once or while the answer is
 * under way (a log stream): the server keeps running and serving, as minio/kes does. Node emits a
 * reset with a code other than CANCEL as an 'error' on the server's stream, which ended the
 * process when nothing listened for it.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { call } from '../support/client.ts';
import { makePki } from '../support/pki.ts';
import { startSideBySide } from '../support/side-by-side.ts';

/** PROTOCOL_ERROR, INTERNAL_ERROR, CANCEL, ENHANCE_YOUR_CALM. */
const CODES = [1, 2, 8, 11];
const PATHS = ['/version', '/v1/key/list/', '/v1/key/describe/k1', '/v1/log/error', '/v1/log/audit'];

test('HTTP/2 streams reset by the client with any code, at once or mid-answer, leave the server running (this server and minio/kes)', async (t) => {
  const pki = makePki();
  const admin = pki.issueClient('admin');
  const servers = await startSideBySide(t, pki, { admin: admin.identity, policies: {}, probe: admin, keys: ['k1'] });
  const open = (port: number) => {
    const session = connect(`https://127.0.0.1:${port}`, { servername: 'localhost', ca: pki.caCert, cert: admin.cert, key: admin.key });
    session.on('error', () => {});
    return session;
  };
  for (const s of servers.values()) {
    let resets = 0;
    for (const path of PATHS) {
      for (const code of CODES) {
        // At once, on a session of their own (a client may lose its session over it): the reset
        // may arrive before the server has answered.
        const burst = open(s.port);
        for (let i = 0; i < 20; i++) {
          const stream = burst.request({ ':path': path });
          stream.on('error', () => {});
          stream.close(code);
          resets++;
        }
        // Once the answer has begun (a log stream stays open then; minio/kes sends its headers
        // only with the first line, so 300 ms at most).
        const session = open(s.port);
        const stream = session.request({ ':path': path });
        stream.on('error', () => {});
        await new Promise<void>((resolve) => {
          stream.once('response', () => resolve());
          stream.once('close', () => resolve());
          setTimeout(resolve, 300);
        });
        stream.close(code);
        resets++;
        await sleep(20);
        burst.destroy();
        session.destroy();
      }
    }
    await sleep(300);
    t.diagnostic(`${s.name}: ${resets} streams reset`);
    assert.equal(s.process.running, true, `${s.name} is gone:\n${s.process.logTail(12)}`);
    const version = await call({ port: s.port, ca: pki.caCert, client: admin, path: '/version', http2: true });
    assert.equal(version.status, 200, `${s.name}: ${version.text}`);
  }
});
