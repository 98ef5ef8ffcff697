import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { createLogger } from '../../../shared/log.ts';
import { NotifyError } from '../../../shared/notify/errors.ts';
import {
  actionFor,
  createPagerDutySender,
  isRetryableStatus,
  type PagerDutySenderOptions,
  parseRetryAfter,
} from '../../../shared/notify/pagerduty.ts';
import { dedupKey, toPagerDutyEvent } from '../../../shared/notify/pagerduty-render.ts';
import type { Delivery, DeliveryTransition } from '../../../shared/notify/types.ts';
import { type FakePagerDuty, startFakePagerDuty } from '../../fakes/pagerduty.ts';
import { bindingMissing, incidentOf, ROUTING_KEY } from './pagerduty-incident.ts';

const incident = incidentOf(bindingMissing());

function delivery(transition: DeliveryTransition = 'opened'): Delivery {
  return {
    incident:
      transition === 'resolved'
        ? { ...incident, status: 'resolved', resolvedAt: '2026-11-20T10:00:00Z' }
        : incident,
    transition,
  };
}

/** Asserts `promise` rejects with a NotifyError and returns it for further checks. */
async function notifyError(promise: Promise<unknown>): Promise<NotifyError> {
  let caught: unknown;
  await assert.rejects(promise, (error) => {
    caught = error;
    return error instanceof NotifyError && error.integration === 'pagerduty';
  });
  return caught as NotifyError;
}

let pd: FakePagerDuty;
/** Waits the sender asked for (the default test sender does not really wait). */
let waits: number[];
/** Everything the sender logged. */
let lines: string[];

beforeEach(async () => {
  pd = await startFakePagerDuty();
  waits = [];
  lines = [];
});
afterEach(() => pd.stop());

function sender(options: Partial<PagerDutySenderOptions> = {}) {
  return createPagerDutySender({
    url: pd.url,
    backoffMs: 5,
    sleep: async (ms) => {
      waits.push(ms);
    },
    logger: createLogger((line) => lines.push(line)),
    ...options,
  });
}

const answered = () => pd.events.map((event) => event.answered);

