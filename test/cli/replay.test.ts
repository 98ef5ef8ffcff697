import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startFakePagerDuty } from '../fakes/pagerduty.ts';
import { startFakeSlack } from '../fakes/slack.ts';
import { runCli } from '../support/cli.ts';
import { FIXTURES } from '../support/paths.ts';

const snapshot = join(FIXTURES, 'snapshot.json');
const line = (name: string) =>
  JSON.stringify(JSON.parse(readFileSync(join(FIXTURES, 'events', `${name}.json`), 'utf8')));
const story = [
  'gsa-binding-removed',
  'nodepool-gce-metadata',
  'nodepool-update-last',
  'gsa-binding-removed',
  'gsa-binding-added',
  'nodepool-gke-metadata',
]
  .map(line)
  .join('\n');

/** A binding is removed, cart's pods fail, the metadata server's error rate alerts, the binding is restored. */
const bindingStory = join(FIXTURES, 'stories', 'binding-removed-pods-fail.ndjson');

/** Slack and PagerDuty configured, pointing at the fakes. */
function configured(slackUrl: string, pagerDutyUrl: string): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: 'xoxb-test-token-for-replay',
    SLACK_API_URL: slackUrl,
    SLACK_CHANNEL: '#platform-alerts',
    PAGERDUTY_ROUTING_KEY: 'Q'.repeat(32),
    PAGERDUTY_EVENTS_URL: pagerDutyUrl,
  };
}

describe('wi-sentinel replay', () => {
  test('with nothing configured, prints what Slack and PagerDuty would receive', async () => {
    const result = await runCli(['replay', '--snapshot', snapshot], `${story}\n`);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\[Slack\] posts to #wi-sentinel\n🔴 CRITICAL binding-missing · opened/);
    assert.match(result.stdout, /\[PagerDuty\] trigger critical nodepool-metadata-disabled/);
    assert.match(
      result.stdout,
      /🟢 CRITICAL binding-missing · resolved\n {3}checkout\/cart may act as cart@orbit-prod/,
    );
    assert.match(
      result.stdout,
      /\$ gcloud container node-pools update highmem --cluster core-1 --location europe-west4/,
    );
    assert.match(
      result.stdout,
      /replayed 6 deliveries: .*incidents 2 opened, 0 updated, 2 resolved; 8 notifications; 1 duplicates, 0 undecodable/,
    );
  });

  test('with Slack and PagerDuty configured, sends to them (and nothing is printed as sent)', async () => {
    const slack = await startFakeSlack();
    const pd = await startFakePagerDuty();
    try {
      const result = await runCli(
        ['replay', '--snapshot', snapshot],
        `${story}\n`,
        configured(slack.url, pd.url),
      );
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stdout, /\[Slack\]|\[PagerDuty\]/);
      const posts = slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
      assert.equal(posts.length, 2);
      assert.deepEqual(
        pd.events.map((e) => (e.body as { event_action: string }).event_action),
        ['trigger', 'trigger', 'resolve', 'resolve'],
      );
      assert.ok(!`${result.stdout}${result.stderr}`.includes('xoxb-test-token-for-replay'));
    } finally {
      await slack.stop();
      await pd.stop();
    }
  });

  test('joins container logs and a Monitoring alert to the incident that explains them, on the story’s clock', async () => {
    const result = await runCli(['replay', '--snapshot', snapshot, bindingStory]);
    assert.equal(result.code, 0, result.stderr);
    // One page for one cause: the failures and the metadata server's alert are its evidence.
    assert.equal(result.stdout.match(/\[Slack\] posts to/g)?.length, 1);
    assert.match(result.stdout, /🔴 CRITICAL binding-missing · opened/);
    assert.doesNotMatch(result.stdout, /wi-auth-failures/);
    // The evidence grows with the failures, refreshed once a minute of the story's time at most.
    assert.match(
      result.stdout,
      /feel: {2}checkout\/cart has failed 1 token request since 09:12:58 UTC, 17 s after erin@example\.org removed/,
    );
    assert.match(result.stdout, /checkout\/cart has failed 7 token requests since 09:12:58 UTC/);
    assert.match(
      result.stdout,
      /the metadata server of core-1 answered 27\.4% of its requests with errors \(alert above 1%\) since 09:14:20 UTC, 2 min after erin@example\.org/,
    );
    assert.match(
      result.stdout,
      /🟢 CRITICAL binding-missing · resolved[\s\S]*09:19:05 UTC repair: erin@example\.org/,
    );
    // The failure logged after the repair still reaches the resolved incident's message.
    assert.match(result.stdout, /checkout\/cart has failed 9 token requests[\s\S]*09:19:31 UTC last failure/);
    // Three findings: binding-missing firing, then resolved, and the repair's grant also answers a
    // gsa-missing incident that might be open for that GSA (resolved, it opens nothing).
    assert.match(
      result.stdout,
      /replayed 14 deliveries: 3 findings; incidents 1 opened, 0 updated, 1 resolved; \d+ notifications; 0 duplicates, 0 undecodable/,
    );
  });

  test('the story reaches Slack as one message edited with its evidence, and PagerDuty as one alert', async () => {
    const slack = await startFakeSlack();
    const pd = await startFakePagerDuty();
    try {
      const result = await runCli(
        ['replay', '--snapshot', snapshot, bindingStory],
        '',
        configured(slack.url, pd.url),
      );
      assert.equal(result.code, 0, result.stderr);
      const posts = slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
      const updates = slack.calls.filter((c) => c.method === 'chat.update');
      assert.equal(posts.length, 1);
      assert.ok(updates.length >= 5, `${updates.length} edits`);
      assert.match(JSON.stringify(updates.at(-1)?.body), /What workloads feel/);
      const keys = new Set(pd.events.map((e) => (e.body as { dedup_key: string }).dedup_key));
      assert.equal(keys.size, 1);
      assert.deepEqual(
        (pd.events.at(-1)?.body as { event_action?: string } | undefined)?.event_action,
        'resolve',
      );
    } finally {
      await slack.stop();
      await pd.stop();
    }
  });

  test('needs --snapshot', async () => {
    const result = await runCli(['replay'], '');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /replay needs --snapshot FILE/);
  });

  test('a bad environment is named', async () => {
    const result = await runCli(['replay', '--snapshot', snapshot], '', { PAGERDUTY_ROUTING_KEY: 'short' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /PAGERDUTY_ROUTING_KEY must be a 32-character Events API v2 routing key/);
    assert.doesNotMatch(result.stderr, /short/);
  });
});
