import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Silence } from '../../../shared/domain/incident.ts';
import { dedupKey } from '../../../shared/notify/pagerduty-render.ts';
import { useNotifyFakes } from '../../support/notify-fakes.ts';
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

/** nodepool-gce-metadata: deployer@ (Terraform) puts highmem of core-1 on GCE_METADATA at 09:10:30. */
const CHANGE_AT = Date.parse('2026-11-10T09:10:30.114552Z');
const POOL_FP = 'nodepool-metadata-disabled/orbit-prod/europe-west4/core-1/highmem';
const DEPLOYER = 'deployer@orbit-prod.iam.gserviceaccount.com';

/** pricing-0 (checkout/pricing) runs on highmem. */
const pricing = (at: number) => ({
  namespace: 'checkout',
  pod: 'pricing-0',
  node: 'gke-core-1-highmem-1a2b3c4d-x9k2',
  at,
  text: TEXT.pythonDenied,
});

/** `/wi-status plan actor=deployer@… 2h …`, as wiCommands stores it. */
function plan(overrides: Partial<Silence> = {}): Silence {
  return {
    id: 'p-0a1b2c3d4e',
    matchers: { actor: 'deployer@*', cluster: 'core-1' },
    createdAt: new Date(CHANGE_AT - 600_000).toISOString(),
    expiresAt: new Date(CHANGE_AT + 2 * 3_600_000).toISOString(),
    author: '@alice (U0ALICE)',
    reason: 'highmem moves to the new node image',
    effect: 'plan',
    ...overrides,
  };
}

