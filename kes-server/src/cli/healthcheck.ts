/**
 * Container health probe: `GET /v1/ready` on the local listener. It presents no client
 * certificate, so it expects the configuration to contain `api: /v1/ready: skip_auth: true`
 * (the project's config renderer sets it). Exit code 0 when ready, 1 otherwise.
 * The address comes from `KES_HEALTHCHECK_ADDR` (default 127.0.0.1:7373).
 */
import { request } from 'node:https';

const addr = process.env.KES_HEALTHCHECK_ADDR ?? '127.0.0.1:7373';
const sep = addr.lastIndexOf(':');
const req = request(
  {
    host: addr.slice(0, sep).replace(/^\[|\]$/g, ''),
    port: Number(addr.slice(sep + 1)),
    path: '/v1/ready',
    method: 'GET',
    // Only liveness of the local process is checked, not the server's certificate.
    rejectUnauthorized: false,
    timeout: 5000,
  },
  (res) => {
    res.resume();
    process.exit(res.statusCode === 200 ? 0 : 1);
  },
);
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
req.end();
