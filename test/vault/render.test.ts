/**
 * The Vault renderers as data. That OpenBao accepts and enforces what they render is tested in
 * policy.test.ts and keystore.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appRoleRoleParameters,
  defaultTokenPeriodSeconds,
  kesAppRoleName,
  kesVaultPolicyName,
  kvMountOptions,
  renderKesVaultPolicy,
  type KesVaultLayout,
} from '../../components/render/vault.ts';

const policyCases: Array<{ layout: KesVaultLayout; want: string }> = [
  {
    layout: { engine: 'kv', version: 'v1', prefix: '' },
    want: `path "kv/*" {
  capabilities = ["create", "read", "delete"]
}

path "kv/" {
  capabilities = ["list"]
}
`,
  },
  {
    layout: { engine: 'kv', version: 'v1', prefix: 'tenants/a' },
    want: `path "kv/tenants/a/*" {
  capabilities = ["create", "read", "delete"]
}

path "kv/tenants/a/" {
  capabilities = ["list"]
}
`,
  },
  {
    layout: { engine: 'secret', version: 'v2', prefix: '' },
    want: `path "secret/data/*" {
  capabilities = ["create", "read"]
}

path "secret/metadata/*" {
  capabilities = ["delete"]
}

path "secret/metadata/" {
  capabilities = ["list"]
}
`,
  },
  {
    layout: { engine: '/kv/', version: 'v2', prefix: '/kes/' },
    want: `path "kv/data/kes/*" {
  capabilities = ["create", "read"]
}

path "kv/metadata/kes/*" {
  capabilities = ["delete"]
}

path "kv/metadata/kes/" {
  capabilities = ["list"]
}
`,
  },
  {
    layout: { engine: 'kv', version: 'v1', prefix: 'kes', transit: { engine: 'transit', key: 'wrap' } },
    want: `path "kv/kes/*" {
  capabilities = ["create", "read", "delete"]
}

path "kv/kes/" {
  capabilities = ["list"]
}

path "transit/encrypt/wrap" {
  capabilities = ["update"]
}

path "transit/decrypt/wrap" {
  capabilities = ["update"]
}
`,
  },
];

for (const { layout, want } of policyCases) {
  test(`renderKesVaultPolicy(${JSON.stringify(layout)})`, () => {
    const got = renderKesVaultPolicy(layout);
    assert.equal(got, want);
    for (const m of got.matchAll(/path "([^"]+)" \{\n  capabilities = \[([^\]]*)\]/g)) {
      if (m[2].includes('"update"')) assert.match(m[1], /\/(en|de)crypt\//, `update only on transit paths, not ${m[1]}`);
    }
  });
}

test('renderKesVaultPolicy rejects malformed paths, naming the field', () => {
  const bad: Array<[KesVaultLayout, RegExp]> = [
    [{ engine: '', version: 'v1', prefix: '' }, /\[engine\]: must not be empty/],
    [{ engine: 'kv', version: 'v1', prefix: '../sys' }, /\[prefix\]/],
    [{ engine: 'k"v', version: 'v1', prefix: '' }, /\[engine\]/],
    [{ engine: 'kv', version: 'v1', prefix: 'a*' }, /\[prefix\]/],
    [{ engine: 'kv', version: 'v3' as 'v1', prefix: '' }, /\[version\]: 'v3'/],
    [{ engine: 'kv', version: 'v1', prefix: '', transit: { engine: 'transit', key: 'a/b' } }, /\[transit\.key\]/],
  ];
  for (const [layout, message] of bad) assert.throws(() => renderKesVaultPolicy(layout), message, JSON.stringify(layout));
});

test('appRoleRoleParameters: periodic service token, unlimited uses, no expiry of the secret id', () => {
  assert.deepEqual(appRoleRoleParameters({ policies: ['kes'] }), {
    token_policies: ['kes'],
    token_period: 300,
    token_ttl: 0,
    token_max_ttl: 0,
    token_num_uses: 0,
    token_type: 'service',
    bind_secret_id: true,
    secret_id_num_uses: 0,
    secret_id_ttl: 0,
  });
  assert.equal(appRoleRoleParameters({ policies: ['a', 'b'], tokenPeriodSeconds: 60 }).token_period, 60);
  assert.deepEqual(appRoleRoleParameters({ policies: ['a', 'b'] }).token_policies, ['a', 'b']);
  assert.throws(() => appRoleRoleParameters({ policies: ['kes'], tokenPeriodSeconds: 0 }), /\[tokenPeriodSeconds\]/);
  assert.throws(() => appRoleRoleParameters({ policies: ['kes'], tokenPeriodSeconds: 1.5 }), /\[tokenPeriodSeconds\]/);
  assert.throws(() => appRoleRoleParameters({ policies: [] }), /\[policies\]/);
});

test('kvMountOptions and defaults', () => {
  assert.deepEqual(kvMountOptions({ version: 'v1' }), { type: 'kv', options: { version: '1' } });
  assert.deepEqual(kvMountOptions({ version: 'v2' }), { type: 'kv', options: { version: '2' } });
  assert.throws(() => kvMountOptions({ version: 'v9' as 'v1' }), /\[version\]/);
  assert.equal(kesVaultPolicyName, 'kes');
  assert.equal(kesAppRoleName, 'kes');
  assert.equal(defaultTokenPeriodSeconds, 300);
});
