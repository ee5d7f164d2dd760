/**
 * The token renewal loop (docs/protocol.md#vault-token-renewal) on a recording clock: which requests it makes and how long
 * it sleeps in between. Vault is replaced by a scripted transport here; the real OpenBao runs in
 * test/vault/behaviour.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock, type Clock } from '../../../src/clock.ts';
import { LoginRefused, TokenSource, type Login, type VaultToken } from '../../../src/keystore/vault/auth.ts';
import type { AuthAnswer } from '../../../src/keystore/vault/answers.ts';
import type { VaultClient, VaultRequest, VaultResponse } from '../../../src/keystore/vault/client.ts';

interface Scenario {
  readonly title: string;
  readonly initial: VaultToken;
  /** Answers of renew-self, in order (then 403). */
  readonly renewals?: VaultResponse<AuthAnswer>[];
  /** Tokens returned by login, in order (then a failure). */
  readonly logins?: VaultToken[];
  readonly sealed?: boolean;
  /** A login without a token left is refused by Vault (4xx) instead of failing otherwise. */
  readonly refused?: boolean;
  /** Failures the loop reports through onError, when that number matters. */
  readonly reported?: number;
  /** Number of recorded events after which the loop is stopped. */
  readonly limit: number;
  readonly want: string[];
}

const renewed = (ttl: number): VaultResponse<AuthAnswer> => ({
  status: 200,
  body: { auth: { client_token: 'tok-1', lease_duration: ttl, renewable: true } },
});

const scenarios: Scenario[] = [
  {
    title: 'renewable 300 s token: renew after 240 s, switch after 30 s, repeat',
    initial: { token: 'tok-1', ttlSeconds: 300, renewable: true },
    renewals: [renewed(300), renewed(300)],
    limit: 6,
    want: ['sleep 240000', 'renew tok-1', 'sleep 30000', 'sleep 240000', 'renew tok-1', 'sleep 30000'],
  },
  {
    title: 'renewal refused with 403: no retry, log in again',
    initial: { token: 'tok-1', ttlSeconds: 100, renewable: true },
    renewals: [{ status: 403, body: { errors: ['permission denied'] } }],
    logins: [{ token: 'tok-2', ttlSeconds: 100, renewable: true }],
    limit: 4,
    want: ['sleep 80000', 'renew tok-1', 'login', 'sleep 10000'],
  },
  {
    title: 'renewal failing with 500: three attempts, then log in again',
    initial: { token: 'tok-1', ttlSeconds: 100, renewable: true },
    renewals: [{ status: 500, body: {} }, { status: 500, body: {} }, { status: 500, body: {} }],
    logins: [{ token: 'tok-2', ttlSeconds: 100, renewable: true }],
    limit: 6,
    want: ['sleep 80000', 'renew tok-1', 'renew tok-1', 'renew tok-1', 'login', 'sleep 10000'],
  },
  {
    title: 'non-renewable token: log in again instead of renewing',
    initial: { token: 'tok-1', ttlSeconds: 60, renewable: false },
    logins: [{ token: 'tok-2', ttlSeconds: 60, renewable: false }],
    limit: 4,
    want: ['sleep 48000', 'login', 'sleep 6000', 'sleep 48000'],
  },
  {
    title: 'TTL below 30 s: log in right away and wait 3 s',
    initial: { token: 'tok-1', ttlSeconds: 10, renewable: true },
    logins: [
      { token: 'tok-2', ttlSeconds: 10, renewable: true },
      { token: 'tok-3', ttlSeconds: 10, renewable: true },
    ],
    limit: 4,
    want: ['login', 'sleep 3000', 'login', 'sleep 3000'],
  },
  {
    title: 'failed re-login is retried after the wait',
    initial: { token: 'tok-1', ttlSeconds: 40, renewable: false },
    logins: [],
    limit: 5,
    want: ['sleep 32000', 'login', 'login', 'sleep 3000', 'login'],
  },
  {
    title: 'refused re-login: the same credentials are held back, the loop reports the refusal once',
    initial: { token: 'tok-1', ttlSeconds: 10, renewable: false },
    logins: [],
    refused: true,
    limit: 4,
    want: ['login', 'sleep 3000', 'sleep 3000', 'sleep 3000'],
    reported: 1,
  },
  {
    title: 'TTL 0: the token never expires, the loop ends',
    initial: { token: 'tok-1', ttlSeconds: 0, renewable: false },
    limit: 10,
    want: [],
  },
  {
    title: 'sealed Vault: poll every second, no requests',
    initial: { token: 'tok-1', ttlSeconds: 300, renewable: true },
    sealed: true,
    limit: 3,
    want: ['sleep 1000', 'sleep 1000', 'sleep 1000'],
  },
];