describe('planned changes: told to Slack, paged only when pods suffer', () => {
  const fakes = useNotifyFakes();

  /** Forgets what the fakes received, as between tests. */
  function reset() {
    fakes.slack.calls.length = 0;
    fakes.slack.messages.length = 0;
    fakes.pd.events.length = 0;
  }

  async function fail(h: ReturnType<typeof harness>, at: number) {
    h.clock.set(at + 2_000);
    return h.alerting.handle(failureDelivery(pricing(at)));
  }

  test('a planned removal with no failures pages nobody, and its repair tells Slack only', async () => {
    const h = harness(fakes, CHANGE_AT + 5_000);
    await h.store.saveSilence(plan());
    const opened = await h.alerting.handle(auditEvent('nodepool-gce-metadata'));
    assert.equal(opened.incidents[0]?.transition, 'opened');
    assert.deepEqual(opened.incidents[0]?.incident.planned, {
      id: 'p-0a1b2c3d4e',
      reason: 'highmem moves to the new node image',
      author: '@alice (U0ALICE)',
      until: '2026-11-10T11:10:30.114Z',
    });
    assert.equal(posts(fakes.slack).length, 1);
    const text = slackText(posts(fakes.slack)[0] as never);
    assert.match(text, /🗓️ Planned: Node pool off the GKE metadata server/);
    assert.match(
      text,
      /🗓️ \*Planned change\*: highmem moves to the new node image \(declared by @alice \(U0ALICE\)/,
    );
    assert.match(text, /Nobody is paged unless its pods fail/);
    assert.equal(fakes.pd.events.length, 0, 'nobody paged');

    h.clock.set(Date.parse('2026-11-10T10:45:10Z'));
    const repaired = await h.alerting.handle(auditEvent('nodepool-gke-metadata'));
    assert.equal(repaired.incidents[0]?.transition, 'resolved');
    assert.equal(edits(fakes.slack).length, 1, 'the message turns green');
    assert.equal(fakes.pd.events.length, 0, 'nothing to resolve in PagerDuty');
  });

  test('the same removal followed by failing pods pages once, and says why', async () => {
    const h = harness(fakes, CHANGE_AT + 5_000);
    await h.store.saveSilence(plan());
    await h.alerting.handle(auditEvent('nodepool-gce-metadata'));
    assert.equal(fakes.pd.events.length, 0);

    const first = CHANGE_AT + 40_000;
    for (let i = 0; i < 6; i++) await fail(h, first + i * 20_000);

    const events = pdBodies(fakes.pd);
    assert.ok(events.length >= 1, 'paged');
    assert.ok(
      events.every((e) => e.event_action === 'trigger' && e.dedup_key === dedupKey(POOL_FP)),
      'one alert: every event under the incident’s dedup key',
    );
    assert.match(
      events[0]?.payload?.summary ?? '',
      /^planned change, but pods are failing since 2026-11-10 09:11 UTC: node pool highmem was switched to GCE_METADATA/,
    );
    const planned = events[0]?.payload?.custom_details.planned as { breach?: { why: string; since: string } };
    assert.equal(planned.breach?.why, 'failures');
    assert.equal(planned.breach?.since, new Date(first).toISOString());

    const thread = replies(fakes.slack).map((r) => String(r.body.text));
    assert.equal(thread.length, 1, 'one thread reply says it pages now');
    assert.match(
      thread[0] ?? '',
      /\*Updated:\* planned change, but pods are failing since 2026-11-10 09:11 UTC/,
    );
    const last = slackText(edits(fakes.slack).at(-1) as never);
    assert.match(last, /🔴 Firing: Node pool off the GKE metadata server/);
    assert.match(last, /🚨 \*Planned change, but pods are failing since .*\*: paged/);

    const [incident] = await h.store.listOpen();
    assert.equal(incident?.planned?.breach?.why, 'failures');
  });

  test('failures of KSAs the change does not hit do not breach the plan', async () => {
    const h = harness(fakes, CHANGE_AT + 5_000);
    await h.store.saveSilence(plan());
    await h.alerting.handle(auditEvent('nodepool-gce-metadata'));
    // search/indexer runs on spot, not on highmem.
    h.clock.set(CHANGE_AT + 60_000);
    await h.alerting.handle(
      failureDelivery({
        namespace: 'search',
        pod: 'indexer-x7',
        node: 'gke-core-1-spot-5e6f7a8b-k2m4',
        at: CHANGE_AT + 58_000,
        text: TEXT.pythonDenied,
      }),
    );
    assert.equal(fakes.pd.events.length, 0);
  });

  test('a change the plan does not cover, on the same link, pages', async () => {
    const h = harness(fakes, CHANGE_AT + 5_000);
    await h.store.saveSilence(plan());
    await h.alerting.handle(auditEvent('nodepool-gce-metadata'));
    const other = auditEvent('nodepool-gce-metadata') as {
      insertId: string;
      operation: { id: string };
      protoPayload: { authenticationInfo: Record<string, string> };
    };
    other.insertId = 'someone-else-1';
    other.operation.id = 'operation-someone-else-1';
    other.protoPayload.authenticationInfo = { principalEmail: 'mallory@example.org' };
    h.clock.set(CHANGE_AT + 65_000);
    await h.alerting.handle(other);
    const events = pdBodies(fakes.pd);
    assert.equal(events.length, 1);
    assert.match(
      events[0]?.payload?.summary ?? '',
      /^planned change, but a change no plan covers broke the same link: /,
    );
  });

  test('an expired plan, or one that does not match, covers nothing: it pages as before', async () => {
    for (const held of [
      plan({ expiresAt: new Date(CHANGE_AT - 60_000).toISOString() }),
      plan({ matchers: { actor: 'someone-else@*' } }),
      // The change was Terraform's, not gcloud's.
      plan({ matchers: { tool: 'gcloud' } }),
    ]) {
      reset();
      const h = harness(fakes, CHANGE_AT + 5_000);
      await h.store.saveSilence(held);
      await h.alerting.handle(auditEvent('nodepool-gce-metadata'));
      assert.equal(fakes.pd.events.length, 1, JSON.stringify(held));
    }
  });

  test('the routing file’s standing plan: changes by the pipeline during business hours', async () => {
    const rule = {
      matchers: { actor: DEPLOYER, tool: 'terraform' },
      reason: 'CI deploys from platform-infra during business hours',
      hours: {
        days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const,
        from: '08:00',
        to: '18:00',
        timeZone: 'Europe/Amsterdam',
      },
    };
    const during = harness(fakes, CHANGE_AT + 5_000, {
      routing: {
        ...fakes.routing,
        plans: [{ ...rule, hours: { ...rule.hours, days: [...rule.hours.days] } }],
      },
    });
    const opened = await during.alerting.handle(auditEvent('nodepool-gce-metadata'));
    assert.equal(opened.incidents[0]?.incident.planned?.id, 'routing:0');
    assert.equal(opened.incidents[0]?.incident.planned?.author, 'the routing file');
    assert.equal(fakes.pd.events.length, 0, 'Tuesday 10:10 in Amsterdam: planned');

    reset();
    const evening = harness(fakes, CHANGE_AT + 5_000, {
      routing: {
        ...fakes.routing,
        plans: [
          { ...rule, hours: { ...rule.hours, days: [...rule.hours.days], from: '18:00', to: '23:00' } },
        ],
      },
    });
    await evening.alerting.handle(auditEvent('nodepool-gce-metadata'));
    assert.equal(fakes.pd.events.length, 1, 'outside the hours it pages');
  });
});
