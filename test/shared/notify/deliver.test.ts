import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Incident } from '../../../shared/domain/incident.ts';
import { acknowledge, silenceOn } from '../../../shared/incidents/acts.ts';
import { step } from '../../../shared/incidents/lifecycle.ts';
import { deliver, transitionFor } from '../../../shared/notify/deliver.ts';
import { NotifyError } from '../../../shared/notify/errors.ts';
import { destinationKey } from '../../../shared/notify/routing.ts';
import type { Delivery, Destination, Senders } from '../../../shared/notify/types.ts';
import { bindingFinding, resolvedOf } from '../../support/findings.ts';

const slack: Destination = { type: 'slack', channel: '#alerts' };
const pd: Destination = { type: 'pagerduty', routingKey: 'k'.repeat(32) };
const now = new Date('2026-11-20T10:00:00Z');

/** Senders that record what they were asked and fail as scripted (one entry per call). */
function recordingSenders(script: { slack?: (Error | null)[]; pagerduty?: (Error | null)[] } = {}) {
  const calls: { to: string; transition: string; edits?: string }[] = [];
  const next = (list: (Error | null)[] | undefined) => list?.shift() ?? null;
  const senders: Senders = {
    slack: {
      async send(channel: string, delivery: Delivery) {
        calls.push({
          to: channel,
          transition: delivery.transition,
          ...(delivery.slack ? { edits: delivery.slack.ts } : {}),
        });
        const error = next(script.slack);
        if (error) throw error;
        return delivery.slack ?? { channel: 'C1', ts: '1700000000.000100' };
      },
    },
    pagerduty: {
      async send(_key: string, delivery: Delivery) {
        calls.push({ to: 'pagerduty', transition: delivery.transition });
        const error = next(script.pagerduty);
        if (error) throw error;
      },
    },
  };
  return { senders, calls };
}

function opened(): Incident {
  const incident = step(undefined, bindingFinding(), 'e-1', now).next;
  assert.ok(incident);
  return incident;
}

