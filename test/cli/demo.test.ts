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
    assert.equal(count(out, /── \[\d+\/12\]/), 12, 'twelve steps, progress shown');
    assert.equal(count(out, /\[Slack\] posts to #wi-sentinel/), 6, 'five incidents opened, one more on call');
    assert.equal(count(out, /🟢 CRITICAL/), 6, 'all six repaired');
    assert.equal(count(out, /\[PagerDuty\] trigger/), 6);
    assert.equal(count(out, /\[PagerDuty\] resolve/), 6);
    assert.match(
      out,
      /nodepool-metadata-disabled · opened\n.*batch-pool was switched to GCE_METADATA by carol@acme\.example/,
    );
    assert.match(
      out,
      /── \[9\/12\] the same log entry arrives again.*\n {3}acknowledged: nothing new to tell anyone/,
    );
    assert.match(out, /\$ gcloud iam service-accounts undelete 1180\d+ --project acme-shop/);
    // A Terraform run removes a binding: said to be Terraform's, repaired in its words, warned of.
    const terraform = out.slice(out.indexOf('── [5/12]'), out.indexOf('── [6/12]'));
    assert.match(
      terraform,
      /who: {3}via Terraform or OpenTofu 1\.9\.8 \(terraform-provider-google 6\.12\.0\), run as deployer@acme-shop\.iam\.gserviceaccount\.com \(impersonated by repo:acme\/platform-infra:ref:refs\/heads\/main/,
    );
    assert.match(
      terraform,
      /⚠️ {4}This looks like an authoritative resource at work: .* as google_service_account_iam_policy does/,
    );
    assert.match(
      terraform,
      /fix: {3}# Add the binding to the google_iam_policy .*\n {11}data "google_iam_policy" "analytics" \{/,
    );
    assert.match(terraform, /\$ gcloud iam service-accounts add-iam-policy-binding analytics@/);
    assert.match(
      out,
      /── \/wi-status\n✅ Workload Identity is healthy\n✓ acme-shop\/us-central1\/shop-prod: WI on/,
    );
    // It ends on call: an acknowledgement and re-checks, as Slack would show them.
    assert.match(
      out,
      /── alice@acme\.example presses Acknowledge on the message\n\n\[Slack\] edits its message in #wi-sentinel\n.*\n {3}✋ acknowledged by @alice at /,
    );
    assert.match(out, /\[PagerDuty\] acknowledge critical binding-missing/);
    assert.match(
      out,
      /\[Slack\] replies in the thread of .*\n {3}❌ Still broken \(re-check requested by @alice\)[\s\S]*✗ 5\. GSA's policy lets the KSA act as it/,
    );
    assert.match(
      out,
      /🟢 CRITICAL binding-missing · resolved\n {3}repair confirmed by a re-check requested by @alice/,
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
      assert.equal(posts.length, 6);
      assert.equal(edits.length, 7, 'five repairs, and on call an acknowledgement and a repair');
      assert.equal(count(result.stdout, /\[Slack\] posts to #wi-demo/), 6, 'and shown in the terminal');
    } finally {
      await slack.stop();
    }
  });
});
