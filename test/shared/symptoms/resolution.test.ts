import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Incident } from '../../../shared/domain/incident.ts';
import { dedupKey } from '../../../shared/notify/pagerduty-render.ts';
import { quietResolutions } from '../../../shared/symptoms/auth-failures.ts';
import { DEFAULT_SYMPTOM_OPTIONS } from '../../../shared/symptoms/group.ts';
import { groupKeysOf, resolveQuietSymptoms } from '../../../shared/symptoms/quiet.ts';
import { useNotifyFakes } from '../../support/notify-fakes.ts';
import { incident, symptomGroup } from '../incidents/store-contract.ts';
import {
  auditEvent,
  edits,
  failureDelivery,
  harness,
  pdBodies,
  posts,
  replies,
  slackText,
  TEXT,
} from './support.ts';

const MINUTE = 60_000;
const QUIET = DEFAULT_SYMPTOM_OPTIONS.window.quietMs;
const INDEXER_FP = 'wi-auth-failures/orbit-prod/europe-west4/core-1/search/indexer';

describe('quietResolutions: which symptom incidents resolve (pure)', () => {
  const now = new Date('2026-11-28T10:30:00Z');
  const symptomIncident = (fingerprint: string): Incident =>
    incident({
      fingerprint,
      kind: 'wi-auth-failures',
      finding: {
        ...incident().finding,
        kind: 'wi-auth-failures',
        fingerprint,
        ksas: [{ workloadPool: 'orbit-prod.svc.id.goog', namespace: 'checkout', name: 'cart' }],
      },
    });
  const cartFp = 'wi-auth-failures/orbit-prod/europe-west4/core-1/checkout/cart';

  test('a group quiet for the window resolves its incident, saying since when', () => {
    const quiet = symptomGroup({ lastSeen: '2026-11-28T10:14:30Z', activeUntil: '2026-11-28T10:29:30Z' });
    const [resolved] = quietResolutions([symptomIncident(cartFp)], [quiet], now, DEFAULT_SYMPTOM_OPTIONS);
    assert.equal(resolved?.status, 'resolved');
    assert.equal(resolved?.fingerprint, cartFp);
    assert.equal(
      resolved?.summary,
      'no credential failure from checkout/cart since 10:14 UTC (quiet for 16 min)',
    );
  });

  test('a group still failing keeps it open; other kinds are not the symptoms’ to resolve', () => {
    const active = symptomGroup({ lastSeen: '2026-11-28T10:20:00Z', activeUntil: '2026-11-28T10:35:00Z' });
    assert.deepEqual(quietResolutions([symptomIncident(cartFp)], [active], now, DEFAULT_SYMPTOM_OPTIONS), []);
    assert.deepEqual(quietResolutions([incident()], [], now, DEFAULT_SYMPTOM_OPTIONS), []);
  });

  test('a group gone (expired after a long quiet) resolves it too', () => {
    const [resolved] = quietResolutions([symptomIncident(cartFp)], [], now, DEFAULT_SYMPTOM_OPTIONS);
    assert.match(resolved?.summary ?? '', /^no credential failure from checkout\/cart for 15 min$/);
  });

  test('the groups behind a fingerprint: one KSA’s, or a cluster’s alert and metadata-server logs', () => {
    assert.deepEqual(groupKeysOf(cartFp), ['orbit-prod/europe-west4/core-1/checkout/cart']);
    assert.deepEqual(groupKeysOf('wi-auth-failures/orbit-prod/europe-west4/core-1'), [
      'orbit-prod/europe-west4/core-1/~monitoring/metadata-server-errors',
      'orbit-prod/europe-west4/core-1/kube-system/*',
    ]);
    assert.deepEqual(groupKeysOf('binding-missing/x'), []);
  });
});

