/** Starts a KesServer over real mTLS on 127.0.0.1 port 0 with the in-memory key store. */
import type { TestContext } from 'node:test';
import { KeyCache } from '../../src/cache/key-cache.ts';
import type { KeyStore } from '../../src/keystore/keystore.ts';
import { MemKeyStore } from '../../src/keystore/mem.ts';
import { AuditLog } from '../../src/log/audit-log.ts';
import { ErrorLog } from '../../src/log/error-log.ts';
import { type KesServerOptions, KesServer } from '../../src/server.ts';
import type { ApiOverride } from '../../src/http/routes.ts';
import type { PolicyDefinitions } from '../../src/auth/policy.ts';
import type { Pki } from './pki.ts';
import { runLog } from '../../../sandbox/log-sweep.ts';

export interface TestServer {
  readonly server: KesServer;
  readonly port: number;
  readonly store: KeyStore;
  /** Console lines of the error and audit logs. */
  readonly errorLines: string[];
  readonly auditLines: string[];
}

export interface StartOptions {
  readonly admin: string;
  readonly policies?: PolicyDefinitions;
  readonly api?: ReadonlyMap<string, ApiOverride>;
  readonly auth?: boolean;
  readonly keys?: readonly string[];
  readonly store?: KeyStore;
  readonly extra?: Partial<KesServerOptions>;
  readonly errorLevel?: number;
}

export async function startKes(t: TestContext | { after: (fn: () => Promise<void>) => void }, pki: Pki, o: StartOptions): Promise<TestServer> {
  const store = o.store ?? new MemKeyStore();
  const errorLines: string[] = [];
  const auditLines: string[] = [];
  const keep = runLog('kes-test-server.log');
  const server = new KesServer({
    admin: o.admin,
    policies: o.policies ?? new Map(),
    api: o.api ?? new Map(),
    cache: new KeyCache(store, { anyMs: 300_000, unusedMs: 30_000, offlineMs: 0 }),
    keys: o.keys ?? [],
    tls: { key: pki.server.key, cert: pki.server.cert, password: '', ca: [pki.caCert], auth: o.auth ?? false },
    errorLog: new ErrorLog({ level: o.errorLevel ?? -4, console: (l) => (keep(l), errorLines.push(l)) }),
    auditLog: new AuditLog({ level: 0, console: (l) => (keep(l), auditLines.push(l)) }),
    ...o.extra,
  });
  const addr = await server.listen('127.0.0.1:0');
  t.after(() => server.close(100));
  return { server, port: addr.port, store, errorLines, auditLines };
}