describe('deliver', () => {
  test('opening: post to Slack and trigger PagerDuty; states recorded per destination', async () => {
    const { senders, calls } = recordingSenders();
    const report = await deliver(opened(), [slack, pd], senders);
    assert.deepEqual(calls, [
      { to: '#alerts', transition: 'opened' },
      { to: 'pagerduty', transition: 'opened' },
    ]);
    assert.deepEqual(report.notifications[destinationKey(slack)], {
      seq: 1,
      slack: { channel: 'C1', ts: '1700000000.000100' },
    });
    assert.deepEqual(report.notifications[destinationKey(pd)], { seq: 1 });
  });

  test('already told: nothing is sent again', async () => {
    const { senders, calls } = recordingSenders();
    const incident = opened();
    const first = await deliver(incident, [slack, pd], senders);
    calls.length = 0;
    await deliver({ ...incident, notifications: first.notifications }, [slack, pd], senders);
    assert.deepEqual(calls, []);
  });

  test('Slack fails (retryable), PagerDuty succeeds: the retry goes to Slack only', async () => {
    const { senders, calls } = recordingSenders({
      slack: [new NotifyError('slack', 'HTTP 500', { status: 500, retryable: true })],
    });
    const incident = opened();
    const first = await deliver(incident, [slack, pd], senders);
    assert.equal(first.retryable.length, 1);
    assert.equal(first.notifications[destinationKey(slack)], undefined);
    calls.length = 0;
    const second = await deliver({ ...incident, notifications: first.notifications }, [slack, pd], senders);
    assert.deepEqual(calls, [{ to: '#alerts', transition: 'opened' }]);
    assert.equal(second.retryable.length, 0);
  });

  test('a permanent failure is recorded with its reason and not retried', async () => {
    const { senders, calls } = recordingSenders({
      slack: [new NotifyError('slack', 'channel_not_found', { retryable: false })],
    });
    const incident = opened();
    const first = await deliver(incident, [slack], senders);
    assert.equal(first.permanent.length, 1);
    assert.deepEqual(first.notifications[destinationKey(slack)], {
      seq: 1,
      error: 'slack: channel_not_found',
    });
    calls.length = 0;
    await deliver({ ...incident, notifications: first.notifications }, [slack], senders);
    assert.deepEqual(calls, []);
  });

  test('an update edits the Slack message it posted; resolution edits it again and resolves PagerDuty', async () => {
    const { senders, calls } = recordingSenders();
    let incident = opened();
    incident = { ...incident, notifications: (await deliver(incident, [slack, pd], senders)).notifications };
    const updated = step(
      incident,
      bindingFinding({
        ksas: [...bindingFinding().ksas, { workloadPool: 'p', namespace: 'checkout', name: 'pricing' }],
      }),
      'e-2',
      now,
    ).next;
    assert.ok(updated);
    incident = { ...updated, notifications: (await deliver(updated, [slack, pd], senders)).notifications };
    const resolved = step(incident, resolvedOf(bindingFinding()), 'e-3', now).next;
    assert.ok(resolved);
    await deliver(resolved, [slack, pd], senders);
    assert.deepEqual(calls, [
      { to: '#alerts', transition: 'opened' },
      { to: 'pagerduty', transition: 'opened' },
      { to: '#alerts', transition: 'updated', edits: '1700000000.000100' },
      { to: 'pagerduty', transition: 'updated' },
      { to: '#alerts', transition: 'resolved', edits: '1700000000.000100' },
      { to: 'pagerduty', transition: 'resolved' },
    ]);
  });

  test('silenced: recorded, not sent; and a resolution is not sent where nothing was said', async () => {
    const { senders, calls } = recordingSenders();
    const silences = [
      {
        id: 's-9',
        matchers: { namespace: 'checkout' },
        createdAt: '',
        expiresAt: '2026-11-21T00:00:00Z',
        author: 'U1',
        reason: 'drill',
      },
    ];
    const incident = opened();
    const report = await deliver(incident, [slack, pd], senders, { silences, now });
    assert.equal(report.silencedBy, 's-9');
    assert.deepEqual(calls, []);
    const resolved = step(incident, resolvedOf(bindingFinding()), 'e-2', now).next;
    assert.ok(resolved);
    const after = await deliver(resolved, [slack, pd], senders, { now: new Date('2026-11-22T00:00:00Z') });
    assert.deepEqual(calls, []);
    assert.equal(after.notifications[destinationKey(slack)]?.seq, 2);
  });

  test('silenced after it paged: the message still shows acts and turns green; PagerDuty is not triggered again but is acknowledged and resolved', async () => {
    const { senders, calls } = recordingSenders();
    const incident = opened();
    const told = {
      ...incident,
      notifications: (await deliver(incident, [slack, pd], senders)).notifications,
    };
    calls.length = 0;
    const at = now.toISOString();
    const silence = {
      id: 's-1',
      matchers: { fingerprint: incident.fingerprint },
      createdAt: at,
      expiresAt: '2026-11-21T00:00:00Z',
      author: '@alice',
      reason: `incident ${incident.id}`,
    };
    const silenced = silenceOn(told, silence, { key: 'k1', by: '@alice', at, via: 'slack' });
    assert.equal(silenced.outcome, 'changed');
    const shown = silenced.outcome === 'changed' ? silenced.next : told;
    const first = await deliver(shown, [slack, pd], senders, { silences: [silence], now });
    assert.deepEqual(calls, [{ to: '#alerts', transition: 'refreshed', edits: '1700000000.000100' }]);
    calls.length = 0;
    const acked = acknowledge(
      { ...shown, notifications: first.notifications },
      { key: 'k2', by: '@alice', at, via: 'slack' },
    );
    assert.equal(acked.outcome, 'changed');
    const ackedIncident = acked.outcome === 'changed' ? acked.next : shown;
    const second = await deliver(ackedIncident, [slack, pd], senders, { silences: [silence], now });
    assert.deepEqual(calls, [
      { to: '#alerts', transition: 'refreshed', edits: '1700000000.000100' },
      { to: 'pagerduty', transition: 'refreshed' },
    ]);
    calls.length = 0;
    const resolved = step(
      { ...ackedIncident, notifications: second.notifications },
      resolvedOf(bindingFinding()),
      'e-2',
      now,
    ).next;
    assert.ok(resolved);
    await deliver(resolved, [slack, pd], senders, { silences: [silence], now });
    assert.deepEqual(calls, [
      { to: '#alerts', transition: 'resolved', edits: '1700000000.000100' },
      { to: 'pagerduty', transition: 'resolved' },
    ]);
  });

  test('"until resolved": a silence that ends with its incident holds back no later incident of the fingerprint', async () => {
    const { senders, calls } = recordingSenders();
    const incident = opened();
    const silence = {
      id: 's-2',
      matchers: { fingerprint: incident.fingerprint },
      createdAt: now.toISOString(),
      expiresAt: '2026-12-20T00:00:00Z',
      author: '@alice',
      reason: 'until resolved',
      endsWith: 'an-earlier-incident',
    };
    await deliver(incident, [slack, pd], senders, { silences: [silence], now });
    assert.deepEqual(
      calls.map((c) => c.transition),
      ['opened', 'opened'],
    );
  });
});

describe('transitionFor: what a destination is owed', () => {
  const t0 = new Date('2026-11-20T09:00:05Z');
  const opened = step(undefined, bindingFinding(), 'e-1', t0).next as Incident;

  test('opened when never told, updated after a new transition, resolved once resolved', () => {
    assert.equal(transitionFor(opened, 0), 'opened');
    const more = step(opened, bindingFinding({ cause: { method: 'm', actor: 'bob@example.org' } }), 'e-2', t0)
      .next as Incident;
    assert.equal(transitionFor(more, 1), 'updated');
    const resolved = step(more, resolvedOf(bindingFinding()), 'e-3', t0).next as Incident;
    assert.equal(transitionFor(resolved, 2), 'resolved');
  });

  test('refreshed when only what the incident shows changed since it was told (seq moved, no transition)', () => {
    const refreshed: Incident = { ...opened, seq: opened.seq + 1 };
    assert.equal(transitionFor(refreshed, 1), 'refreshed');
    const resolved = step(opened, resolvedOf(bindingFinding()), 'e-3', t0).next as Incident;
    assert.equal(transitionFor({ ...resolved, seq: resolved.seq + 1 }, resolved.seq), 'refreshed');
  });
});