describe('resolution through the sweep and the repair, with the real clients', () => {
  const fakes = useNotifyFakes();

  async function fail(h: ReturnType<typeof harness>, failure: Parameters<typeof failureDelivery>[0]) {
    h.clock.set(failure.at + 2_000);
    return h.alerting.handle(failureDelivery(failure));
  }

  test('a symptom incident resolves after a quiet window with no failures, and a new storm pages again', async () => {
    const start = Date.parse('2026-11-28T10:02:00Z');
    const h = harness(fakes, start);
    const indexer = (at: number) => ({
      namespace: 'search',
      pod: 'indexer-x7',
      node: 'gke-core-1-spot-0b7d41c2-m2zt',
      at,
      text: TEXT.pythonDenied,
    });
    for (const s of [0, 60, 150]) await fail(h, indexer(start + s * 1000));
    assert.equal((await h.store.current(INDEXER_FP))?.status, 'open');
    const lastFailure = start + 150_000;
    const symptoms = h.alerting.symptoms;
    assert.ok(symptoms);

    h.clock.set(lastFailure + QUIET - MINUTE);
    const early = await resolveQuietSymptoms({ symptoms, runId: 'run-1', now: h.clock.now });
    assert.deepEqual(early.resolved, []);
    assert.equal((await h.store.current(INDEXER_FP))?.status, 'open');

    h.clock.set(lastFailure + QUIET + 1_000);
    const quiet = await resolveQuietSymptoms({ symptoms, runId: 'run-2', now: h.clock.now });
    assert.deepEqual(
      quiet.resolved.map((f) => f.fingerprint),
      [INDEXER_FP],
    );
    assert.deepEqual(quiet.retryable, []);
    const closed = await h.store.current(INDEXER_FP);
    assert.equal(closed?.status, 'resolved');
    assert.match(
      closed?.resolution?.summary ?? '',
      /^no credential failure from search\/indexer since 10:04 UTC \(quiet for 15 min\)$/,
    );
    assert.equal(posts(fakes.slack).length, 1);
    assert.match(
      String(replies(fakes.slack).at(-1)?.body.text),
      /Resolved:\* no credential failure from search\/indexer/,
    );
    assert.match(
      slackText(edits(fakes.slack).at(-1) as never),
      /🟢 Resolved: Workloads fail to get Google credentials/,
    );
    assert.deepEqual(
      pdBodies(fakes.pd).map((e) => [e.event_action, e.dedup_key]),
      [
        ['trigger', dedupKey(INDEXER_FP)],
        ['resolve', dedupKey(INDEXER_FP)],
      ],
    );
    // The same run again changes nothing.
    await resolveQuietSymptoms({ symptoms, runId: 'run-2', now: h.clock.now });
    assert.equal(pdBodies(fakes.pd).length, 2);

    // Failures after the quiet window are a new episode: a new incident, a new page.
    const later = lastFailure + QUIET + 10 * MINUTE;
    for (const s of [0, 60, 150]) await fail(h, indexer(later + s * 1000));
    const reopened = await h.store.current(INDEXER_FP);
    assert.equal(reopened?.status, 'open');
    assert.notEqual(reopened?.id, closed?.id);
    assert.equal(reopened?.evidence?.[0]?.count, 3, 'counted from the new first failure');
    assert.equal(posts(fakes.slack).length, 2);
    assert.deepEqual(pdBodies(fakes.pd).at(-1)?.event_action, 'trigger');
  });

  test('failures after a repair update the green message, not PagerDuty; if they go on, they page', async () => {
    // highmem goes to GCE_METADATA at 09:10:30; deployer@ puts it back at 10:45:04.
    const start = Date.parse('2026-11-10T10:40:00Z');
    const h = harness(fakes, Date.parse('2026-11-10T09:10:35Z'));
    await h.alerting.handle(auditEvent('nodepool-gce-metadata'));
    const pricing = (at: number) => ({
      namespace: 'checkout',
      pod: 'pricing-0',
      node: 'gke-core-1-highmem-1a2b3c4d-x9k2',
      at,
      text: TEXT.pythonDenied,
    });
    for (let s = 0; s <= 240; s += 30) await fail(h, pricing(start + s * 1000));
    h.clock.set(Date.parse('2026-11-10T10:45:10Z'));
    const repair = await h.alerting.handle(auditEvent('nodepool-gke-metadata'));
    assert.equal(repair.incidents[0]?.transition, 'resolved');
    const pdBefore = pdBodies(fakes.pd).length;
    assert.equal(pdBodies(fakes.pd).at(-1)?.event_action, 'resolve');
    const repliesBefore = replies(fakes.slack).length;

    // Two stragglers: the resolved message shows them, nobody is paged.
    await fail(h, pricing(Date.parse('2026-11-10T10:45:30Z')));
    await fail(h, pricing(Date.parse('2026-11-10T10:46:40Z')));
    assert.equal(pdBodies(fakes.pd).length, pdBefore, 'PagerDuty is left resolved');
    assert.equal(replies(fakes.slack).length, repliesBefore, 'no thread reply');
    const green = slackText(edits(fakes.slack).at(-1) as never);
    assert.match(green, /🟢 Resolved: Node pool off the GKE metadata server/);
    assert.match(
      green,
      /\*repair\*: deployer@orbit-prod\.iam\.gserviceaccount\.com: .*\*last failure\*: 11 failures/,
    );
    assert.equal(posts(fakes.slack).length, 1);

    // Still failing two minutes after the repair: that is news, and nothing open explains it.
    await fail(h, pricing(Date.parse('2026-11-10T10:47:30Z')));
    await fail(h, pricing(Date.parse('2026-11-10T10:48:00Z')));
    const open = await h.store.listOpen();
    assert.deepEqual(
      open.map((i) => i.fingerprint),
      ['wi-auth-failures/orbit-prod/europe-west4/core-1/checkout/pricing'],
    );
    assert.equal(posts(fakes.slack).length, 2);
  });
});
