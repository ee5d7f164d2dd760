/**
 * `npm run exhaust` (add `-- --smoke` for the CI sizes): every attack of attacks.ts against this
 * server and against minio/kes, started side by side from the same configuration; prints one
 * table row per attack and server.
 */
import { call } from '../support/client.ts';
import { makePki } from '../support/pki.ts';
import { startSideBySide } from '../support/side-by-side.ts';
import { FULL, type Outcome, runAll, SMOKE } from './attacks.ts';

const size = process.argv.includes('--smoke') ? SMOKE : FULL;
const cleanups: Array<() => Promise<void>> = [];
const pki = makePki();
const admin = pki.issueClient('admin');
try {
  const servers = await startSideBySide({ after: (fn) => cleanups.push(fn) }, pki, { admin: admin.identity, policies: {}, probe: admin });
  const rows: Array<[string, Outcome]> = [];
  for (const s of servers.values()) {
    const created = await call({ port: s.port, ca: pki.caCert, client: admin, method: 'PUT', path: '/v1/key/create/probe-key' });
    if (created.status !== 200) throw new Error(`${s.name}: cannot create the probe key: ${created.text}`);
    const label = s.name === 'ts' ? 'kes-server' : 'minio/kes';
    process.stderr.write(`attacking ${label} …\n`);
    for (const o of await runAll({ port: s.port, ca: pki.caCert, client: admin, pid: s.process.process!.pid, key: 'probe-key' }, size)) rows.push([label, o]);
  }
  const f = (n: number): string => (Number.isNaN(n) ? '-' : n.toFixed(0));
  console.log('| attack | server | what the attack got | probe during: ok/total, p50/max ms | probe after | RSS MiB before → peak → after |');
  console.log('|---|---|---|---|---|---|');
  for (const [label, o] of rows) {
    const d = o.probeDuring;
    const a = o.probeAfter;
    console.log(`| ${o.attack} | ${label} | ${o.detail} | ${d.ok}/${d.total}, ${f(d.p50Ms)}/${f(d.maxMs)} | ${a.ok}/${a.total}, ${f(a.p50Ms)}/${f(a.maxMs)} | ${f(o.rssBeforeMiB)} → ${f(o.rssPeakMiB)} → ${f(o.rssAfterMiB)} |`);
  }
} finally {
  for (const c of cleanups) await c();
}
