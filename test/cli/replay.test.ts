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
      const result = await runCli(['replay', '--snapshot', snapshot], `${story}\n`, {
        SLACK_BOT_TOKEN: 'xoxb-test-token-for-replay',
        SLACK_API_URL: slack.url,
        SLACK_CHANNEL: '#platform-alerts',
        PAGERDUTY_ROUTING_KEY: 'Q'.repeat(32),
        PAGERDUTY_EVENTS_URL: pd.url,
      });
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
