/**
 * A GSA re-created under a deleted one's email (issue 18, failure 8): a new principal with an empty
 * policy, so the KSAs annotated with it still get no token. auditEvents, served by
 * functions-framework on a simulated organization, must keep the incident open, move it on to what
 * is still broken in the same Slack thread, and resolve it only when the KSAs are bound again. And
 * a timestamp that is not RFC 3339 never reaches a cause or a message: it is left out, saying so.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FakePagerDuty } from '../fakes/pagerduty.ts';
import type { FakeSlack } from '../fakes/slack.ts';
import { waitUntil } from '../support/function-server.ts';
import { pushed, type ServedAuditEvents, serveAuditEvents } from '../support/served-audit.ts';
import { bindingEntry, gsaLifecycleEntry, type Link } from '../support/wi-stream.ts';

const NEW_ID = '120000000000000000999';

describe('only a real repair resolves a deleted GSA', () => {
  let slack: FakeSlack;
  let pagerduty: FakePagerDuty;
  let served: ServedAuditEvents;

  before(async () => {
    served = await serveAuditEvents({ links: 2, slack: true, pagerduty: true });
    ({ slack, pagerduty } = served);
  });
  after(() => served?.stop());

  const push = (entry: Record<string, unknown>) => pushed(served, entry);

  /** PagerDuty's actions for the link's alert (its dedup_key, from the triggers that name the GSA). */
  const actions = (link: Link) => {
    const events = pagerduty.events.map(
      (e) => e.body as { event_action?: string; dedup_key?: string } | undefined,
    );
    const keys = new Set(events.filter((e) => JSON.stringify(e).includes(link.gsa)).map((e) => e?.dedup_key));
    return events.filter((e) => keys.has(e?.dedup_key)).map((e) => e?.event_action);
  };

  test('re-created: still open, moved on to the bindings in the same thread; bound again: resolved', async () => {
    const link = served.links[0] as Link;
    await push(gsaLifecycleEntry(link, 'Delete', { insertId: 'gsa-del-1' }));
    const [message] = slack.messages.filter((m) => m.thread_ts === undefined && m.text?.includes(link.gsa));
    assert.ok(message, 'the deletion is told');
    assert.deepEqual(actions(link), ['trigger']);

    await push(gsaLifecycleEntry(link, 'Create', { insertId: 'gsa-create-1', uniqueId: NEW_ID }));
    // An update may re-send the trigger (PagerDuty keeps one alert per dedup_key); never a resolve.
    assert.ok(!actions(link).includes('resolve'), 'not resolved: the KSAs still get no token');
    const thread = () => slack.messages.filter((m) => m.thread_ts === message.ts);
    assert.equal(thread().length, 1);
    assert.match(String(thread()[0]?.text), /re-created .*without its bindings/);
    assert.doesNotMatch(String(message.text), /Resolved/);
    assert.match(JSON.stringify(message.blocks), /add-iam-policy-binding/);

    // The bindings granted on the new principal: live state (the simulated organization) shows them.
    await push(bindingEntry({ ...link, uniqueId: NEW_ID }, 'ADD', { insertId: 'gsa-bind-1' }));
    assert.equal(actions(link).at(-1), 'resolve');
    assert.equal(actions(link).filter((a) => a === 'resolve').length, 1);
    assert.equal(thread().length, 2);
    assert.equal(
      slack.messages.filter((m) => m.thread_ts === undefined && m.text?.includes(link.gsa)).length,
      1,
      'one message for the whole story',
    );
  });

  test('a timestamp that is not RFC 3339 is left out of the cause and the messages, saying so', async () => {
    const link = served.links[1] as Link;
    const from = served.server.logs().length;
    await push(gsaLifecycleEntry(link, 'Delete', { insertId: 'gsa-del-2', timestamp: 'yesterday at noon' }));
    const logs = () => served.server.logs().slice(from);
    await waitUntil(() => logs().some((l) => l.finding), 5_000);
    const finding = logs().find((l) => l.finding)?.finding as { cause?: { time?: string; note?: string } };
    assert.equal(finding.cause?.time, undefined);
    assert.match(
      String(finding.cause?.note),
      /timestamp "yesterday at noon" is not an RFC 3339 time: left out/,
    );
    const told = slack.messages.filter((m) => m.text?.includes(link.gsa));
    assert.equal(told.length, 1);
    assert.doesNotMatch(JSON.stringify(told), /yesterday/);
    assert.doesNotMatch(JSON.stringify(pagerduty.events.at(-1)?.body), /yesterday/);
  });
});
