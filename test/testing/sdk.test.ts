/**
 * The SDK adapter of `minio-sse-kes/testing` against the installed @pulumi/pulumi: what it learns
 * about a registration (URN, parent, dependencies, provider), how it recognises a secret input, and
 * that `allRegistered` waits for registrations started later from outputs. If an SDK upgrade
 * changes the mock monitor, these tests fail here first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as pulumi from '@pulumi/pulumi';
import { allRegistered, isSecretValue, startMockMonitor } from '../../components/testing/sdk.ts';

const registered = await startMockMonitor('adapter', 'unit', (type) => (type === 'test:index:Thing' ? { computed: 'yes' } : {}));

class Thing extends pulumi.CustomResource {
  declare readonly computed: pulumi.Output<string>;
  constructor(name: string, props: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions) {
    super('test:index:Thing', name, { computed: undefined, ...props }, opts);
  }
}
class Group extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super('test:index:Group', name, {}, opts);
  }
}
class ThingProvider extends pulumi.ProviderResource {
  constructor(name: string) {
    super('test', name, {});
  }
}

test('a registration carries its URN, parent, dependencies, provider, retainOnDelete, inputs and computed outputs', async () => {
  const group = new Group('g');
  const provider = new ThingProvider('p');
  const first = new Thing('first', { size: 3 }, { parent: group, provider });
  new Thing('second', { from: first.computed }, { parent: group, dependsOn: [first], retainOnDelete: true });
  await allRegistered();
  const by = (name: string) => registered.find((r) => r.name === name)!;
  assert.equal(by('g').urn, 'urn:pulumi:unit::adapter::test:index:Group::g');
  assert.equal(by('g').custom, false);
  assert.equal(by('first').urn, 'urn:pulumi:unit::adapter::test:index:Group$test:index:Thing::first');
  assert.equal(by('first').parent, by('g').urn);
  assert.match(by('first').provider ?? '', /^urn:pulumi:unit::adapter::pulumi:providers:test::p::/);
  assert.equal(by('first').inputs.size, 3);
  assert.equal(by('first').outputs.computed, 'yes');
  assert.deepEqual(by('second').dependencies, [by('first').urn]);
  assert.equal(by('second').inputs.from, 'yes');
  assert.deepEqual([by('first').retainOnDelete, by('second').retainOnDelete], [false, true]);
});

test('secret inputs are recognised, plain ones are not', async () => {
  new Thing('secretive', { token: pulumi.secret('hunter2'), open: 'visible' });
  await allRegistered();
  const r = registered.find((x) => x.name === 'secretive')!;
  assert.equal(isSecretValue(r.inputs.token), true);
  assert.equal((r.inputs.token as { value: unknown }).value, 'hunter2');
  assert.equal(isSecretValue(r.inputs.open), false);
  assert.equal(isSecretValue({ value: 'x' }), false);
});

test('allRegistered waits for registrations that start only once an output is known', async () => {
  const seed = new Thing('seed', {});
  seed.computed.apply((v) => new Thing(`late-${v}`, {}));
  await allRegistered();
  assert.ok(registered.some((r) => r.name === 'late-yes'), registered.map((r) => r.name).join(', '));
});