for (const s of scenarios) {
  test(`renewal loop: ${s.title}`, async () => {
    const events: string[] = [];
    const renewals = [...(s.renewals ?? [])];
    const logins = [...(s.logins ?? [])];
    let source: TokenSource | undefined;
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    const record = (e: string) => {
      events.push(e);
      if (events.length >= s.limit) {
        void source?.close();
        finish();
      }
    };
    const clock: Clock = {
      ...systemClock,
      now: () => 0,
      sleep: async (ms, signal) => {
        if (!signal.aborted) record(`sleep ${ms}`);
      },
    };
    const client = {
      send: async (req: VaultRequest): Promise<VaultResponse<AuthAnswer>> => {
        assert.equal(req.path, 'auth/token/renew-self');
        assert.deepEqual(req.body, { increment: 0 });
        assert.equal(req.namespace, 'login-ns');
        record(`renew ${req.token}`);
        return renewals.shift() ?? { status: 403, body: {} };
      },
    } as unknown as VaultClient;
    const login: Login = {
      method: 'approle',
      namespace: 'login-ns',
      login: async () => {
        record('login');
        const next = logins.shift();
        if (!next) throw s.refused ? new LoginRefused('FAILED', 'failed to log in: HTTP 400: invalid role or secret ID') : new Error('login refused');
        return next;
      },
    };
    const errors: Error[] = [];
    source = new TokenSource(client, login, s.initial, {
      clock,
      isSealed: () => s.sealed ?? false,
      onError: (e) => errors.push(e),
    });
    source.start();
    if (s.want.length > 0) {
      const timeout = new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`stuck after ${events.join(', ')}`)), 2_000).unref());
      await Promise.race([finished, timeout]);
    }
    await source.close();
    assert.deepEqual(events, s.want);
    if (s.title.includes('fail')) assert.ok(errors.length > 0, 'failures are reported');
    if (s.reported !== undefined) assert.equal(errors.length, s.reported, errors.map((e) => e.message).join('\n'));
  });
}

test('refresh: one login for concurrent callers, none for a token already replaced', async () => {
  let logins = 0;
  const login: Login = {
    method: 'approle',
    namespace: '',
    login: async () => {
      logins++;
      await new Promise((r) => setTimeout(r, 10));
      return { token: `tok-${logins + 1}`, ttlSeconds: 0, renewable: false };
    },
  };
  const source = new TokenSource({} as VaultClient, login, { token: 'tok-1', ttlSeconds: 0, renewable: false });
  await Promise.all([source.refresh('tok-1'), source.refresh('tok-1'), source.refresh('tok-1')]);
  assert.equal(logins, 1);
  assert.equal(source.token, 'tok-2');
  await source.refresh('tok-1');
  assert.equal(logins, 1, 'a stale token that was already replaced does not log in again');
  await source.close();
});

test('refresh: refused credentials wait 15 s, 1 min, 4 min, then 16 min before they are sent again; the callers get the refusal at once', async () => {
  let now = 1_000_000;
  let logins = 0;
  let accept = false;
  const login: Login = {
    method: 'approle',
    namespace: '',
    login: async () => {
      logins++;
      if (!accept) throw new LoginRefused('FAILED', "failed to log in with AppRole at 'auth/approle/login': HTTP 400: invalid role or secret ID");
      return { token: 'tok-2', ttlSeconds: 0, renewable: false };
    },
    credentials: async () => 'digest-1',
  };
  const source = new TokenSource({} as VaultClient, login, { token: 'tok-1', ttlSeconds: 0, renewable: false }, { clock: { ...systemClock, now: () => now } });
  for (const [n, wait] of [15_000, 60_000, 240_000, 960_000, 960_000].entries()) {
    const until = new Date(now + wait).toISOString().replace(/\./g, '\\.');
    const refusal = new RegExp(`HTTP 400: invalid role or secret ID; the same credentials are not sent again before ${until}$`);
    await assert.rejects(source.refresh('tok-1'), refusal);
    assert.equal(logins, n + 1);
    for (const at of [now + 1, now + wait - 1]) {
      now = at;
      await assert.rejects(source.refresh('tok-1'), refusal);
    }
    assert.equal(logins, n + 1, 'no login sent while the refusal holds');
    now += 1;
  }
  accept = true;
  await source.refresh('tok-1');
  assert.deepEqual([logins, source.token], [6, 'tok-2']);
  await source.close();
});

test('refresh: changed credentials (a rotated JWT file) are sent at once after a refusal', async () => {
  let logins = 0;
  let jwt = 'stale';
  const login: Login = {
    method: 'kubernetes',
    namespace: '',
    login: async () => {
      logins++;
      if (jwt === 'stale') throw new LoginRefused('FAILED', "failed to log in with Kubernetes at 'auth/kubernetes/login': HTTP 400: invalid subject");
      return { token: 'tok-2', ttlSeconds: 0, renewable: false };
    },
    credentials: async () => jwt,
  };
  const source = new TokenSource({} as VaultClient, login, { token: 'tok-1', ttlSeconds: 0, renewable: false });
  await assert.rejects(source.refresh('tok-1'), /invalid subject/);
  await assert.rejects(source.refresh('tok-1'), /invalid subject/);
  assert.equal(logins, 1);
  jwt = 'rotated';
  await source.refresh('tok-1');
  assert.deepEqual([logins, source.token], [2, 'tok-2']);
  await source.close();
});
