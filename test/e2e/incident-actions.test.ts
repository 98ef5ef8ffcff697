/**
 * Acting on an alert where it lands, end to end: an audit-log entry published to the Pub/Sub
 * emulator's audit topic is pushed to `auditEvents`, which pages (a fake Slack, a fake PagerDuty);
 * the buttons of its message are pressed as Slack posts interactions (`block_actions`, signed) to
 * `wiStatus`, which defers them through the commands topic to `wiCommands`; PagerDuty's v3 webhooks
 * (signed) reach `pagerdutyWebhook`. All four are functions-framework servers (child processes)
 * sharing the Firestore emulator. `wiCommands` reads live state from the live fakes (GKE, IAM,
 * Kubernetes), whose organization the test changes to repair the link, as someone would.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dedupKey } from '../../shared/notify/pagerduty-render.ts';
import type { FakePagerDuty } from '../fakes/pagerduty.ts';
import { startFakePagerDuty } from '../fakes/pagerduty.ts';
import { type FakeSlack, startFakeSlack, validateBlocks } from '../fakes/slack.ts';
import { type FunctionServer, startFunction, waitUntil } from '../support/function-server.ts';
import { buttonPressBody, type Press, pagerDutyEventBody, postWebhook } from '../support/interaction.ts';
import { type LiveFakes, startLiveFakes } from '../support/live-fakes.ts';
import { FIXTURES } from '../support/paths.ts';
import { type Pipeline, startPipeline } from '../support/pipeline.ts';
import { sinkMessage } from '../support/pubsub.ts';
import { headerOf, postSigned, slashCommandBody } from '../support/slash-command.ts';
import { type SlashPipeline, startSlashPipeline } from '../support/slash-pipeline.ts';
import { loadSnapshot, ORBIT, variant } from '../support/snapshots.ts';

const SECRET = 'e2e-incident-actions-signing-secret-5c';
const WEBHOOK_SECRET = 'pd-webhook-secret-e2e-0000-rotating-1';
const OLD_WEBHOOK_SECRET = 'pd-webhook-secret-e2e-0000-old-one-0';
const TOKEN = 'xoxb-e2e-actions-0000-testtokentesttoken';
const ROUTING_KEY = 'ACTIONSROUTINGKEYACTIONSROUTING1';
const PROJECT = 'demo-incident-actions-e2e';
const GCLOUD = process.env.WI_E2E_GCLOUD ?? 'gcloud';

/** The organization with the cart KSA's binding removed, as the live APIs show it after the removal. */
const withoutCartBinding = () =>
  variant((s) => {
    const gsa = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.cart);
    for (const binding of gsa?.iamPolicy.bindings ?? []) {
      binding.members = binding.members.filter((m) => m !== ORBIT.classic('checkout', 'cart'));
    }
  });

type Json = Record<string, unknown>;

