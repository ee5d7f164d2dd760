/**
 * `Pulumi.yaml`: the program entry runs on any Node (a clear message below 22.18), and its
 * `config:` schema declares every key the program reads, with a type Pulumi accepts, a
 * description, and the program's own defaults; the stack files give integers as integers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { PROJECT, readStackConfig } from '../../stacks/config.ts';
import { nodeProblem } from '../../stacks/node-version.js';

type Declared = { type: string; items?: { type: string }; default?: unknown; description?: string; secret?: boolean };
const project = parse(readFileSync(new URL('../../Pulumi.yaml', import.meta.url), 'utf8')) as { main: string; config: Record<string, Declared> };
const dir = new URL('../../stacks/', import.meta.url);
const stackFiles = readdirSync(dir).filter((f) => /^Pulumi\..+\.yaml$/.test(f));
const stackConfig = (file: string) => (parse(readFileSync(new URL(file, dir), 'utf8')) as { config: Record<string, unknown> }).config;
/** Lists of objects, which the schema cannot type (Pulumi.yaml names them in a comment). */
const OBJECT_LISTS = ['buckets', 'kesHosts', 'minioHosts'];

/** Every key the program asks for while reading `config` (string values, as pulumi.Config gives them). */
function keysRead(config: Record<string, unknown>, env: Record<string, string> = {}): Set<string> {
  const asked = new Set<string>();
  const get = (key: string) => {
    asked.add(key);
    const v = config[`${PROJECT}:${key}`];
    return v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v);
  };
  readStackConfig(get, env, 'schema');
  return asked;
}

test('Pulumi.yaml runs stacks/main.js, whose Node check names the version and the fix', async () => {
  assert.equal(project.main, 'stacks/main.js');
  for (const ok of ['22.18.0', '22.21.1', '23.6.0', '24.0.0', '26.1.0']) assert.equal(nodeProblem(ok), undefined, ok);
  for (const old of ['18.20.4', '20.19.0', '22.17.1', '23.5.0']) {
    const problem = nodeProblem(old) ?? '';
    assert.match(problem, new RegExp(`which is ${old.replace(/\./g, '\\.')}; it needs Node >= 22\\.18\\.0`));
    assert.match(problem, /node_modules\/\.bin/);
  }
  const main = await import('../../stacks/main.js');
  assert.equal(typeof main.default, 'function');
  assert.deepEqual(Object.keys(main), ['default'], 'Pulumi accepts a default export only when it is the only one');
});

test('every config entry has a type Pulumi accepts, a description, and a default of that type', () => {
  const ofType = (t: string, v: unknown) => (t === 'integer' ? Number.isInteger(v) : t === 'array' ? Array.isArray(v) : typeof v === t);
  for (const [key, d] of Object.entries(project.config)) {
    assert.ok(['string', 'integer', 'boolean', 'array'].includes(d.type), `${key}: type ${d.type}`);
    if (d.type === 'array') assert.ok(d.items && ['string', 'integer', 'boolean'].includes(d.items.type), `${key}: items`);
    assert.ok(typeof d.description === 'string' && d.description.length > 10, `${key}: description`);
    if ('default' in d) assert.ok(ofType(d.type, d.default), `${key}: default ${JSON.stringify(d.default)} is a ${d.type}`);
  }
});

test('the schema declares exactly the keys the program reads (lists of objects aside)', () => {
  const read = new Set<string>();
  const token = { [`${PROJECT}:vaultToken`]: 't' };
  for (const file of stackFiles) for (const k of keysRead({ ...stackConfig(file), ...token })) read.add(k);
  // Keys only read on some paths: outside-cluster endpoints, the SSH key (read, absent above).
  const outside = { ...stackConfig('Pulumi.kubernetes.yaml'), ...token, [`${PROJECT}:minioProviderEndpoint`]: 's3.example.net:443' };
  for (const k of keysRead(outside)) read.add(k);
  const declared = new Set(Object.keys(project.config));
  assert.deepEqual([...read].filter((k) => !declared.has(k)).sort(), OBJECT_LISTS);
  assert.deepEqual([...declared].filter((k) => !read.has(k)).sort(), []);
  assert.equal(project.config.vaultToken.secret, true);
  assert.equal(project.config.sshPrivateKey.secret, true);
});

test('the defaults Pulumi.yaml declares are the program\'s own', () => {
  const defaults = Object.fromEntries(Object.entries(project.config).filter(([, d]) => 'default' in d).map(([k, d]) => [`${PROJECT}:${k}`, d.default]));
  for (const file of stackFiles) {
    const given = { ...stackConfig(file), [`${PROJECT}:vaultToken`]: 't' };
    const withDefaults = { ...defaults, ...given };
    const read = (c: Record<string, unknown>) => {
      const args = readStackConfig((k) => (c[`${PROJECT}:${k}`] === undefined ? undefined : String(typeof c[`${PROJECT}:${k}`] === 'object' ? JSON.stringify(c[`${PROJECT}:${k}`]) : c[`${PROJECT}:${k}`])), {}, 'defaults');
      return JSON.parse(JSON.stringify(args, (k, v) => (k === 'token' || k === 'privateKey' ? '<secret>' : v)));
    };
    assert.deepEqual(read(withDefaults), read(given), file);
  }
});

test('stack files give each value the schema type: integers as integers, booleans as booleans', () => {
  for (const file of stackFiles) {
    for (const [key, v] of Object.entries(stackConfig(file))) {
      const d = project.config[key.slice(PROJECT.length + 1)];
      if (d === undefined) {
        assert.ok(OBJECT_LISTS.includes(key.slice(PROJECT.length + 1)), `${file}: ${key} is declared`);
        continue;
      }
      const ok = d.type === 'integer' ? Number.isInteger(v) : d.type === 'array' ? Array.isArray(v) : typeof v === d.type;
      assert.ok(ok, `${file}: ${key} is a ${d.type}, got ${JSON.stringify(v)}`);
    }
  }
});
