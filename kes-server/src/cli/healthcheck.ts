/**
 * Container health probe: `GET /v1/ready` on the server's own listener. The address is the one the
 * server listens on: `KES_HEALTHCHECK_ADDR` if set, else the `--addr` or the config file's
 * `address` of the server command line (this probe's arguments, or else those of the container's
 * process 1), else 127.0.0.1:7373; a wildcard host is probed on loopback. It presents no client
 * certificate, so the config needs `api: /v1/ready: skip_auth: true` (the project's config renderer
 * sets it). Exit code 0 when ready; otherwise 1 and the reason on stderr (Docker keeps it in the
 * container's health log).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { parse } from 'yaml';
import { errorMessage } from '../errors.ts';

const FALLBACK = '127.0.0.1:7373';

/** The value of `--name VALUE` or `--name=VALUE` in a command line. */
function flag(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

function serverArgs(): string[] {
  if (process.argv.length > 2) return process.argv.slice(2);
  try {
    return readFileSync('/proc/1/cmdline', 'utf8').split('\0');
  } catch {
    return [];
  }
}

function listenAddress(): string {
  if (process.env.KES_HEALTHCHECK_ADDR) return process.env.KES_HEALTHCHECK_ADDR;
  const args = serverArgs();
  const addr = flag(args, 'addr');
  if (addr) return addr;
  const config = flag(args, 'config');
  if (!config) return FALLBACK;
  const doc = parse(readFileSync(config, 'utf8')) as { address?: unknown } | null;
  return typeof doc?.address === 'string' && doc.address !== '' ? doc.address : '0.0.0.0:7373';
}

function fail(why: string): never {
  process.stderr.write(`kes healthcheck: ${why}\n`);
  process.exit(1);
}

let addr: string;
try {
  addr = listenAddress();
} catch (e) {
  fail(`cannot read the listen address: ${errorMessage(e)}`);
}
const sep = addr.lastIndexOf(':');
let host = addr.slice(0, sep).replace(/^\[|\]$/g, '');
if (host === '' || host === '0.0.0.0') host = '127.0.0.1';
if (host === '::') host = '::1';
const where = `https://${host.includes(':') ? `[${host}]` : host}:${addr.slice(sep + 1)}/v1/ready`;
const req = request(
  {
    host,
    port: Number(addr.slice(sep + 1)),
    path: '/v1/ready',
    method: 'GET',
    // Only readiness of the local process is checked, not the server's certificate.
    rejectUnauthorized: false,
    timeout: 5000,
  },
  (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (body = (body + c).slice(0, 300)));
    res.on('end', () => (res.statusCode === 200 ? process.exit(0) : fail(`GET ${where} answered ${res.statusCode} ${body.trim()}`)));
  },
);
req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
req.on('error', (e) => fail(`GET ${where}: ${e.message}`));
req.end();
