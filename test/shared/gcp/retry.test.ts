import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LookupError } from '../../../shared/errors.ts';
import { cachingTokenSource, tokenSourceFromConfig } from '../../../shared/gcp/auth.ts';
import { retryAfterMs, statusError } from '../../../shared/gcp/http.ts';
import { backoffMs, RetryLaterError, type RetryPolicy, withRetries } from '../../../shared/gcp/retry.ts';

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000, deadlineMs: 10_000 };
const retryable = () => new LookupError('busy', { api: 'iam', retryable: true, status: 503 });

/** A clock that sleeping advances. */
function clock() {
  let now = 0;
  const waits: number[] = [];
  return {
    waits,
    hooks: {
      now: () => now,
      sleep: async (ms: number) => {
        waits.push(ms);
        now += ms;
      },
      random: () => 1,
    },
  };
}

describe('withRetries', () => {
  it('retries a retryable LookupError with growing waits, then gives up saying how often it tried', async () => {
    const { waits, hooks } = clock();
    let attempts = 0;
    await assert.rejects(
      withRetries(
        async () => {
          attempts += 1;
          throw retryable();
        },
        policy,
        hooks,
      ),
      { retryable: true, status: 503, message: /^busy \(gave up after 4 attempts, 700 ms\)$/ },
    );
    assert.equal(attempts, 4);
    assert.deepEqual(waits, [100, 200, 400]);
  });

  it('never retries what a retry cannot cure', async () => {
    for (const error of [
      new LookupError('denied', {
        api: 'iam',
        retryable: false,
        status: 403,
        permission: 'iam.serviceAccounts.get',
      }),
      new TypeError('a bug'),
    ]) {
      let attempts = 0;
      await assert.rejects(
        withRetries(async () => {
          attempts += 1;
          throw error;
        }, policy),
        error,
      );
      assert.equal(attempts, 1);
    }
  });

  it('waits what Retry-After says, and gives up rather than wait past the deadline', async () => {
    const { waits, hooks } = clock();
    let attempts = 0;
    const result = await withRetries(
      async () => {
        attempts += 1;
        if (attempts === 1)
          throw new RetryLaterError('slow down', { api: 'iam', status: 429, retryAfterMs: 3_000 });
        return 'ok';
      },
      policy,
      hooks,
    );
    assert.equal(result, 'ok');
    assert.deepEqual(waits, [3_000]);
    await assert.rejects(
      withRetries(
        async () => {
          throw new RetryLaterError('slow down', { api: 'iam', status: 429, retryAfterMs: 60_000 });
        },
        policy,
        clock().hooks,
      ),
      { status: 429, message: 'slow down' },
    );
  });

  it('backs off between half and all of a doubling cap, capped', () => {
    assert.equal(
      backoffMs(1, policy, () => 0),
      50,
    );
    assert.equal(
      backoffMs(1, policy, () => 1),
      100,
    );
    assert.equal(
      backoffMs(3, policy, () => 1),
      400,
    );
    assert.equal(
      backoffMs(10, policy, () => 1),
      1_000,
    );
  });
});

describe('HTTP status classification', () => {
  const request = {
    api: 'iam',
    what: 'service account a@p.iam.gserviceaccount.com',
    permission: 'iam.serviceAccounts.get',
  };
  const cases: [number, { retryable: boolean; permission?: string }][] = [
    [400, { retryable: false }],
    [401, { retryable: false, permission: 'iam.serviceAccounts.get' }],
    [403, { retryable: false, permission: 'iam.serviceAccounts.get' }],
    [404, { retryable: false }],
    [408, { retryable: true }],
    [409, { retryable: false }],
    [429, { retryable: true }],
    [500, { retryable: true }],
    [502, { retryable: true }],
    [503, { retryable: true }],
    [504, { retryable: true }],
  ];
  for (const [status, expected] of cases) {
    it(`${status} → ${expected.retryable ? 'retryable' : 'permanent'}${expected.permission ? ', names the permission' : ''}`, () => {
      const error = statusError(request, status, 'detail');
      assert.equal(error.status, status);
      assert.equal(error.retryable, expected.retryable);
      assert.equal(error.permission, expected.permission);
    });
  }

  it('reads Retry-After in seconds or as a date', () => {
    assert.equal(retryAfterMs('2'), 2_000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6_000);
    assert.equal(retryAfterMs('soon'), undefined);
    assert.equal(retryAfterMs(null), undefined);
    assert.ok(statusError(request, 429, undefined, '1') instanceof RetryLaterError);
  });
});

describe('token sources', () => {
  it('GOOGLE_OAUTH_ACCESS_TOKEN is used as it is', async () => {
    assert.equal(await tokenSourceFromConfig({ GOOGLE_OAUTH_ACCESS_TOKEN: 'ya29.given' })(), 'ya29.given');
  });

  it('a token is reused until near its expiry, and concurrent callers share one fetch', async () => {
    let now = 0;
    let fetches = 0;
    const tokens = cachingTokenSource(
      async () => {
        fetches += 1;
        return { token: `t${fetches}`, expiresAt: now + 3_600_000 };
      },
      { now: () => now },
    );
    assert.deepEqual(await Promise.all([tokens(), tokens()]), ['t1', 't1']);
    now += 3_600_000 - 6 * 60_000;
    assert.equal(await tokens(), 't1');
    now += 2 * 60_000; // within five minutes of expiry
    assert.equal(await tokens(), 't2');
    assert.equal(fetches, 2);
  });

  it('a failed fetch is not kept', async () => {
    let fetches = 0;
    const tokens = cachingTokenSource(async () => {
      fetches += 1;
      if (fetches === 1) throw new Error('metadata server unreachable');
      return { token: 'ok' };
    });
    await assert.rejects(tokens(), /metadata server unreachable/);
    assert.equal(await tokens(), 'ok');
  });
});
