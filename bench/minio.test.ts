/**
 * Through-MinIO benchmark checks: SigV4 against the published AWS examples, metrics parsing,
 * options, the table; the S3 load against a fake S3 server whose answers are wrong (every wrong
 * answer must fail the loop); and a small real run: one MinIO behind minio/kes and behind
 * kes-server, every answer checked, one KES request per S3 request, none to the idle server.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { minioPolicyAllow } from '../components/render/kes-config.ts';
import { generateApiKey } from '../kes-server/src/auth/api-key.ts';
import { parseConfig } from '../kes-server/src/config/index.ts';
import { OptionsError } from './options.ts';
import { makeCredentials, writeConfigs } from './setup.ts';
import { parseKesCounts } from './minio/kes-counts.ts';
import { CheckError, runLoad, type LoadSpec } from './minio/load.ts';
import { runWaitMs } from './minio/measure.ts';
import { parseMinioOptions } from './minio/options.ts';
import { RouteCounter, routeOf } from './minio/route-counter.ts';
import { runMinioBench } from './minio/run.ts';
import { S3Client } from './minio/s3.ts';
import { EMPTY_SHA256, SigV4Signer, uriEncode } from './minio/sigv4.ts';
import { combine, renderFooter, renderMinioTable, totals, withRatios, type MinioSample } from './minio/table.ts';

test('SigV4: the signatures of the AWS S3 documentation examples', () => {
  const signer = new SigV4Signer({ accessKey: 'AKIAIOSFODNN7EXAMPLE', secretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', region: 'us-east-1' });
  const base = { host: 'examplebucket.s3.amazonaws.com', payloadSha256: EMPTY_SHA256, now: new Date('2013-05-24T00:00:00Z') };
  const getObject = signer.sign({ ...base, method: 'GET', path: '/test.txt', headers: { range: 'bytes=0-9' } });
  assert.equal(
    getObject.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  );
  assert.equal(getObject['x-amz-date'], '20130524T000000Z');
  const listObjects = signer.sign({ ...base, method: 'GET', path: '/', query: { 'max-keys': '2', prefix: 'J' } });
  assert.match(listObjects.authorization, /,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7$/);
  assert.equal(uriEncode("a b!*'()/"), 'a%20b%21%2A%27%28%29%2F');
});

test('run-queue wait: summed over the threads of a process, 0 for a process that is gone', async () => {
  // This process waits for a CPU now and then; the counter only grows.
  const a = await runWaitMs(process.pid);
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(a >= 0 && (await runWaitMs(process.pid)) >= a);
  assert.equal(await runWaitMs(2 ** 22 + 1), 0);
});

test('KES request counters: success, error and failure summed over codes; other families ignored', () => {
  const text = [
    '# HELP kes_http_request_success Number of successful requests.',
    '# TYPE kes_http_request_success counter',
    'kes_http_request_success{code="200"} 1200',
    'kes_http_request_error{code="400"} 3',
    'kes_http_request_error{code="404"} 2',
    'kes_http_request_failure{code="502"} 1',
    'kes_http_request_active 4',
    'kes_http_response_time_bucket{le="0.01"} 1199',
    'kes_http_response_time_count 1206',
  ].join('\n');
  assert.deepEqual(parseKesCounts(text), { success: 1200, error: 5, failure: 1 });
  assert.deepEqual(parseKesCounts(''), { success: 0, error: 0, failure: 0 });
});

test('options: defaults, lists and errors', () => {
  const d = parseMinioOptions([])!;
  assert.deepEqual(
    { requests: d.requests, warmup: d.warmup, rounds: d.rounds, clients: d.clients, size: d.size, placement: d.placement, servers: d.servers },
    { requests: 2000, warmup: 200, rounds: 6, clients: [16, 64], size: 4096, placement: 'shared', servers: ['upstream', 'ts'] },
  );
  const o = parseMinioOptions(['--clients', '4,1,4', '--servers', 'ts', '--placement', 'pinned', '--warmup', '0'])!;
  assert.deepEqual([o.clients, o.servers, o.placement, o.warmup], [[4, 1], ['ts'], 'pinned', 0]);
  assert.equal(parseMinioOptions(['--help']), null);
  for (const bad of [['--clients', '0'], ['--servers', 'vault'], ['--placement', 'cpu0'], ['--requests', '1.5']]) {
    assert.throws(() => parseMinioOptions(bad), OptionsError, bad.join(' '));
  }
});

test('table: ratio to minio/kes per operation and client count, footer per KES', () => {
  const s = (elapsedMs: number, kesCpuMs: number): MinioSample => ({
    requests: 100, elapsedMs, p50Ms: 2, p99Ms: 9, timeLimited: false, kesCpuMs, minioCpuMs: 50, kesRunWaitMs: 5, minioRunWaitMs: 20, kesRequests: 100, kesErrors: 0, otherKesRequests: 0,
  });
  const rows = withRatios(
    [
      combine('minio/kes', 'PUT', 16, [s(100, 10), s(200, 10), s(400, 10)]),
      combine('kes-server w1', 'PUT', 16, [s(200, 20), s(250, 20), s(400, 20)]),
    ],
    'minio/kes',
  );
  assert.equal(rows[0].requests, 300);
  assert.equal(rows[0].reqPerSec, 500); // median of 1000, 500, 250
  assert.equal(rows[1].ratio, 400 / 500);
  assert.deepEqual(rows[1].roundRatios, { min: 0.5, max: 1 }); // 500/1000, 400/500, 250/250
  assert.equal(rows[0].roundRatios, null);
  const lines = renderMinioTable(rows).trimEnd().split('\n');
  assert.match(lines[0], /^server\s+op\s+clients\s+requests\s+req\/s\s+p50 ms\s+p99 ms\s+vs minio\/kes\s+rounds$/);
  assert.match(lines[2], /^minio\/kes\s+PUT\s+16\s+300\s+500\s+2\.00\s+9\.00\s+ref$/);
  assert.match(lines[3], /^kes-server w1\s+PUT\s+16\s+300\s+400\s+2\.00\s+9\.00\s+0\.80x\s+0\.50-1\.00$/);
  const alone = renderMinioTable(withRatios([combine('kes-server w1', 'GET', 64, [s(100, 10)])], 'minio/kes'));
  assert.match(alone.split('\n')[2], /\s-\s*$/, 'no reference row: no ratio');
  const footer = renderFooter([totals('minio/kes', 'PUT', [s(100, 10), s(100, 20)]), totals('kes-server w1', 'PUT', [s(100, 40)])]);
  assert.match(footer, /KES CPU ms per S3 request .*: minio\/kes PUT 0\.150, kes-server w1 PUT 0\.400 \(2\.67x\)/);
  assert.match(footer, /MinIO \+ KES CPU ms per S3 request: minio\/kes PUT 0\.650, kes-server w1 PUT 0\.900 \(1\.38x\)/);
  assert.match(footer, /run-queue wait ms per S3 request .*KES \/ MinIO: minio\/kes PUT 0\.050 \/ 0\.200, kes-server w1 PUT 0\.050 \/ 0\.200/);
  assert.match(footer, /KES requests per S3 request .*: minio\/kes PUT 1\.000, kes-server w1 PUT 1\.000; KES 4xx\/5xx answers: 0; requests reaching the idle KES: 0/);
});

test('configs for MinIO: one shared key store, and a policy granting MinIO its routes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kes-bench-minio-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const creds = makeCredentials();
  const minio = generateApiKey();
  const paths = await writeConfigs(dir, creds, [{ name: 'a', port: 7001 }, { name: 'b', port: 7002 }], { sharedKeystoreDir: join(dir, 'keys'), minioIdentity: minio.identity });
  for (const name of ['a', 'b']) {
    const c = parseConfig(await readFile(paths.get(name)!, 'utf8'), {});
    assert.deepEqual(c.keystore, { kind: 'fs', path: join(dir, 'keys') }, name);
    assert.equal(c.admin, creds.adminIdentity);
    const policy = c.policies.get('minio');
    assert.deepEqual(policy?.identities, [minio.identity], name);
    assert.deepEqual(policy?.allow, minioPolicyAllow(['*'], false), name);
  }
});

/** How a fake S3 server answers wrongly. */
type Fault = 'none' | 'wrong-body' | 'no-sse' | 'other-key' | 'status-500';