describe('PagerDuty sender against the fake Events API', () => {
  test('202: one request carrying the rendered trigger, as JSON', async () => {
    await sender().send(ROUTING_KEY, delivery('opened'));
    assert.deepEqual(answered(), [202]);
    const [request] = pd.events;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.path, '/v2/enqueue');
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.deepEqual(request?.body, toPagerDutyEvent(incident, ROUTING_KEY, 'trigger'));
    assert.deepEqual(waits, []);
    assert.deepEqual(lines, []);
  });

  test('a refresh triggers the open alert again under its dedup_key; a resolved one is left resolved', async () => {
    const send = sender();
    await send.send(ROUTING_KEY, delivery('refreshed'));
    await send.send(ROUTING_KEY, { ...delivery('refreshed'), incident: { ...incident, status: 'resolved' } });
    assert.deepEqual(answered(), [202]);
    assert.equal((pd.events[0]?.body as { event_action?: string } | undefined)?.event_action, 'trigger');
  });

  test('opened and updated trigger, resolved resolves, all with one dedup_key', async () => {
    const send = sender();
    for (const transition of ['opened', 'updated', 'resolved'] as const) {
      await send.send(ROUTING_KEY, delivery(transition));
    }
    assert.deepEqual(answered(), [202, 202, 202]);
    const bodies = pd.events.map((event) => event.body as { event_action: string; dedup_key: string });
    assert.deepEqual(
      bodies.map((body) => body.event_action),
      ['trigger', 'trigger', 'resolve'],
    );
    assert.deepEqual(
      new Set(bodies.map((body) => body.dedup_key)),
      new Set([dedupKey(incident.fingerprint)]),
    );
    assert.deepEqual(pd.events[2]?.body, {
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: dedupKey(incident.fingerprint),
    });
  });

  test('429 with Retry-After, then 202: waits as asked and delivers once', async () => {
    pd.script({ status: 429, retryAfter: 1 });
    await sender().send(ROUTING_KEY, delivery());
    assert.deepEqual(answered(), [429, 202]);
    assert.deepEqual(waits, [1000]);
    assert.equal(pd.events.filter((event) => event.answered === 202).length, 1);
  });

  test('429 without Retry-After backs off; one asking for longer than the cap is left to redelivery', async () => {
    pd.script({ status: 429 });
    await sender().send(ROUTING_KEY, delivery());
    assert.deepEqual(waits, [5]);

    pd.script({ status: 429, retryAfter: 120 });
    const error = await notifyError(sender({ maxRetryAfterMs: 5_000 }).send(ROUTING_KEY, delivery()));
    assert.equal(error.retryable, true);
    assert.equal(error.status, 429);
    assert.match(error.message, /retry after 120 s/);
    assert.deepEqual(answered(), [429, 202, 429]);
  });

  test('500 twice, then 202: delivered, with growing waits', async () => {
    pd.script({ status: 500 }, { status: 500 });
    await sender().send(ROUTING_KEY, delivery());
    assert.deepEqual(answered(), [500, 500, 202]);
    assert.deepEqual(waits, [5, 10]);
    assert.equal(lines.length, 2);
    assert.equal(JSON.parse(lines[0] ?? '{}').severity, 'WARNING');
  });

  test('persistent 500: a retryable NotifyError after 1 + retries attempts', async () => {
    pd.script({ status: 500 }, { status: 503 }, { status: 500 }, { status: 500 });
    const error = await notifyError(sender({ retries: 2 }).send(ROUTING_KEY, delivery()));
    assert.equal(error.retryable, true);
    assert.equal(error.status, 500);
    assert.match(error.message, /^pagerduty: HTTP 500: scripted 500 \(gave up after 3 attempts\)$/);
    assert.deepEqual(answered(), [500, 503, 500]);
  });

  test('400: permanent, one request only, PagerDuty’s message and errors in the error', async () => {
    pd.script({
      status: 400,
      body: {
        status: 'invalid event',
        message: 'Event object is invalid',
        errors: ["'payload.source' is missing or blank"],
      },
    });
    const error = await notifyError(sender().send(ROUTING_KEY, delivery()));
    assert.equal(error.retryable, false);
    assert.equal(error.status, 400);
    assert.equal(
      error.message,
      "pagerduty: HTTP 400: Event object is invalid: 'payload.source' is missing or blank",
    );
    assert.equal(pd.events.length, 1);
    assert.deepEqual(waits, []);
  });

  test('a routing key PagerDuty refuses: its own validation answers 400, not retried', async () => {
    const error = await notifyError(sender().send('too-short', delivery()));
    assert.equal(error.retryable, false);
    assert.match(error.message, /Length of 'routing_key' is incorrect \(should be 32 characters\)/);
    assert.deepEqual(answered(), [400]);
  });

  test('hang: each attempt times out, and the whole send stays within bounds', async () => {
    pd.script('hang', 'hang');
    const started = performance.now();
    const error = await notifyError(
      sender({ timeoutMs: 100, retries: 1, sleep: undefined }).send(ROUTING_KEY, delivery()),
    );
    const elapsed = performance.now() - started;
    assert.equal(error.retryable, true);
    assert.equal(error.status, undefined);
    assert.match(error.message, /no answer within 100 ms \(gave up after 2 attempts\)/);
    assert.equal(pd.events.length, 2);
    assert.ok(elapsed >= 200 && elapsed < 1_500, `took ${Math.round(elapsed)} ms`);
  });

  test('the budget bounds the whole send, however many retries are allowed', async () => {
    pd.script('hang', 'hang', 'hang', 'hang', 'hang', 'hang');
    const started = performance.now();
    const error = await notifyError(
      sender({ timeoutMs: 200, retries: 5, budgetMs: 450, sleep: undefined }).send(ROUTING_KEY, delivery()),
    );
    const elapsed = performance.now() - started;
    assert.equal(error.retryable, true);
    assert.match(error.message, /no time left for another attempt within 450 ms/);
    assert.ok(pd.events.length <= 3, `${pd.events.length} attempts`);
    assert.ok(elapsed < 1_000, `took ${Math.round(elapsed)} ms`);
  });

  test('network error (nothing listening): retryable', async () => {
    const gone = await startFakePagerDuty();
    await gone.stop();
    const error = await notifyError(sender({ url: gone.url, retries: 1 }).send(ROUTING_KEY, delivery()));
    assert.equal(error.retryable, true);
    assert.equal(error.status, undefined);
    assert.match(error.message, /network error: fetch failed: .*ECONNREFUSED/);
    assert.deepEqual(waits, [5]);
  });

  test('no routing key: permanent, nothing sent', async () => {
    const error = await notifyError(sender().send('', delivery()));
    assert.equal(error.retryable, false);
    assert.equal(pd.events.length, 0);
  });
});

describe('retry decision per status code', () => {
  const table: { status: number; outcome: 'ok' | 'permanent' | 'retryable' }[] = [
    { status: 200, outcome: 'ok' },
    { status: 202, outcome: 'ok' },
    { status: 204, outcome: 'ok' },
    { status: 400, outcome: 'permanent' },
    { status: 401, outcome: 'permanent' },
    { status: 403, outcome: 'permanent' },
    { status: 404, outcome: 'permanent' },
    { status: 408, outcome: 'permanent' },
    { status: 413, outcome: 'permanent' },
    { status: 422, outcome: 'permanent' },
    { status: 429, outcome: 'retryable' },
    { status: 500, outcome: 'retryable' },
    { status: 502, outcome: 'retryable' },
    { status: 503, outcome: 'retryable' },
    { status: 504, outcome: 'retryable' },
    { status: 599, outcome: 'retryable' },
  ];
  for (const { status, outcome } of table) {
    test(`${status} → ${outcome}`, async () => {
      assert.equal(isRetryableStatus(status), outcome === 'retryable');
      let calls = 0;
      const fetch: typeof globalThis.fetch = async () => {
        calls++;
        return new Response(status === 204 ? null : '{"status":"x","message":"m"}', { status });
      };
      const send = createPagerDutySender({
        url: 'http://pagerduty.invalid/v2/enqueue',
        fetch,
        retries: 2,
        sleep: async () => {},
      });
      if (outcome === 'ok') {
        await send.send(ROUTING_KEY, delivery());
        assert.equal(calls, 1);
        return;
      }
      const error = await notifyError(send.send(ROUTING_KEY, delivery()));
      assert.equal(error.status, status);
      assert.equal(error.retryable, outcome === 'retryable');
      assert.equal(calls, outcome === 'retryable' ? 3 : 1);
    });
  }
});

