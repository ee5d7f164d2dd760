/**
 * The `@pulumi/command` realization refuses what it does not realize before it connects anywhere,
 * and does nothing for unchanged inputs. (Runs over real SSH are in test/linux/.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realizeCopyToRemote, realizeRemoteCommand } from '../../realize/command.ts';

// Port 9 on loopback: nothing there, so a realization that tried to connect would fail differently.
const connection = { host: '127.0.0.1', port: 9, user: 'root', privateKey: 'KEY', dialErrorLimit: 1, perDialTimeout: 1 };

test('an input field the realization does not know stops it, naming the field', async () => {
  await assert.rejects(realizeRemoteCommand('c', { connection, create: 'true', interpreter: ['sh'] }), /field \[interpreter\] is not supported/);
  await assert.rejects(realizeRemoteCommand('c', { connection: { ...connection, proxy: { host: 'bastion' } }, create: 'true' }), /connection: field \[proxy\] is not supported/);
  await assert.rejects(realizeRemoteCommand('c', { connection: { ...connection, password: 'pw' }, create: 'true' }), /connection: field \[password\] is not supported/);
  await assert.rejects(realizeCopyToRemote('c', { connection, remotePath: '/x', source: { text: 'a' }, mode: '0600' }), /field \[mode\] is not supported/);
  await assert.rejects(realizeRemoteCommand('c', { connection, create: 'true', logging: 'all' }), /invalid \[logging\]/);
});

test('unchanged inputs return the stored outputs without connecting', async () => {
  const inputs = { connection, create: 'sh -s', stdin: 'echo hi', triggers: ['a'] };
  const prior = { inputs, outputs: { ...inputs, stdout: 'hi\n', stderr: '' } };
  const r = await realizeRemoteCommand('c', structuredClone(inputs), prior);
  assert.equal(r.operation, 'none');
  assert.equal(r.outputs.stdout, 'hi\n');
});

test('a failed command names its exit code, and with logging none keeps its output out of the message', async () => {
  // Nothing listens on port 9: ssh exits 255 after one dial attempt.
  const e = await realizeRemoteCommand('c', { connection, create: 'sh -s', stdin: 'SECRET', logging: 'none' }).then(
    () => assert.fail('should fail'),
    (x: Error) => x,
  );
  assert.match(e.message, /exited with 255 on 127\.0\.0\.1 \(output withheld: logging is none\)/);
  assert.doesNotMatch(e.message, /SECRET|refused/);
});
