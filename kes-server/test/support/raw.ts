/** Raw HTTP/1.1 over mTLS: the bytes exactly as written, the answer as the server sent it. */
import { connect, type TLSSocket } from 'node:tls';

export interface RawCredential {
  readonly cert: string;
  readonly key: string;
}

export interface RawResult {
  /** Status of the first final response (after any `100 Continue`), 0 when there was none. */
  readonly status: number;
  /** The whole byte stream the server sent, as latin1 text. */
  readonly text: string;
  /** The first final response's status line and headers. */
  readonly head: string;
  /** The first final response's body (after the blank line). */
  readonly body: string;
  /** True when the server closed the connection before `limitMs`. */
  readonly closed: boolean;
}

export interface RawOptions {
  readonly port: number;
  readonly ca: string;
  readonly client?: RawCredential;
  /** Written in this order; a number pauses that many ms. */
  readonly parts: ReadonlyArray<string | Uint8Array | number>;
  /** Resolve after this long even if the connection stays open (default 3 s). */
  readonly limitMs?: number;
  /** Resolve as soon as one full response (with Content-Length) arrived. */
  readonly firstResponse?: boolean;
}

function parse(all: string): { status: number; head: string; body: string; complete: boolean } {
  // Interim answers (`100 Continue`) come before the response proper.
  const text = all.replace(/^(?:HTTP\/1\.[01] 1\d\d [^\r]*\r\n(?:[^\r]+\r\n)*\r\n)+/, '');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  const split = text.indexOf('\r\n\r\n');
  if (!m || split < 0) return { status: m ? Number(m[1]) : 0, head: '', body: '', complete: false };
  const head = text.slice(0, split);
  const len = /\r\ncontent-length: *(\d+)/i.exec(head);
  const rest = text.slice(split + 4);
  const body = len ? rest.slice(0, Number(len[1])) : rest;
  return { status: Number(m[1]), head, body, complete: len !== null && rest.length >= Number(len[1]) };
}

export function rawExchange(o: RawOptions): Promise<RawResult> {
  return new Promise((resolve) => {
    let text = '';
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const p = parse(text);
      resolve({ status: p.status, text, head: p.head, body: p.body, closed });
    };
    const socket: TLSSocket = connect(
      { host: '127.0.0.1', port: o.port, ca: o.ca, servername: 'localhost', ALPNProtocols: ['http/1.1'], ...(o.client ? { cert: o.client.cert, key: o.client.key } : {}) },
      () => void write(),
    );
    const write = async (): Promise<void> => {
      for (const part of o.parts) {
        if (done) return;
        if (typeof part === 'number') await new Promise((r) => setTimeout(r, part));
        else socket.write(part);
      }
    };
    const timer = setTimeout(() => finish(false), o.limitMs ?? 3000);
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (o.firstResponse && parse(text).complete) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}
