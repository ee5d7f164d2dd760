/**
 * `kes-server server --dev` (docs/protocol.md#config-dev-mode): an ephemeral ECDSA P-256 server certificate, a fresh
 * API key whose identity is the admin, the in-memory key store, cache any 5m / unused 30s.
 */
import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { generateApiKey, type ApiKey } from '../auth/api-key.ts';
import { KeyCache } from '../cache/key-cache.ts';
import { MemKeyStore } from '../keystore/mem.ts';
import { LevelInfo } from '../log/slog.ts';
import type { ServerSettings } from '../server.ts';
import { splitHostPort } from '../server.ts';
import { createCertificate, createKeyPair } from '../tls/x509.ts';

const DAY_MS = 24 * 3600 * 1000;

/**
 * IP SANs for a listen host: the host itself, or for an unspecified address every
 * non-link-local unicast address of this machine (IPv4 first), always including loopback.
 */
function certificateIps(host: string, interfaces = networkInterfaces()): string[] {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return [host];
  const all = Object.values(interfaces).flatMap((list) => list ?? []);
  const usable = all
    .filter((a) => (a.family === 'IPv4' ? !a.address.startsWith('169.254.') : host === '::' && !a.address.toLowerCase().startsWith('fe80:')))
    .map((a) => a.address);
  const ips = new Set(['127.0.0.1', ...usable.filter((a) => isIP(a) === 4), ...usable.filter((a) => isIP(a) === 6)]);
  return [...ips];
}

export interface DevSetup {
  readonly settings: ServerSettings;
  readonly apiKey: ApiKey;
}

export function devSettings(address: string): DevSetup {
  const { host } = splitHostPort(address);
  const keys = createKeyPair('ecdsa-p256');
  const now = new Date();
  const cert = createCertificate({
    commonName: 'localhost',
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    notBefore: now,
    notAfter: new Date(now.getTime() + 90 * DAY_MS),
    ipAddresses: certificateIps(host),
    dnsNames: ['localhost'],
    extKeyUsage: ['serverAuth'],
  });
  const apiKey = generateApiKey();
  return {
    apiKey,
    settings: {
      admin: apiKey.identity,
      policies: new Map(),
      api: new Map(),
      cache: new KeyCache(new MemKeyStore(), { anyMs: 5 * 60_000, unusedMs: 30_000, offlineMs: 0 }),
      keys: [],
      tls: { key: keys.privateKeyPem, cert, password: '', ca: [], auth: false },
      log: { error: LevelInfo, audit: LevelInfo },
    },
  };
}
