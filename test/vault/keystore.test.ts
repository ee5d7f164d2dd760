/**
 * The shared keystore conformance suite against a real OpenBao, provisioned with the policy,
 * role and mount from components/render/vault.ts: K/V v1 and v2, with and without prefix, in the
 * root namespace and in a namespace.
 */
import { after, before } from 'node:test';
import { keystoreSuite } from '../../kes-server/test/support/keystore-suite.ts';
import { VaultKeyStore } from '../../kes-server/src/keystore/vault/index.ts';
import type { VaultOptions } from '../../kes-server/src/keystore/vault/options.ts';
import { startOpenBao, type OpenBao } from '../../sandbox/openbao.ts';
import { provisionKes } from '../../sandbox/openbao-provision.ts';

const cases = [
  { title: 'kv v1, no prefix', engine: 'kv1', version: 'v1', prefix: '', namespace: '' },
  { title: 'kv v1, prefix', engine: 'kv1p', version: 'v1', prefix: 'kes/keys', namespace: '' },
  { title: 'kv v2, no prefix', engine: 'kv2', version: 'v2', prefix: '', namespace: '' },
  { title: 'kv v2, prefix', engine: 'kv2p', version: 'v2', prefix: 'kes', namespace: '' },
  { title: 'kv v1, prefix, namespace', engine: 'kv', version: 'v1', prefix: 'kes', namespace: 'tenant1' },
  { title: 'kv v2, no prefix, namespace', engine: 'kv', version: 'v2', prefix: '', namespace: 'tenant2' },
] as const;

let bao: OpenBao;
const options = new Map<string, VaultOptions>();

before(async () => {
  bao = await startOpenBao();
  for (const c of cases) {
    const p = await provisionKes(bao, {
      layout: { engine: c.engine, version: c.version, prefix: c.prefix },
      namespace: c.namespace,
      name: `kes-${c.engine}`,
    });
    options.set(c.title, p.options);
  }
});
after(() => bao?.stop());

for (const c of cases) {
  keystoreSuite(`vault (${c.title})`, () => VaultKeyStore.connect(options.get(c.title)!), { deleteMissingSucceeds: true });
}
