import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../../../shared/incidents/store.ts';
import { resolveQuietSymptoms } from '../../../shared/symptoms/quiet.ts';
import { HEAVY_MODULE, traceImports } from '../../support/imports.ts';
import { useNotifyFakes } from '../../support/notify-fakes.ts';
import { REPO_ROOT } from '../../support/paths.ts';
import { asDelivery, noiseSamples } from './fixtures.ts';
import { edits, failureDelivery, failureEntry, harness, pdBodies, posts, replies, TEXT } from './support.ts';

/** The memory store, with every call it receives recorded (the calls still reach it). */
function recorded(store: IncidentStore): { store: IncidentStore; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return value.apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

/** Application logs as a busy namespace writes them: access logs, its own 403s, other errors. */
function noiseEntry(i: number): Record<string, unknown> {
  const texts = [
    `10.52.3.${i % 250} - - [28/Nov/2026:10:00:05 +0000] "GET /admin/discounts HTTP/1.1" 403 19 "-" "orbit-mobile/4.2"`,
    `ERROR payment declined: card_declined (request ${i.toString(16)})`,
    'Traceback (most recent call last):\n  File "/app/indexer/batch.py", line 88, in run\nKeyError: \'title\'',
    'GET http://169.254.169.254/healthz 200 (sidecar probe)',
    'WARN 403 Forbidden from upstream /api/prices: the caller lacks the pricing:read scope',
  ];
  return failureEntry({
    namespace: 'checkout',
    pod: `cart-6d8-${(i % 7).toString(36)}`,
    at: Date.parse('2026-11-28T10:00:00Z') + i * 37,
    text: texts[i % texts.length] as string,
  });
}

describe('a storm of deliveries', () => {
  const fakes = useNotifyFakes();

  test('a crash-looping pod: 5,000 deliveries make one incident, one post and a bounded number of edits', async (t) => {
    const start = Date.parse('2026-11-28T10:02:00Z');
    const h = harness(fakes, start);
    // 5,000 failures over 10 minutes, every tenth delivered twice (Pub/Sub redelivers).
    const failures = Array.from({ length: 5_000 }, (_, i) => ({
      namespace: 'search',
      pod: 'indexer-x7',
      node: 'gke-core-1-spot-0b7d41c2-m2zt',
      at: start + i * 120,
      text: TEXT.pythonDenied,
      id: `crash-${i}`,
    }));
    const began = performance.now();
    let duplicates = 0;
    for (const [i, failure] of failures.entries()) {
      h.clock.set(failure.at + 1_000);
      const delivery = failureDelivery(failure);
      await h.alerting.handle(delivery);
      if (i % 10 === 0) {
        const again = await h.alerting.handle(delivery);
        if (again.outcome === 'duplicate') duplicates += 1;
      }
    }
    const elapsed = performance.now() - began;
    assert.equal(duplicates, 500, 'every redelivery is recognised');
    assert.equal(
      h.lines.filter((line) => /"message":"duplicate delivery acknowledged"/.test(line)).length,
      500,
      'and acknowledged with a line saying so',
    );

    assert.equal(posts(fakes.slack).length, 1, 'one message');
    assert.equal(replies(fakes.slack).length, 0, 'no thread replies');
    const edited = edits(fakes.slack).length;
    assert.ok(edited >= 5 && edited <= 9, `${edited} edits in the 8 minutes after the incident opened`);
    const events = pdBodies(fakes.pd);
    assert.equal(events.length, 1 + edited, 'one trigger, then one details update per edit');
    assert.equal(new Set(events.map((e) => e.dedup_key)).size, 1);
    assert.ok(events.every((e) => e.event_action === 'trigger'));
    const open = await h.store.listOpen();
    assert.equal(open.length, 1);
    const group = await h.store.symptomGroup('orbit-prod/europe-west4/core-1/search/indexer');
    assert.equal(group?.count, 5_000);

    // The sweep brings the last minute's failures to the message.
    const symptoms = h.alerting.symptoms;
    assert.ok(symptoms);
    h.clock.set(start + 5_000 * 120 + 2 * 60_000);
    await resolveQuietSymptoms({ symptoms, runId: 'after-storm', now: h.clock.now });
    assert.equal((await h.store.current(open[0]?.fingerprint ?? ''))?.evidence?.[0]?.count, 5_000);
    assert.equal(posts(fakes.slack).length, 1);
    assert.ok(elapsed < 60_000, `${Math.round(elapsed)} ms for 5,500 deliveries`);
    t.diagnostic(
      `5,500 deliveries in ${Math.round(elapsed)} ms: 1 post, ${edited} edits, ${events.length} PagerDuty events`,
    );
  });

  test('noise never touches the store and never reaches Slack or PagerDuty', async () => {
    const { store, calls } = recorded(createMemoryStore());
    const h = harness(fakes, Date.parse('2026-11-28T10:05:00Z'), { store });
    const deliveries = [
      ...noiseSamples()
        .filter((sample) => sample.entry.resource?.type === 'k8s_container')
        .map((sample) => asDelivery(sample.raw)),
      ...Array.from({ length: 2_000 }, (_, i) => asDelivery(noiseEntry(i), `noise-${i}`)),
    ];
    for (const delivery of deliveries) {
      const result = await h.alerting.handle(delivery);
      assert.equal(result.outcome, 'ignored', JSON.stringify(result.reason));
    }
    assert.deepEqual(calls, []);
    assert.equal(fakes.slack.calls.length + fakes.pd.events.length, 0);
  });
});

describe('the noise path in a cold instance', () => {
  test('acknowledges noise without loading a Google client library or touching Firestore', () => {
    const entry = noiseEntry(3);
    const { urls, result } = traceImports(`
      const { createAlerting } = await import(${JSON.stringify(join(REPO_ROOT, 'shared/alerting/alerting.ts'))});
      const { createFirestoreStore } = await import(${JSON.stringify(join(REPO_ROOT, 'shared/incidents/firestore-store.ts'))});
      const { createLogger } = await import(${JSON.stringify(join(REPO_ROOT, 'shared/log.ts'))});
      const { defaultRouting } = await import(${JSON.stringify(join(REPO_ROOT, 'shared/notify/routing.ts'))});
      // An emulator address nobody listens on: any store call would load the client and fail.
      const store = createFirestoreStore({ emulatorHost: '127.0.0.1:9', timeoutMs: 500 });
      const alerting = createAlerting({ store, senders: {}, routing: defaultRouting({}), logger: createLogger(() => {}), symptoms: {} });
      return (await alerting.handle(${JSON.stringify(asDelivery(entry))})).outcome;
    `);
    assert.ok(urls.length > 5, 'the hook saw the imports');
    assert.equal(result, 'ignored');
    // The functions framework is not loaded here either: any @google-cloud package is a client.
    assert.deepEqual(
      urls.filter((url) => HEAVY_MODULE.test(url) || /@google-cloud\//.test(url)),
      [],
    );
  });
});