describe('acting on an alert from its Slack message, kept in step with PagerDuty', () => {
  let slash: SlashPipeline;
  let audit: Pipeline;
  let webhook: FunctionServer;
  let slack: FakeSlack;
  let pd: FakePagerDuty;
  let live: LiveFakes;
  let incidentId = '';
  let fingerprint = '';

  before(async () => {
    slack = await startFakeSlack({ token: TOKEN });
    pd = await startFakePagerDuty();
    live = await startLiveFakes(withoutCartBinding());
    const notify = {
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_API_URL: slack.url,
      SLACK_CHANNEL: '#wi-alerts',
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: pd.url,
      PAGERDUTY_WEBHOOK_SECRET: WEBHOOK_SECRET,
    };
    slash = await startSlashPipeline({
      projectId: PROJECT,
      secret: SECRET,
      prefix: 'actions',
      gcloud: GCLOUD,
      env: notify,
      // wiCommands reads live state (the live fakes), not the simulated organization.
      commandsEnv: { WI_SNAPSHOT: '', ...live.env },
    });
    slash.also(slack);
    slash.also(pd);
    slash.also(live);
    [audit, webhook] = await Promise.all([
      startPipeline({ pubsubHost: slash.emulators.pubsub.host, projectId: PROJECT, env: slash.env }),
      startFunction('pagerdutyWebhook', { signatureType: 'http', env: slash.env }),
    ]);
    slash.also(audit);
    slash.also(webhook);
  });
  after(() => slash?.stop());

  const press = (
    p: Press,
    { userId, responseUrl = slash.hooks.newUrl('actions') } = {} as { userId?: string; responseUrl?: string },
  ) =>
    postSigned(
      slash.status.url,
      SECRET,
      buttonPressBody(p, { responseUrl, ...(userId ? { userId, userName: userId.toLowerCase() } : {}) }),
    );
  /** How many interactions wiCommands has answered (or found nothing to say about). */
  const answered = () =>
    slash.commands.logs().filter((l) => l.message === 'wiCommands: answered incident').length;
  const pressAndWait = async (p: Press, options?: { userId?: string; responseUrl?: string }) => {
    const before = answered();
    const answer = await press(p, options);
    assert.equal(answer.status, 200, answer.text);
    assert.ok(answer.ms < 3_000, `answered in ${Math.round(answer.ms)} ms`);
    await waitUntil(() => answered() > before, 30_000);
    return answer;
  };
  const message = () => slack.messages.find((m) => m.thread_ts === undefined);
  const messageText = () => JSON.stringify(message()?.blocks ?? []);
  const replies = () => slack.messages.filter((m) => m.thread_ts !== undefined);
  const pdActions = () =>
    pd.events.filter((e) => e.answered === 202).map((e) => (e.body as { event_action: string }).event_action);
  const elementsOf = () => {
    const actions = (message()?.blocks as Json[] | undefined)?.find((b) => b.type === 'actions') as
      | { elements: { action_id: string; value?: string }[] }
      | undefined;
    return actions?.elements ?? [];
  };

  test('an audit entry pages, with Acknowledge, Silence and Re-check on the message', async () => {
    const entry = JSON.parse(readFileSync(join(FIXTURES, 'events/gsa-binding-removed.json'), 'utf8'));
    const [id] = await audit.publish([sinkMessage(entry)]);
    await audit.waitForDone([id as string], 60_000);
    await waitUntil(() => message() !== undefined && pdActions().length === 1, 20_000);
    assert.deepEqual(pdActions(), ['trigger']);
    assert.deepEqual(validateBlocks(message()?.blocks ?? []), []);
    assert.deepEqual(
      elementsOf().map((e) => e.action_id),
      ['ack', 'silence', 'recheck'],
    );
    incidentId = elementsOf()[0]?.value ?? '';
    assert.match(incidentId, /^[0-9a-f]{16}-[0-9a-z]+$/);
    const trigger = pd.events[0]?.body as { payload?: { custom_details?: { fingerprint?: string } } };
    fingerprint = trigger.payload?.custom_details?.fingerprint ?? '';
    assert.ok(fingerprint.startsWith('binding-missing/'), fingerprint);
  });

  test('Acknowledge: PagerDuty acknowledged under the dedup_key, the message edited in place', async () => {
    await pressAndWait({ action: 'ack', incidentId });
    await waitUntil(() => pdActions().includes('acknowledge'), 10_000);
    const ack = pd.events.find((e) => (e.body as Json).event_action === 'acknowledge')?.body as Json;
    assert.deepEqual(ack, {
      routing_key: ROUTING_KEY,
      event_action: 'acknowledge',
      dedup_key: dedupKey(fingerprint),
    });
    assert.match(messageText(), /✋ Acknowledged by \*@alice\* <!date\^\d+\^/);
    assert.equal(message()?.edits, 1);
    assert.deepEqual(
      elementsOf().map((e) => e.action_id),
      ['silence', 'recheck'],
    );
  });

  test('a double click, and a second press later, change nothing', async () => {
    const events = pd.events.length;
    const edits = message()?.edits;
    const before = answered();
    await Promise.all([press({ action: 'ack', incidentId }), press({ action: 'ack', incidentId })]);
    await waitUntil(() => answered() >= before + 2, 30_000);
    assert.equal(pd.events.length, events);
    assert.equal(message()?.edits, edits);
  });

  test('forged, stale and replayed presses are refused with the same 401, and nothing runs', async () => {
    const before = answered();
    const body = buttonPressBody(
      { action: 'recheck', incidentId },
      { responseUrl: slash.hooks.newUrl('actions') },
    );
    const forged = await postSigned(slash.status.url, 'not-the-secret', body);
    const stale = await postSigned(slash.status.url, SECRET, body, {
      timestampSeconds: Math.floor(Date.now() / 1000) - 600,
    });
    const signed = await postSigned(slash.status.url, SECRET, body);
    for (const refused of [forged, stale]) {
      assert.equal(refused.status, 401);
      assert.equal(refused.text, 'invalid request');
    }
    assert.equal(signed.status, 200);
    const reasons = slash.status
      .logs()
      .filter((l) => l.message === 'wiStatus: request rejected')
      .map((l) => l.reason);
    assert.ok(reasons.includes('bad-signature') && reasons.includes('stale-timestamp'), String(reasons));
    // Only the signed press ran.
    await waitUntil(() => answered() > before, 30_000);
    assert.equal(answered(), before + 1);
  });

  test('a replayed press is refused', async () => {
    const body = buttonPressBody(
      { action: 'recheck', incidentId },
      { responseUrl: slash.hooks.newUrl('actions') },
    );
    const at = Math.floor(Date.now() / 1000);
    const first = await postSigned(slash.status.url, SECRET, body, { timestampSeconds: at });
    const again = await postSigned(slash.status.url, SECRET, body, { timestampSeconds: at });
    assert.equal(first.status, 200);
    assert.equal(again.status, 401);
    assert.equal(again.text, 'invalid request');
    assert.ok(
      slash.status.logs().some((l) => l.message === 'wiStatus: request rejected' && l.reason === 'replayed'),
    );
  });

  test('an unknown incident is answered ephemerally', async () => {
    const url = slash.hooks.newUrl('actions');
    await pressAndWait({ action: 'ack', incidentId: 'ffffffffffffffff-zzzz' }, { responseUrl: url });
    const [note] = await slash.hooks.waitFor(1, url, 10_000);
    assert.equal(note?.body?.response_type, 'ephemeral');
    assert.equal(note?.body?.replace_original, false);
    assert.match(headerOf(note?.body), /I know no incident ffffffffffffffff-zzzz/);
  });

  test('a user outside the allow-list may not silence, and is told why', async () => {
    const url = slash.hooks.newUrl('actions');
    const edits = message()?.edits;
    await pressAndWait(
      { action: 'silence', incidentId, choice: '1h' },
      { userId: 'U0MALLORY', responseUrl: url },
    );
    const [note] = await slash.hooks.waitFor(1, url, 10_000);
    assert.equal(note?.body?.response_type, 'ephemeral');
    assert.match(headerOf(note?.body), /⛔ You may not silence or unsilence/);
    assert.match(JSON.stringify(note?.body?.blocks), /not among the users allowed to silence/);
    assert.equal(message()?.edits, edits);
  });

  test('Silence: shown on the message with its end, in /wi-status incidents, and Unsilence ends it', async () => {
    await pressAndWait({ action: 'silence', incidentId, choice: '4h' });
    await waitUntil(() => /🔕 Silenced by/.test(messageText()), 10_000);
    assert.match(messageText(), /🔕 Silenced by \*@alice\* until <!date\^\d+\^.*new pages are held back/);
    assert.deepEqual(
      elementsOf().map((e) => e.action_id),
      ['unsilence', 'recheck'],
    );
    const listed = await postSigned(
      slash.status.url,
      SECRET,
      slashCommandBody('incidents', { responseUrl: slash.hooks.newUrl() }),
    );
    const text = JSON.stringify(listed.json?.blocks);
    assert.match(text, /acknowledged by @alice/);
    assert.match(text, /silenced by @alice/);
    assert.match(text, /Active silences \(1\)/);

    await pressAndWait({ action: 'unsilence', incidentId });
    await waitUntil(() => !/🔕 Silenced by/.test(messageText()), 10_000);
    assert.deepEqual(
      elementsOf().map((e) => e.action_id),
      ['silence', 'recheck'],
    );
  });

  test('Re-check whose live read fails says it could not check, never healthy', async () => {
    live.iam.fault({ match: ':getIamPolicy', status: 403 });
    try {
      const before = replies().length;
      await pressAndWait({ action: 'recheck', incidentId });
      await waitUntil(() => replies().length > before, 10_000);
      const reply = replies().at(-1);
      assert.match(reply?.text ?? '', /^⚠️ Could not check \(re-check requested by @alice\)/);
      assert.doesNotMatch(reply?.text ?? '', /[Hh]ealthy/);
      assert.equal(reply?.thread_ts, message()?.ts);
    } finally {
      live.clearFaults();
    }
  });

  test('Re-check while still broken answers in the thread with the chain of the KSAs hit', async () => {
    const before = replies().length;
    await pressAndWait({ action: 'recheck', incidentId });
    await waitUntil(() => replies().length > before, 10_000);
    const reply = replies().at(-1);
    assert.match(reply?.text ?? '', /^❌ Still broken \(re-check requested by @alice\)/);
    assert.match(reply?.text ?? '', /checkout\/cart/);
    assert.match(reply?.text ?? '', /5\. /, 'the links of the chain');
    assert.deepEqual(validateBlocks(reply?.blocks ?? []), []);
  });

  test('PagerDuty webhooks: refused unsigned or forged; a reassignment and a close there show on the message', async () => {
    const key = dedupKey(fingerprint);
    const body = pagerDutyEventBody('incident.reassigned', key, { assignees: ['Carol Secondary'] });
    assert.equal((await postWebhook(webhook.url, body, [])).status, 401);
    assert.equal((await postWebhook(webhook.url, body, ['a-forged-secret'])).status, 401);
    assert.equal((await postWebhook(webhook.url, body, [WEBHOOK_SECRET])).status, 200);
    await waitUntil(() => /Reassigned in PagerDuty to Carol Secondary/.test(messageText()), 10_000);

    const events = pd.events.length;
    const closed = pagerDutyEventBody('incident.resolved', key, { id: 'PDEVENT-CLOSE-1' });
    // During a rotation PagerDuty signs with both secrets.
    assert.equal((await postWebhook(webhook.url, closed, [OLD_WEBHOOK_SECRET, WEBHOOK_SECRET])).status, 200);
    await waitUntil(() => /Closed in PagerDuty by/.test(messageText()), 10_000);
    assert.match(
      messageText(),
      /🚪 Closed in PagerDuty by \*Bob Oncall\* .*the link was still broken at the last check/,
    );
    assert.match(messageText(), /🔴 Firing/, 'a close in PagerDuty is not a repair');
    const edits = message()?.edits;
    assert.equal((await postWebhook(webhook.url, closed, [WEBHOOK_SECRET])).status, 200, 'a redelivery');
    assert.equal(message()?.edits, edits);
    assert.equal(pd.events.length, events, 'PagerDuty is not told what it said');
    const unknown = pagerDutyEventBody('incident.acknowledged', 'f'.repeat(64));
    assert.equal((await postWebhook(webhook.url, unknown, [WEBHOOK_SECRET])).status, 202);
    assert.ok(
      webhook
        .logs()
        .some((l) => l.message === 'pagerdutyWebhook: request rejected' && l.reason === 'bad-signature'),
    );
  });

  test('Re-check after the repair resolves through the normal path: green, PagerDuty resolved, who asked', async () => {
    live.setSnapshot(loadSnapshot());
    await pressAndWait({ action: 'recheck', incidentId });
    await waitUntil(() => pdActions().includes('resolve') && /🟢 Resolved/.test(messageText()), 15_000);
    assert.match(messageText(), /repair confirmed by a re-check requested by @alice/);
    assert.deepEqual(
      elementsOf().map((e) => e.action_id),
      ['recheck'],
      'a resolved incident keeps only Re-check now',
    );
    const resolvedReply = replies().at(-1);
    assert.match(
      resolvedReply?.text ?? '',
      /🟢 \*Resolved:\* repair confirmed by a re-check requested by @alice/,
    );

    const url = slash.hooks.newUrl('actions');
    await pressAndWait({ action: 'ack', incidentId }, { responseUrl: url });
    const [note] = await slash.hooks.waitFor(1, url, 10_000);
    assert.match(headerOf(note?.body), /already resolved: nothing to acknowledge/);
  });
});
