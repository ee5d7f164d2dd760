/**
 * Streaming log routes (docs/protocol.md#log-routes, #logs): 200 and headers at once, then one NDJSON line per event
 * until the client disconnects. Subscribers are removed on disconnect.
 */
import type { LogHub } from '../../log/hub.ts';
import type { RequestContext, Reply } from '../route.ts';
import type { ServerState } from '../state.ts';

function stream(ctx: RequestContext, hub: LogHub): Promise<Reply> {
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
  // Send the headers now: clients wait for them before reading lines.
  ctx.res.write('');
  const unsubscribe = hub.subscribe(ctx.res);
  const release = ctx.holdOpen();
  return new Promise((resolve) => {
    const stop = (): void => {
      unsubscribe();
      release();
      resolve({ kind: 'streamed' });
    };
    if (ctx.signal.aborted) stop();
    else ctx.signal.addEventListener('abort', stop, { once: true });
  });
}

export function errorLog(ctx: RequestContext, state: ServerState): Promise<Reply> {
  return stream(ctx, state.errorLog.hub);
}

export function auditLog(ctx: RequestContext, state: ServerState): Promise<Reply> {
  return stream(ctx, state.auditLog.hub);
}
