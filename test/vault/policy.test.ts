/**
 * The rendered KES policy against a real OpenBao: it is enough (every keystore operation works),
 * it is minimal (dropping any single capability breaks an operation), and it is least privilege
 * (the AppRole token gets 403 for everything outside the key folder).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isKeyStoreError } from '../../kes-server/src/keystore/errors.ts';
import { VaultKeyStore } from '../../kes-server/src/keystore/vault/index.ts';
import type { KeyStore } from '../../kes-server/src/keystore/keystore.ts';
import { renderKesVaultPolicy, type KesVaultLayout } from '../../components/render/vault.ts';
import { startOpenBao, type OpenBao } from '../../sandbox/openbao.ts';
import { provisionKes, type Provisioned } from '../../sandbox/openbao-provision.ts';

let bao: OpenBao;
before(async () => {
  bao = await startOpenBao();
});
after(() => bao?.stop());

/** Runs every keystore operation once; resolves only when all of them behaved. */
async function exercise(store: KeyStore, tag: string): Promise<void> {
  const name = `probe-${tag}`;
  await store.create(name, new TextEncoder().encode('value'));
  await assert.rejects(store.create(name, new TextEncoder().encode('other')), (e) => isKeyStoreError(e, 'KEY_EXISTS'));
  assert.equal(new TextDecoder().decode(await store.get(name)), 'value');
  assert.ok((await store.list('probe-', 0)).names.includes(name), 'list shows the key');
  await store.delete(name);
  await assert.rejects(store.get(name), (e) => isKeyStoreError(e, 'KEY_NOT_FOUND'));
}

interface Block {
  path: string;
  capabilities: string[];
}

/** Reads back the blocks of a rendered policy (the renderer's own, simple format). */
function parsePolicy(hcl: string): Block[] {
  const blocks = [...hcl.matchAll(/path "([^"]+)" \{\s*capabilities = \[([^\]]*)\]\s*\}/g)].map((m) => ({
    path: m[1],
    capabilities: [...m[2].matchAll(/"([^"]+)"/g)].map((c) => c[1]),
  }));
  assert.ok(blocks.length > 0, 'policy has blocks');
  return blocks;
}

function printPolicy(blocks: Block[]): string {
  return blocks
    .map((b) => `path "${b.path}" {\n  capabilities = [${b.capabilities.map((c) => `"${c}"`).join(', ')}]\n}\n`)
    .join('\n');
}

const layouts: Array<KesVaultLayout & { namespace: string }> = [
  { engine: 'lp1', version: 'v1', prefix: 'kes', namespace: '' },
  { engine: 'lp2', version: 'v2', prefix: 'kes', namespace: '' },
  { engine: 'lp1r', version: 'v1', prefix: '', namespace: '' },
  { engine: 'lp2r', version: 'v2', prefix: '', namespace: '' },
  { engine: 'lpn', version: 'v2', prefix: 'a/b', namespace: 'lp-ns' },
];

for (const layout of layouts) {
  const title = `${layout.version}, prefix '${layout.prefix}'${layout.namespace ? `, namespace ${layout.namespace}` : ''}`;
  describe(`vault policy (${title})`, () => {
    let p: Provisioned;
    const name = `kes-${layout.engine}`;
    const ns = { namespace: layout.namespace };
    before(async () => {
      p = await provisionKes(bao, { layout, namespace: layout.namespace, name });
    });

    test('the rendered policy allows every keystore operation', async (t) => {
      const store = await VaultKeyStore.connect(p.options);
      t.after(() => store.close());
      await exercise(store, 'full');
    });

    test('dropping any single capability breaks a keystore operation', async (t) => {
      const blocks = parsePolicy(renderKesVaultPolicy(layout));
      assert.equal(printPolicy(blocks), renderKesVaultPolicy(layout), 'parser round-trips the policy');
      t.after(() => bao.requestOk('PUT', `sys/policies/acl/${name}`, { policy: p.policy }, ns));
      let variants = 0;
      for (let i = 0; i < blocks.length; i++) {
        for (const cap of blocks[i].capabilities) {
          const reduced = blocks
            .map((b, j) => (j === i ? { ...b, capabilities: b.capabilities.filter((c) => c !== cap) } : b))
            .filter((b) => b.capabilities.length > 0);
          await bao.requestOk('PUT', `sys/policies/acl/${name}`, { policy: printPolicy(reduced) }, ns);
          const store = await VaultKeyStore.connect(p.options);
          try {
            await assert.rejects(exercise(store, `${i}-${cap}`), `without '${cap}' on '${blocks[i].path}' all operations still work`);
          } finally {
            await store.close();
          }
          variants++;
        }
      }
      assert.ok(variants >= 4, `${variants} variants tried`);
      await bao.requestOk('PUT', `sys/policies/acl/${name}`, { policy: p.policy }, ns);
    });

    test('the AppRole token is denied everything outside the key folder', async () => {
      const login = await bao.requestOk('POST', 'auth/approle/login', { role_id: p.roleId, secret_id: p.secretId }, ns);
      const token: string = login.body.auth.client_token;
      const as = { token, namespace: layout.namespace };
      await bao.requestOk('POST', `sys/mounts/${layout.engine}-other`, { type: 'kv', options: { version: '1' } }, ns);
      const data = layout.version === 'v2' ? 'data/' : '';
      const meta = layout.version === 'v2' ? 'metadata/' : '';
      const outside = layout.prefix ? `${layout.engine}/${data}elsewhere/k` : `${layout.engine}-other/k`;
      const denied: Array<[string, string, unknown?]> = [
        ['GET', outside],
        ['PUT', outside, layout.version === 'v2' ? { data: { k: 'v' } } : { k: 'v' }],
        ['GET', `${layout.engine}-other/k`],
        ['PUT', `${layout.engine}-other/k`, { k: 'v' }],
        ['GET', `${layout.engine}-other?list=true`],
        ['GET', 'sys/mounts'],
        ['GET', `sys/policy/${name}`],
        ['GET', `sys/policies/acl/${name}`],
        ['PUT', `sys/policies/acl/${name}`, { policy: 'path "*" { capabilities = ["sudo"] }' }],
        ['POST', 'auth/token/create', { policies: ['root'] }],
        ['POST', 'auth/token/create', { policies: [name, 'default'], no_default_policy: false, ttl: '1h' }],
        ['GET', `auth/approle/role/${name}/role-id`],
        ['POST', `auth/approle/role/${name}/secret-id`, {}],
      ];
      if (layout.prefix) denied.push(['GET', `${layout.engine}/${meta}?list=true`]);
      if (layout.namespace) denied.push(['GET', `${layout.engine}/${data}k`, undefined]);
      for (const [i, [method, path, body]] of denied.entries()) {
        // the last entry for a namespace: the same path in the root namespace
        const opts = layout.namespace && i === denied.length - 1 ? { token } : as;
        const res = await bao.request(method, path, body, opts);
        assert.equal(res.status, 403, `${method} ${path} ${opts === as ? '' : '(root namespace) '}answered ${res.status}`);
      }
      // while the same token may use its folder
      const mine = layout.version === 'v2' ? `${layout.engine}/data/${layout.prefix ? `${layout.prefix}/` : ''}mine` : `${layout.engine}/${layout.prefix ? `${layout.prefix}/` : ''}mine`;
      const body = layout.version === 'v2' ? { options: { cas: 0 }, data: { mine: 'v' } } : { mine: 'v' };
      const ok = await bao.request('PUT', mine, body, as);
      assert.ok(ok.status === 200 || ok.status === 204, `PUT ${mine} answered ${ok.status}`);
    });
  });
}