/** An in-memory S3 that stores PUT bodies and answers like MinIO with SSE-KMS, except for `fault`. */
async function fakeS3(fault: Fault): Promise<{ server: Server; endpoint: string }> {
  const objects = new Map<string, Buffer>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      if (fault === 'status-500') return void res.writeHead(500).end('<Error><Code>InternalError</Code></Error>');
      const sse = fault === 'no-sse' ? {} : { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': `arn:aws:kms:${fault === 'other-key' ? 'other' : 'bench-key'}` };
      if (req.method === 'PUT') {
        objects.set(path, Buffer.concat(chunks));
        return void res.writeHead(200, sse).end();
      }
      const body = objects.get(path);
      if (body === undefined) return void res.writeHead(404).end('<Error><Code>NoSuchKey</Code></Error>');
      const sent = Buffer.from(body);
      if (fault === 'wrong-body') sent[sent.length - 1] ^= 1;
      res.writeHead(200, sse).end(sent);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { server, endpoint: `http://127.0.0.1:${address.port}` };
}

describe('S3 load against a fake S3 server', () => {
  const creds = { accessKey: 'k', secretKey: 's', region: 'us-east-1' };
  const spec = { bucket: 'b', kmsKey: 'bench-key', clients: 4, requests: 30, warmup: 5, timeLimitMs: 10_000, size: 4096, prefix: 'p' } satisfies Omit<LoadSpec, 'op'>;

  /** PUT, then GET of what was PUT; returns both results. */
  async function putThenGet(fault: Fault) {
    const { server, endpoint } = await fakeS3(fault);
    const s3 = new S3Client(endpoint, creds, 4);
    try {
      const put = await runLoad(s3, { ...spec, op: 'PUT' });
      const get = await runLoad(s3, { ...spec, op: 'GET', objects: put.written });
      return { put, get };
    } finally {
      s3.close();
      server.close();
    }
  }

  test('correct answers: every response checked, every object written once with its hash', async () => {
    const { put, get } = await putThenGet('none');
    assert.equal(put.requests, 30);
    assert.equal(put.verified, 35);
    assert.equal(new Set(put.written.map((o) => o.key)).size, 35);
    assert.equal(new Set(put.written.map((o) => o.sha256)).size, 35, 'every object has its own bytes');
    assert.equal(get.requests, 30);
    assert.equal(get.verified, 35);
    assert.ok(get.p50Ms > 0 && get.p99Ms >= get.p50Ms);
  });

  for (const [fault, message] of [
    ['wrong-body', /GET b\/p\/\d+: the body \(4096 bytes\) is not the object that was PUT/],
    ['no-sse', /PUT b\/p\/\d+: x-amz-server-side-encryption is undefined, expected "aws:kms"/],
    ['other-key', /PUT b\/p\/\d+: x-amz-server-side-encryption-aws-kms-key-id is "arn:aws:kms:other", expected the key 'bench-key'/],
    ['status-500', /PUT b\/p\/\d+: status 500 InternalError/],
  ] as const) {
    test(`${fault}: the loop fails`, async () => {
      await assert.rejects(putThenGet(fault), (err: Error) => err instanceof CheckError && message.test(err.message));
    });
  }
});

describe('through MinIO, small run against both KES servers', () => {
  const opts = { requests: 40, warmup: 8, clients: [2, 6], rounds: 2, size: 4096, drives: 1, placement: 'shared', servers: ['upstream', 'ts'], phaseTimeoutMs: 60_000 } as const;
  let result: Awaited<ReturnType<typeof runMinioBench>>;
  // MinIO reaches each KES through a front that counts its requests by route.
  const fronts = new Map<string, RouteCounter>();
  before(async () => {
    result = await runMinioBench(opts, {
      frontKes: async (kes, tls) => {
        const front = await RouteCounter.start(kes.port, tls);
        fronts.set(kes.label, front);
        return front.port;
      },
    });
  });
  after(async () => {
    await Promise.all([...fronts.values()].map((f) => f.close()));
  });

  test('one row per KES, operation and client count; every request done and every answer checked', () => {
    assert.equal(result.rows.length, 2 * 2 * 2);
    for (const r of result.rows) {
      assert.equal(r.requests, opts.rounds * opts.requests, `${r.server} ${r.op} ${r.clients}`);
      assert.equal(r.timeLimited, false);
      assert.ok(r.reqPerSec > 0 && r.p99Ms >= r.p50Ms);
      assert.equal(r.ratio === null, r.server === 'minio/kes');
    }
    const expected = opts.rounds * opts.clients.length * (opts.requests + opts.warmup);
    assert.deepEqual(
      Object.fromEntries(result.verified),
      { 'minio/kes PUT': expected, 'minio/kes GET': expected, 'kes-server w1 PUT': expected, 'kes-server w1 GET': expected },
    );
  });

  test('MinIO calls the KES it is pointed at once per PUT (generate) and once per GET (decrypt), never the other one', () => {
    for (const [key, samples] of result.samples) {
      assert.equal(samples.length, opts.rounds, key);
      for (const s of samples) {
        // MinIO's own background calls (configuration, status) may add a few.
        assert.ok(s.kesRequests >= s.requests && s.kesRequests <= s.requests + 5, `${key}: ${s.kesRequests} KES requests for ${s.requests} S3 requests`);
        assert.equal(s.kesErrors, 0, key);
        assert.equal(s.otherKesRequests, 0, key);
        assert.ok(s.minioCpuMs > 0, `${key}: MinIO CPU measured`);
        assert.ok(s.kesRunWaitMs >= 0 && s.minioRunWaitMs >= 0, `${key}: run-queue waits`);
      }
    }
    assert.equal(result.totals.length, 4);
    for (const label of ['minio/kes', 'kes-server w1']) assert.ok((result.peakRssMiB.get(label) ?? 0) > 10, `${label} peak RSS`);
  });

  test('what MinIO asked each KES: one generate per PUT, one decrypt per GET, a few more of its own, all over HTTP/2', () => {
    const perKes = opts.rounds * opts.clients.length * (opts.requests + opts.warmup);
    assert.deepEqual([...fronts.keys()].sort(), ['kes-server w1', 'minio/kes']);
    for (const [label, front] of fronts) {
      const seen = JSON.stringify(Object.fromEntries(front.counts));
      // Outside the loops MinIO seals and opens its own configuration and bucket metadata
      // (start-up, bucket creation): a few requests per phase on top of one per object.
      for (const route of ['generate', 'decrypt']) {
        const n = front.counts.get(route) ?? 0;
        assert.ok(n >= perKes && n <= perKes + 8 * opts.rounds, `${label}: ${route} ${n} for ${perKes} objects (${seen})`);
      }
      assert.deepEqual([...front.versions.keys()], ['2.0'], `${label}: HTTP versions ${JSON.stringify(Object.fromEntries(front.versions))}`);
    }
    assert.deepEqual(['generate', 'decrypt', 'status', 'x'].map((p) => routeOf(`/v1/${p === 'status' ? '' : 'key/'}${p}/k`)), ['generate', 'decrypt', 'status', 'x']);
  });
});
