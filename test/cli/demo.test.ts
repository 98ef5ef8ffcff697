import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startFakeSlack } from '../fakes/slack.ts';
import { runCli } from '../support/cli.ts';

const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern, 'g'))?.length ?? 0;

describe('wi-sentinel demo', () => {
  test('tells the whole story in the terminal and ends healthy', async () => {
    const result = await runCli(['demo', '--fast']);
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout;
    assert.match(out, /^wi-sentinel demo: project acme-shop/);
    assert.equal(count(out, /── \[\d+\/10\]/), 10, 'ten steps, progress shown');
    assert.equal(count(out, /\[Slack\] posts to #wi-sentinel/), 4, 'four incidents opened');
    assert.equal(count(out, /🟢 CRITICAL/), 4, 'all four repaired');
    assert.equal(count(out, /\[PagerDuty\] trigger/), 4);
    assert.equal(count(out, /\[PagerDuty\] resolve/), 4);
    assert.match(
      out,
      /nodepool-metadata-disabled · opened\n.*batch-pool was switched to GCE_METADATA by carol@acme\.example/,
    );
    assert.match(
      out,
      /── \[7\/10\] the same log entry arrives again.*\n {3}acknowledged: nothing new to tell anyone/,
    );
    assert.match(out, /\$ gcloud iam service-accounts undelete 1180\d+ --project acme-shop/);
    assert.match(
      out,
      /── \/wi-status\n✅ Workload Identity is healthy\n✓ acme-shop\/us-central1\/shop-prod: WI on/,
    );
  });

  test('with a Slack token and channel, the messages are posted for real too', async () => {
    const slack = await startFakeSlack();
    try {
      const result = await runCli(['demo', '--fast'], '', {
        SLACK_BOT_TOKEN: 'xoxb-demo-token',
        SLACK_CHANNEL: '#wi-demo',
        SLACK_API_URL: slack.url,
      });
      assert.equal(result.code, 0, result.stderr);
      const posts = slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
      const edits = slack.calls.filter((c) => c.method === 'chat.update');
      assert.equal(posts.length, 4);
      assert.equal(edits.length, 4);
      assert.equal(count(result.stdout, /\[Slack\] posts to #wi-demo/), 4, 'and shown in the terminal');
    } finally {
      await slack.stop();
    }
  });
});
