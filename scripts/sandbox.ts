/**
 * Local sandbox: OpenBao (dev) + the TypeScript KES server + MinIO on loopback, set up by the same
 * code as the end-to-end tests (sandbox/deployment.ts). Prints the endpoints, the credentials and
 * an `mc alias set` line, then runs until SIGINT/SIGTERM (Ctrl-C), when it stops every process
 * and removes its temporary folder.
 *
 *   node scripts/sandbox.ts [--kes-replicas N] [--minio-nodes N] [--minio-drives N] [--api-key]
 */
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Deployment, applyVaultSetup } from '../sandbox/deployment.ts';
import { startOpenBao } from '../sandbox/openbao.ts';
import type { OpenBao } from '../sandbox/openbao.ts';
import { peerBinDir } from '../sandbox/peers.ts';

const { values } = parseArgs({
  options: {
    'kes-replicas': { type: 'string', default: '1' },
    'minio-nodes': { type: 'string', default: '1' },
    'minio-drives': { type: 'string', default: '1' },
    'api-key': { type: 'boolean', default: false },
  },
});

function count(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 8) {
    console.error(`sandbox: --${name} must be an integer from 1 to 8`);
    process.exit(2);
  }
  return n;
}
const kesReplicas = count('kes-replicas', values['kes-replicas']);
const minioNodes = count('minio-nodes', values['minio-nodes']);
const minioDrives = count('minio-drives', values['minio-drives']);
if (minioNodes > 1 && minioNodes * minioDrives < 4) {
  console.error('sandbox: a distributed MinIO needs at least 4 drives in total (--minio-nodes × --minio-drives)');
  process.exit(2);
}

/** True when an executable `name` is in one of the PATH folders. */
function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((folder) => {
    if (folder === '') return false;
    try {
      accessSync(join(folder, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// Fail before anything starts when a peer is missing, and say how to get it.
const missing = (['bao', 'minio', 'mc'] as const).filter((peer) => !existsSync(join(peerBinDir, peer)));
if (missing.length > 0) {
  console.error(`sandbox: missing peer binaries in ${peerBinDir}: ${missing.join(', ')}`);
  console.error('sandbox: install them with `npm run peers` (builds the pinned OpenBao, minio/kes, MinIO and mc), then run the sandbox again');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'minio-sse-kes-sandbox-'));
let bao: OpenBao | undefined;
let deployment: Deployment | undefined;
let stopping: Promise<void> | undefined;

async function startUp(): Promise<void> {
  console.log(`sandbox: working folder ${dir}`);
  bao = await startOpenBao();
  const credentials = await applyVaultSetup(bao);
  deployment = await Deployment.start({
    dir,
    vault: bao,
    credentials,
    kesReplicas,
    minioNodes,
    minioDrives,
    minioAuth: values['api-key'] ? 'api-key' : 'certificate',
  });
}
const starting = startUp();

function teardown(): Promise<void> {
  stopping ??= (async () => {
    // A signal during start-up waits for it to settle (it is bounded), so that no process it
    // is about to start is missed.
    await starting.catch(() => undefined);
    try {
      await deployment?.stop();
    } finally {
      try {
        await bao?.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  })();
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping !== undefined) return;
    console.log(`sandbox: ${signal} received, stopping`);
    teardown().then(
      () => {
        console.log('sandbox: stopped, temporary folder removed');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`sandbox: teardown failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  });
}

try {
  await starting;
} catch (error) {
  console.error(`sandbox: start-up failed: ${(error as Error).message}`);
  await teardown();
  process.exit(1);
}
if (stopping !== undefined || deployment === undefined || bao === undefined) {
  // Stopped during start-up; the signal handler finishes the teardown and exits.
  await stopping;
} else {
  const { minio, kes, pki } = deployment;
  const rows: Array<[string, string]> = [
    ['MinIO S3 endpoints', minio.endpoints.join(' ')],
    ['MinIO root user', minio.rootUser],
    ['MinIO root password', minio.rootPassword],
    ['MinIO KMS default key', deployment.defaultKey],
    ['MinIO → KES auth', values['api-key'] ? 'kes:v1 API key (MINIO_KMS_KES_API_KEY)' : `client certificate ${pki.minio.certFile}`],
    ['KES endpoints', kes.map((k) => k.url).join(' ')],
    ['KES CA certificate', pki.caFile],
    ['KES admin cert / key', `${pki.admin.certFile} ${pki.admin.keyFile}`],
    ['KES configs', kes.map((k) => k.options.configFile).join(' ')],
    ['OpenBao (dev)', `${bao.address} root token: ${bao.rootToken}`],
    ['Logs', dir],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) console.log(`  ${name.padEnd(width)}  ${value}`);
  console.log('');
  console.log(`  mc alias set -- sandbox ${minio.endpoint} ${minio.rootUser} ${minio.rootPassword}`);
  console.log('  mc admin kms key create sandbox my-key && mc mb sandbox/demo && mc encrypt set sse-kms my-key sandbox/demo');
  if (!onPath('mc')) console.log(`  (there is no mc on PATH; the one installed with the peers is ${join(peerBinDir, 'mc')})`);
  console.log('');
  console.log('sandbox: ready (Ctrl-C stops everything and removes the working folder)');
}
