/**
 * This server and the pinned minio/kes binary started from the same configuration (mTLS with
 * the test CA, `tls.auth: on`, an fs key store each, the given policies), so that one request
 * list can be sent to both and the answers compared.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KesProcess } from '../../../sandbox/kes-process.ts';
import { freePort } from '../../../sandbox/process.ts';
import type { Pki } from './pki.ts';

export interface PolicyYaml {
  readonly allow: readonly string[];
  readonly deny?: readonly string[];
  readonly identities: readonly string[];
}

export interface SideBySideOptions {
  readonly admin: string;
  readonly policies: Readonly<Record<string, PolicyYaml>>;
  /** Keys created at start-up. */
  readonly keys?: readonly string[];
  /** Routes whose `skip_auth` is on. */
  readonly skipAuth?: readonly string[];
  /** Probe identity for readiness (CA-issued certificate of the admin). */
  readonly probe: { readonly cert: string; readonly key: string };
  /** Which servers to start; default both. */
  readonly implementations?: ReadonlyArray<'ts' | 'upstream'>;
  /** Worker processes of this server; default 1. */
  readonly workers?: number;
}

export interface Running {
  readonly name: 'ts' | 'upstream';
  readonly port: number;
  readonly process: KesProcess;
  readonly keyDir: string;
}

/** Renders the configuration both servers read. */
export function renderSideBySideConfig(o: SideBySideOptions, port: number, files: { key: string; cert: string; ca: string; keyDir: string }): string {
  const lines = ['version: v1', `address: 127.0.0.1:${port}`, 'admin:', `  identity: ${o.admin}`];
  lines.push('tls:', `  key: ${files.key}`, `  cert: ${files.cert}`, '  auth: on', `  ca: ${files.ca}`);
  if (o.skipAuth && o.skipAuth.length > 0) {
    lines.push('api:');
    for (const path of o.skipAuth) lines.push(`  ${path}:`, '    skip_auth: true');
  }
  lines.push('log:', '  error: on', '  audit: off', 'policy:');
  for (const [name, p] of Object.entries(o.policies)) {
    lines.push(`  ${name}:`, '    allow:', ...p.allow.map((a) => `      - ${a}`));
    if (p.deny && p.deny.length > 0) lines.push('    deny:', ...p.deny.map((d) => `      - ${d}`));
    lines.push('    identities:', ...p.identities.map((i) => `      - ${i}`));
  }
  if (o.keys && o.keys.length > 0) lines.push('keys:', ...o.keys.map((k) => `  - name: ${k}`));
  lines.push('keystore:', '  fs:', `    path: ${files.keyDir}`, '');
  return lines.join('\n');
}

/** Starts the servers; `t.after` stops them and removes their files. */
export async function startSideBySide(t: { after: (fn: () => Promise<void>) => void }, pki: Pki, o: SideBySideOptions): Promise<Map<'ts' | 'upstream', Running>> {
  const dir = await mkdtemp(join(tmpdir(), 'kes-side-'));
  const key = join(dir, 'server.key');
  const cert = join(dir, 'server.crt');
  const ca = join(dir, 'ca.crt');
  await writeFile(key, pki.server.key, { mode: 0o600 });
  await writeFile(cert, pki.server.cert);
  await writeFile(ca, pki.caCert);
  const out = new Map<'ts' | 'upstream', Running>();
  t.after(async () => {
    for (const r of out.values()) await r.process.stop();
    await rm(dir, { recursive: true, force: true });
  });
  for (const name of o.implementations ?? ['ts', 'upstream']) {
    const port = await freePort();
    const keyDir = join(dir, `${name}-keys`);
    await mkdir(keyDir, { mode: 0o700 });
    const configFile = join(dir, `${name}.yml`);
    await writeFile(configFile, renderSideBySideConfig(o, port, { key, cert, ca, keyDir }));
    const process = await KesProcess.start({
      configFile,
      port,
      logDir: dir,
      ca: pki.caCert,
      clientCert: o.probe.cert,
      clientKey: o.probe.key,
      implementation: name,
      workers: o.workers ?? 1,
      name,
    });
    out.set(name, { name, port, process, keyDir });
  }
  return out;
}