describe('parseRetryAfter and actionFor', () => {
  const now = Date.parse('2026-11-20T09:00:00Z');
  const cases: [string | null, number | undefined][] = [
    ['3', 3000],
    [' 0 ', 0],
    ['Fri, 20 Nov 2026 09:00:05 GMT', 5000],
    ['Fri, 20 Nov 2026 08:59:00 GMT', 0],
    ['soon', undefined],
    ['-1', undefined],
    [null, undefined],
  ];
  for (const [value, ms] of cases) {
    test(`Retry-After ${JSON.stringify(value)} → ${ms} ms`, () => {
      assert.equal(parseRetryAfter(value, now), ms);
    });
  }

  test('resolved resolves; opened and updated trigger', () => {
    const incident = incidentOf(bindingMissing());
    assert.deepEqual(
      (['opened', 'updated', 'resolved'] as const).map((transition) => actionFor({ transition, incident })),
      ['trigger', 'trigger', 'resolve'],
    );
  });

  test('a refresh acknowledges an acknowledged incident, and sends nothing once it was closed in PagerDuty', () => {
    const incident = incidentOf(bindingMissing());
    const acknowledged = {
      ...incident,
      acknowledged: { by: '@alice', at: incident.openedAt, via: 'slack' as const },
    };
    assert.equal(actionFor({ transition: 'refreshed', incident }), 'trigger');
    assert.equal(actionFor({ transition: 'refreshed', incident: acknowledged }), 'acknowledge');
    assert.equal(
      actionFor({
        transition: 'refreshed',
        incident: { ...acknowledged, closedInPagerDuty: { by: 'Bob', at: incident.openedAt } },
      }),
      undefined,
    );
    assert.deepEqual(toPagerDutyEvent(acknowledged, ROUTING_KEY, 'acknowledge'), {
      routing_key: ROUTING_KEY,
      event_action: 'acknowledge',
      dedup_key: dedupKey(incident.fingerprint),
    });
  });
});

describe('the routing key is a secret', () => {
  test('appears in no error (message, stack, cause) and no output, whatever fails', async (t) => {
    const consoleCalls: unknown[] = [];
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      t.mock.method(console, method, (...args: unknown[]) => consoleCalls.push(args));
    }
    const errors: NotifyError[] = [];
    const attempt = async (options: Partial<PagerDutySenderOptions> = {}) =>
      errors.push(await notifyError(sender({ timeoutMs: 100, ...options }).send(ROUTING_KEY, delivery())));

    // A 400 whose errors echo the key back (a proxy or a future API might).
    pd.script({
      status: 400,
      body: {
        status: 'invalid event',
        message: `Bad key ${ROUTING_KEY}`,
        errors: [`routing_key ${ROUTING_KEY} unknown`],
      },
    });
    await attempt();
    pd.script(
      { status: 502, body: `<html>gateway for ${ROUTING_KEY}</html>` },
      { status: 500 },
      { status: 500 },
    );
    await attempt();
    pd.script({ status: 429, retryAfter: 600 });
    await attempt();
    pd.script('hang', 'hang');
    await attempt({ sleep: undefined, retries: 1 });
    const gone = await startFakePagerDuty();
    await gone.stop();
    await attempt({ url: gone.url });
    await attempt({
      fetch: async () => {
        throw new TypeError('fetch failed', {
          cause: new Error(`socket hang up while sending ${ROUTING_KEY}`),
        });
      },
    });

    assert.equal(errors.length, 6);
    assert.match(errors[0]?.message ?? '', /Bad key \[routing key\]: routing_key \[routing key\] unknown/);
    assert.ok(lines.length >= 3, 'retries were logged, so the log check below has something to check');
    const seen = [
      ...errors.flatMap((error) => [error.message, error.stack ?? '', inspect(error, { depth: 10 })]),
      ...lines,
      inspect(consoleCalls, { depth: 10 }),
    ];
    for (const text of seen) assert.ok(!text.includes(ROUTING_KEY), `leaked in: ${text.slice(0, 300)}`);
    assert.deepEqual(consoleCalls, []);
    // The key did travel where it belongs: in the request bodies.
    assert.ok(
      pd.events.every((event) => (event.body as { routing_key?: string }).routing_key === ROUTING_KEY),
    );
  });
});
