import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, test } from 'node:test';
import { createAlerting } from '../../../shared/alerting/alerting.ts';
import { RetryableDeliveryError } from '../../../shared/alerting/delivery.ts';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../../../shared/incidents/store.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { readSnapshotFile } from '../../../shared/live/snapshot-file.ts';
import { createLogger } from '../../../shared/log.ts';
import { actions, edits, posts, ROUTING_KEY, useNotifyFakes } from '../../support/notify-fakes.ts';
import { FIXTURES } from '../../support/paths.ts';

const event = (name: string) => JSON.parse(readFileSync(join(FIXTURES, 'events', `${name}.json`), 'utf8'));

describe('alerting: findings → incidents → Slack and PagerDuty through the real clients', () => {
  const fakes = useNotifyFakes();
  let store: IncidentStore;
  let lines: string[];
  let snapshot: Snapshot;
  let alerting: ReturnType<typeof createAlerting>;

  beforeEach(() => {
    store = createMemoryStore();
    lines = [];
    snapshot = readSnapshotFile(join(FIXTURES, 'snapshot.json'));
    const logger = createLogger((line) => lines.push(line));
    alerting = createAlerting({
      store,
      senders: fakes.senders(logger),
      routing: fakes.routing,
      logger,
      inventory: { current: () => snapshot, update: (next) => (snapshot = next) },
    });
  });

  test('the same event delivered three times: one post and one trigger', async () => {
    const removal = event('gsa-binding-removed');
    const first = await alerting.handle(removal);
    assert.equal(first.incidents[0]?.transition, 'opened');
    assert.equal((await alerting.handle(removal)).outcome, 'duplicate');
    assert.equal((await alerting.handle(removal)).outcome, 'duplicate');
    assert.equal(posts(fakes.slack).length, 1);
    assert.deepEqual(actions(fakes.pd), ['trigger']);
    assert.equal((await store.listOpen()).length, 1);
  });

  test('a fix: one update of the same message, a thread reply, one resolve', async () => {
    await alerting.handle(event('gsa-binding-removed'));
    const result = await alerting.handle(event('gsa-binding-added'));
    assert.equal(result.incidents[0]?.transition, 'resolved');
    assert.equal(posts(fakes.slack).length, 1);
    const [update] = edits(fakes.slack);
    assert.ok(update);
    assert.equal(update.body.ts, posts(fakes.slack)[0] && fakes.slack.messages[0]?.ts);
    assert.equal(fakes.slack.calls.filter((c) => c.body.thread_ts).length, 1, 'one thread reply');
    assert.deepEqual(actions(fakes.pd), ['trigger', 'resolve']);
    const keys = fakes.pd.events.map((e) => (e.body as { dedup_key: string }).dedup_key);
    assert.equal(keys[0], keys[1]);
    assert.equal((await store.listOpen()).length, 0);
  });

  test('Slack fails with 500s, PagerDuty succeeds: the redelivery retries Slack only', async () => {
    fakes.slack.script({ status: 500 }, { status: 500 }, { status: 500 });
    const removal = event('gsa-binding-removed');
    await assert.rejects(alerting.handle(removal), RetryableDeliveryError);
    assert.deepEqual(actions(fakes.pd), ['trigger']);
    const again = await alerting.handle(removal);
    assert.equal(again.outcome, 'handled');
    assert.deepEqual(actions(fakes.pd), ['trigger'], 'PagerDuty is not told twice');
    assert.equal(fakes.slack.messages.length, 1);
    assert.equal((await alerting.handle(removal)).outcome, 'duplicate');
  });

  test('429 with Retry-After is honoured within the bounds', async () => {
    fakes.slack.script({ status: 429, retryAfter: 0 });
    await alerting.handle(event('gsa-binding-removed'));
    assert.equal(fakes.slack.messages.length, 1);
  });

  test('ok:false from Slack is permanent: logged with the reason, acknowledged, not retried', async () => {
    fakes.slack.script({ error: 'channel_not_found' });
    const removal = event('gsa-binding-removed');
    const result = await alerting.handle(removal);
    assert.equal(result.outcome, 'handled');
    assert.equal(posts(fakes.slack).length, 1);
    assert.ok(lines.some((line) => /notification failed permanently: slack: .*channel_not_found/.test(line)));
    assert.equal((await alerting.handle(removal)).outcome, 'duplicate');
    assert.equal(posts(fakes.slack).length, 1);
  });

  test('no secret in any log line', async () => {
    fakes.slack.script({ status: 500 }, { status: 500 }, { status: 500 });
    fakes.pd.script({ status: 400 });
    await assert.rejects(alerting.handle(event('gsa-binding-removed')));
    assert.ok(lines.length > 0);
    for (const line of lines) {
      assert.doesNotMatch(line, /xoxb-|secretsecret/);
      assert.ok(!line.includes(ROUTING_KEY));
    }
  });

  test('the snapshot evolves: the repair is judged against the organization after the break', async () => {
    await alerting.handle(event('gsa-binding-removed'));
    const cart = snapshot.projects[0]?.serviceAccounts.find((g) => g.email.startsWith('cart@'));
    assert.ok(cart);
    assert.ok(!JSON.stringify(cart.iamPolicy).includes('[checkout/cart]'));
  });

  test('undecodable input is acknowledged with a reason', async () => {
    const result = await alerting.handle('{"message": {"data": "@@@"}}');
    assert.equal(result.outcome, 'invalid');
    assert.match(result.reason ?? '', /not base64/);
    assert.equal(fakes.slack.calls.length, 0);
  });

  test('a silenced incident is recorded, not sent', async () => {
    await store.saveSilence({
      id: 'sil-1',
      matchers: { namespace: 'checkout' },
      createdAt: '2026-11-20T00:00:00Z',
      expiresAt: '2099-01-01T00:00:00Z',
      author: 'U42',
      reason: 'migration',
    });
    const result = await alerting.handle(event('gsa-binding-removed'));
    assert.equal(result.incidents[0]?.incident.silencedBy, 'sil-1');
    assert.equal(fakes.slack.calls.length, 0);
    assert.equal(fakes.pd.events.length, 0);
  });

  test('a GKE operation: the first entry pages with its actor, the last confirms without news', async () => {
    const first = await alerting.handle(event('nodepool-gce-metadata'));
    assert.equal(first.incidents[0]?.transition, 'opened');
    assert.equal(
      first.incidents[0]?.incident.finding.cause?.actor,
      'deployer@orbit-prod.iam.gserviceaccount.com',
    );
    const last = await alerting.handle(event('nodepool-update-last'));
    assert.equal(last.outcome, 'handled');
    assert.equal(last.incidents[0]?.transition, undefined, 'no new transition');
    assert.equal(posts(fakes.slack).length, 1);
    assert.equal(edits(fakes.slack).length, 0);
    assert.deepEqual(actions(fakes.pd), ['trigger']);
  });

  test('a GKE operation whose last entry failed never happened: the incident resolves', async () => {
    await alerting.handle(event('nodepool-gce-metadata'));
    const failed = event('nodepool-update-last');
    failed.insertId = 'last-failed';
    failed.protoPayload.status = { code: 13, message: 'INTERNAL: node pool update failed' };
    const result = await alerting.handle(failed);
    assert.equal(result.incidents[0]?.transition, 'resolved');
    assert.match(
      result.incidents[0]?.incident.resolution?.summary ?? '',
      /operation that would have broken this failed/,
    );
    assert.deepEqual(actions(fakes.pd), ['trigger', 'resolve']);
  });

  test('irrelevant entries never touch the store', async () => {
    const touched: string[] = [];
    const spy = new Proxy(store, {
      get(target, name, receiver) {
        touched.push(String(name));
        return Reflect.get(target, name, receiver);
      },
    });
    const quiet = createAlerting({
      store: spy,
      senders: {},
      routing: fakes.routing,
      logger: { log() {} },
    });
    assert.equal((await quiet.handle(event('ksa-token-create'))).outcome, 'ignored');
    assert.equal((await quiet.handle(event('nodepool-image-update'))).findings.length, 0);
    assert.deepEqual(touched, []);
  });

  test('the same entry delivered twice at once: one post and one trigger', async () => {
    const removal = event('gsa-binding-removed');
    const both = await Promise.allSettled([alerting.handle(removal), alerting.handle(removal)]);
    // The one that found the other sending is told to come back (Pub/Sub redelivers it).
    for (const settled of both) {
      if (settled.status === 'rejected') {
        assert.ok(settled.reason instanceof RetryableDeliveryError, String(settled.reason));
        assert.match(settled.reason.message, /another delivery is sending/);
        assert.equal((await alerting.handle(removal)).outcome, 'duplicate');
      }
    }
    assert.equal(posts(fakes.slack).length, 1);
    assert.deepEqual(actions(fakes.pd), ['trigger']);
  });

  test('two changes to one incident at once: one post, then an edit', async () => {
    const removal = event('gsa-binding-removed');
    const again = { ...removal, insertId: 'same-change-again' };
    const both = await Promise.allSettled([alerting.handle(removal), alerting.handle(again)]);
    for (const [index, settled] of both.entries()) {
      if (settled.status === 'rejected') await alerting.handle(index === 0 ? removal : again);
    }
    assert.equal(posts(fakes.slack).length, 1);
    assert.equal(edits(fakes.slack).length, 1, 'the second change edits the message the first posted');
    assert.deepEqual(actions(fakes.pd), ['trigger', 'trigger']);
  });

  test('a break redelivered after its repair opens nothing', async () => {
    fakes.slack.script({ status: 500 }, { status: 500 }, { status: 500 });
    const removal = event('gsa-binding-removed');
    await assert.rejects(alerting.handle(removal), RetryableDeliveryError);
    assert.equal((await alerting.handle(event('gsa-binding-added'))).incidents[0]?.transition, 'resolved');
    const redelivered = await alerting.handle(removal);
    assert.equal(redelivered.incidents[0]?.transition, undefined, 'no new incident');
    assert.deepEqual(await store.listOpen(), []);
    assert.deepEqual(actions(fakes.pd), ['trigger', 'resolve']);
    assert.equal(
      fakes.slack.messages.length,
      0,
      'Slack never heard of it: nothing to say once it is repaired',
    );
  });

  test('changes handled at once all reach the simulated organization', async () => {
    await Promise.all([
      alerting.handle(event('gsa-binding-removed')),
      alerting.handle(event('gsa-binding-removed-principal')),
    ]);
    const policy = (email: string) =>
      JSON.stringify(snapshot.projects[0]?.serviceAccounts.find((g) => g.email === email)?.iamPolicy);
    assert.doesNotMatch(policy('cart@orbit-prod.iam.gserviceaccount.com'), /\[checkout\/cart\]/);
    assert.doesNotMatch(policy('indexer@orbit-prod.iam.gserviceaccount.com'), /sa\/indexer/);
  });
});
