/** The HTTP/2 exchange's answers: frames, and how the stream ends once its last write is done. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Http2Exchange } from '../../src/http/exchange.ts';

interface Ended {
  readonly finished: boolean;
  readonly writableFinished: boolean;
  readonly errored: Error | null;
}

/**
 * Serves `requests` streams that read their body and then answer 200 with a body through the
 * exchange; resolves with how each server stream ended.
 */
async function serve(t: { after: (fn: () => void) => void }, requests: number, body: string | undefined): Promise<{ answers: string[]; ended: Ended[] }> {
  const ended: Ended[] = [];
  const closed: Promise<void>[] = [];
  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    let finished = false;
    stream.on('finish', () => (finished = true));
    closed.push(
      once(stream, 'close').then(() => {
        ended.push({ finished, writableFinished: stream.writableFinished, errored: stream.errored });
      }),
    );
    stream.resume();
    stream.on('end', () => {
      const ex = new Http2Exchange(stream, headers);
      ex.writeHead(200, { 'Content-Type': 'application/json' });
      ex.end('{"answer":42}\n');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  t.after(() => session.close());
  const answers = await Promise.all(
    Array.from({ length: requests }, () => {
      const req = session.request({ ':method': 'PUT', ':path': '/' }, { endStream: body === undefined });
      if (body !== undefined) req.end(body);
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (text += c));
      return once(req, 'end').then(() => text);
    }),
  );
  while (closed.length < requests) await new Promise((r) => setImmediate(r));
  await Promise.all(closed);
  return { answers, ended };
}

for (const body of [undefined, '{"context":"eA=="}']) {
  test(`an HTTP/2 answer's stream finishes its last write before it is destroyed (${body === undefined ? 'no request body' : 'request body read'})`, async (t) => {
    const { answers, ended } = await serve(t, 50, body);
    assert.deepEqual(answers, Array(50).fill('{"answer":42}\n'));
    // Destroyed before the write's completion, a stream never emits 'finish' and Node's Writable
    // builds an ERR_STREAM_DESTROYED with a stack trace for it (see destroyOnceWritten).
    for (const e of ended) assert.deepEqual(e, { finished: true, writableFinished: true, errored: null });
  });
}
