/**
 * The `keystore` section (docs/protocol.md#config-keystore): exactly one backend. This server implements `fs` and
 * `vault`; the other upstream backends are recognised so that the error can say so.
 */
import type { VaultOptions } from '../keystore/vault/options.ts';
import { ConfigError } from './errors.ts';
import type { KeystoreConfig } from './types.ts';
import type { ConfigNode } from './yaml-node.ts';

// Upstream backends this server does not implement: block path → name in messages.
const UNSUPPORTED: Array<[string, string, string]> = [
  ['aws', 'secretsmanager', 'aws.secretsmanager'],
  ['gcp', 'secretmanager', 'gcp.secretmanager'],
  ['azure', 'keyvault', 'azure.keyvault'],
  ['fortanix', 'sdkms', 'fortanix.sdkms'],
  ['gemalto', 'keysecure', 'gemalto.keysecure'],
  ['entrust', 'keycontrol', 'entrust.keycontrol'],
];

const DEFAULT_STATUS_PING_MS = 15_000;

/**
 * Reads `keystore`. Throws ConfigError when no or more than one backend is configured, when the
 * backend is not supported by this server, or when a required backend field is missing.
 */
export function readKeystore(root: ConfigNode): KeystoreConfig {
  const ks = root.get('keystore');
  const present: Array<[string, ConfigNode]> = [];
  if (!ks.get('fs').isNull()) present.push(['fs', ks.get('fs')]);
  if (!ks.get('vault').isNull()) present.push(['vault', ks.get('vault')]);
  for (const [outer, inner, name] of UNSUPPORTED) {
    const block = ks.get(outer).get(inner);
    if (!block.isNull()) present.push([name, block]);
  }
  // A `keystore.kes` block is parsed but counts as no keystore (docs/protocol.md#config-keystore).
  if (present.length === 0) throw new ConfigError('keystore', 'no keystore specified (expected keystore.fs or keystore.vault)', ks.line);
  if (present.length > 1) {
    throw new ConfigError('keystore', `more than one keystore specified: ${present.map(([n]) => n).join(', ')}`, ks.line);
  }
  const [name, block] = present[0];
  if (name === 'fs') return readFs(block);
  if (name === 'vault') return { kind: 'vault', options: readVault(block) };
  throw new ConfigError('keystore', `'keystore.${name}': the ${name} keystore is not supported by this server (use fs or vault)`, block.line);
}

function readFs(fs: ConfigNode): KeystoreConfig {
  const path = fs.get('path');
  const value = path.string().trim();
  if (value === '') throw path.error('is required');
  return { kind: 'fs', path: value };
}

// A block counts as configured when any of its fields except the legacy `retry` is set.
function configured(block: ConfigNode): boolean {
  return block.entries().some(([key, node]) => key !== 'retry' && node.string().trim() !== '');
}

function required(node: ConfigNode): string {
  const value = node.string().trim();
  if (value === '') throw node.error('is required');
  return value;
}

function readVault(vault: ConfigNode): VaultOptions {
  const endpoint = required(vault.get('endpoint'));
  const versionNode = vault.get('version');
  const version = versionNode.string().trim() || 'v1';
  if (version !== 'v1' && version !== 'v2') throw versionNode.error(`must be 'v1' or 'v2'`);

  const approle = vault.get('approle');
  const kubernetes = vault.get('kubernetes');
  const useApprole = configured(approle);
  const useKubernetes = configured(kubernetes);
  if (useApprole && useKubernetes) {
    throw new ConfigError('keystore', `'keystore.vault': approle and kubernetes are mutually exclusive`, vault.line);
  }
  if (!useApprole && !useKubernetes) {
    throw new ConfigError('keystore', `'keystore.vault': one of approle or kubernetes is required`, vault.line);
  }

  const transit = vault.get('transit');
  const tls = vault.get('tls');
  const tlsKey = tls.get('key').string().trim();
  const tlsCert = tls.get('cert').string().trim();
  if ((tlsKey === '') !== (tlsCert === '')) {
    throw (tlsKey === '' ? tls.get('key') : tls.get('cert')).error('is required when keystore.vault.tls.' + (tlsKey === '' ? 'cert' : 'key') + ' is set');
  }

  return {
    endpoint,
    engine: vault.get('engine').string().trim() || 'kv',
    version,
    namespace: vault.get('namespace').string().trim(),
    prefix: vault.get('prefix').string().trim(),
    ...(useApprole && {
      approle: {
        engine: approle.get('engine').string().trim() || 'approle',
        namespace: approle.get('namespace').string().trim(),
        id: required(approle.get('id')),
        secret: required(approle.get('secret')),
      },
    }),
    ...(useKubernetes && {
      kubernetes: {
        engine: kubernetes.get('engine').string().trim() || 'kubernetes',
        namespace: kubernetes.get('namespace').string().trim(),
        role: kubernetes.get('role').string().trim(),
        jwt: required(kubernetes.get('jwt')),
      },
    }),
    ...(configured(transit) && {
      transit: { engine: transit.get('engine').string().trim() || 'transit', key: required(transit.get('key')) },
    }),
    tls: { key: tlsKey, cert: tlsCert, ca: tls.get('ca').string().trim() },
    statusPingMs: vault.get('status').get('ping').durationMs() || DEFAULT_STATUS_PING_MS,
  };
}
