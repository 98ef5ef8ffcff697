import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { serviceDisabledBody } from '../fakes/asset.ts';
import { startFakePagerDuty } from '../fakes/pagerduty.ts';
import { startFakeSlack } from '../fakes/slack.ts';
import { type CliResult, findingsOf, runCli } from '../support/cli.ts';
import { judge } from '../support/judge.ts';
import { type LiveFakes, startLiveFakes } from '../support/live-fakes.ts';
import { FIXTURES } from '../support/paths.ts';
import { loadSnapshot, ORBIT } from '../support/snapshots.ts';

const DRIFT = join(FIXTURES, 'drift');
const drift = (name: string) => join(DRIFT, `${name}.json`);
/** Nothing from the runner's environment that names projects, state or destinations. */
const CLEAN = {
  WI_PROJECTS: '',
  GOOGLE_CLOUD_PROJECT: '',
  WI_SNAPSHOT: '',
  WI_STATE: 'memory',
  WI_ROUTES: '',
  SLACK_BOT_TOKEN: '',
  SLACK_CHANNEL: '',
  PAGERDUTY_ROUTING_KEY: '',
};

describe('wi-sentinel reconcile --dry-run: the drift corpus, judged as the wi-events cases', {
  concurrency: 4,
}, () => {
  for (const file of readdirSync(DRIFT).filter((f) => f.endsWith('.json'))) {
    const { description, expect } = JSON.parse(readFileSync(join(DRIFT, file), 'utf8')) as {
      description: string;
      expect: Record<string, unknown>[];
    };
    test(`${file}: ${description}`, async () => {
      const result = await runCli(['reconcile', '--snapshot', join(DRIFT, file), '--dry-run'], '', CLEAN);
      assert.equal(result.code, 0, result.stderr);
      const printed = findingsOf(result.stdout);
      assert.deepEqual(judge(expect, printed), []);
      assert.equal(printed.length, expect.length);
    });
  }
});

describe('wi-sentinel reconcile', () => {
  test('--dry-run: one Finding per line on stdout and nothing else; the summary on stderr', async () => {
    const result = await runCli(
      ['reconcile', '--snapshot', drift('nodepool-metadata-disabled'), '--dry-run'],
      '',
      CLEAN,
    );
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const [finding] = findingsOf(result.stdout);
    assert.equal(finding?.fingerprint, 'nodepool-metadata-disabled/tern-labs/us-central1/lab-1/batch');
    assert.equal(finding?.cause, undefined);
    assert.match(
      result.stderr,
      /^swept 1 project \(tern-labs\): 1 broken link, 0 incidents found healthy; dry run: nothing applied$/m,
    );
    assert.doesNotMatch(result.stdout, /\[Slack\]|\[PagerDuty\]/);
  });

  test('applied with nothing configured: what Slack and PagerDuty would receive, and the summary', async () => {
    const result = await runCli(['reconcile', '--snapshot', drift('nodepool-metadata-disabled')], '', CLEAN);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /\[Slack\] posts to #wi-sentinel\n🔴 CRITICAL nodepool-metadata-disabled · opened/,
    );
    assert.match(result.stdout, /\[PagerDuty\] trigger critical nodepool-metadata-disabled/);
    assert.match(
      result.stdout,
      /\$ gcloud container node-pools update batch --cluster lab-1 --location us-central1 --project tern-labs --workload-metadata=GKE_METADATA/,
    );
    assert.match(
      result.stdout,
      /swept 1 project \(tern-labs\): 1 broken link, 0 incidents found healthy; incidents 1 opened, 0 updated, 0 resolved; 2 notifications\n$/,
    );
  });

  test('a healthy organization: nothing printed but the summary, exit 0', async () => {
    const result = await runCli(['reconcile', '--snapshot', drift('healthy')], '', CLEAN);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      '\nswept 1 project (tern-labs): 0 broken links, 0 incidents found healthy; incidents 0 opened, 0 updated, 0 resolved; 0 notifications\n',
    );
  });

  test('with Slack and PagerDuty configured, sends to them; no secret in the output', async () => {
    const slack = await startFakeSlack();
    const pd = await startFakePagerDuty();
    try {
      const result = await runCli(['reconcile', '--snapshot', drift('gsa-shared')], '', {
        ...CLEAN,
        SLACK_BOT_TOKEN: 'xoxb-test-token-for-reconcile',
        SLACK_API_URL: slack.url,
        SLACK_CHANNEL: '#platform-alerts',
        PAGERDUTY_ROUTING_KEY: 'R'.repeat(32),
        PAGERDUTY_EVENTS_URL: pd.url,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stdout, /\[Slack\]|\[PagerDuty\]/);
      const posts = slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
      assert.equal(posts.length, 3, 'binding-missing, gsa-shared and binding-orphaned');
      // Only the broken binding pages: hygiene never does.
      assert.deepEqual(
        pd.events.map((e) => (e.body as { event_action: string }).event_action),
        ['trigger'],
      );
      const output = `${result.stdout}${result.stderr}`;
      assert.ok(!output.includes('xoxb-test-token-for-reconcile') && !output.includes('R'.repeat(32)));
    } finally {
      await slack.stop();
      await pd.stop();
    }
  });

  test('usage: --snapshot and --project together, nothing to sweep, a bad project id, a missing file', async () => {
    const both = await runCli(
      ['reconcile', '--snapshot', drift('healthy'), '--project', 'tern-labs'],
      '',
      CLEAN,
    );
    assert.equal(both.code, 2);
    assert.match(both.stderr, /reconcile sweeps --snapshot FILE or live --project P, not both/);
    const none = await runCli(['reconcile'], '', CLEAN);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /name what to sweep: --snapshot FILE or --project P/);
    const bad = await runCli(['reconcile', '--project', 'Not_A_Project'], '', CLEAN);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a project id: Not_A_Project/);
    const missing = await runCli(['reconcile', '--snapshot', drift('no-such-file')], '', CLEAN);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read snapshot .*no-such-file\.json: ENOENT/);
  });

  test('WI_SNAPSHOT is swept when no flag names what to sweep', async () => {
    const result = await runCli(['reconcile', '--dry-run'], '', {
      ...CLEAN,
      WI_SNAPSHOT: drift('gsa-disabled'),
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      findingsOf(result.stdout).map((f) => f.kind),
      ['gsa-disabled'],
    );
  });
});

describe('wi-sentinel reconcile --project, against the fake GKE, IAM, Kubernetes and Asset Inventory APIs', () => {
  let fakes: LiveFakes;
  const env = () => ({ ...CLEAN, ...fakes.env });

  before(async () => {
    fakes = await startLiveFakes(loadSnapshot());
  });
  after(() => fakes.stop());
  beforeEach(() => {
    fakes.clearFaults();
    fakes.clearCalls();
  });

  /** A dry run over orbit-prod that completed, and found the fixture's one drift. */
  async function sweptOrbit(...flags: string[]): Promise<CliResult> {
    const result = await runCli(['reconcile', '--project', ORBIT.project, ...flags, '--dry-run'], '', env());
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      findingsOf(result.stdout).map((f) => f.fingerprint),
      ['key-file-override/orbit-prod/europe-west4/core-1/search/CronJob/indexer'],
    );
    return result;
  }

  test('sweeps live state read directly (--direct): the fixture’s one drift, progress on stderr', async () => {
    const result = await sweptOrbit('--direct');
    assert.match(result.stderr, /^orbit-prod: 3 clusters, 4 service accounts$/m);
    assert.ok(
      fakes.calls().every((call) => call.authorized),
      'GOOGLE_OAUTH_ACCESS_TOKEN was sent',
    );
  });

  test('a cluster and a GSA it may not read: named on stderr, the rest swept, exit 1', async () => {
    fakes.kubernetes.fault({ match: '/clusters/orbit-prod/europe-west4/core-1/api/v1/pods', status: 403 });
    fakes.iam.fault({ match: `${ORBIT.cart}:getIamPolicy`, status: 403 });
    const result = await runCli(
      ['reconcile', '--project', ORBIT.project, '--direct', '--dry-run'],
      '',
      env(),
    );
    assert.equal(result.code, 1, result.stderr);
    // core-1 holds the key file and cart@'s policy reads as empty: neither is judged.
    assert.deepEqual(findingsOf(result.stdout), []);
    assert.match(result.stderr, /^problem: orbit-prod: cluster europe-west4\/core-1 pods: .*403/m);
    assert.match(
      result.stderr,
      /^problem: orbit-prod: service account cart@orbit-prod\.iam\.gserviceaccount\.com: .*403/m,
    );
    assert.match(result.stderr, /; 2 problems, 0 open incidents left unjudged$/m);
    assert.doesNotMatch(`${result.stdout}${result.stderr}`, new RegExp(fakes.token.replace(/\./g, '\\.')));
  });

  test('through Cloud Asset Inventory by default: the same verdict, no policy read per GSA', async () => {
    const result = await sweptOrbit();
    assert.match(
      result.stderr,
      /^Cloud Asset Inventory \(projects\/orbit-prod\): 1 project, 4 service accounts, 3 clusters \(5 node pools\), \d+ IAM polic(y|ies)$/m,
    );
    const kinds = fakes.countByKind();
    assert.equal(kinds['iam.getIamPolicy'], undefined);
    assert.ok((kinds['asset.searchAllResources'] ?? 0) > 0);
    assert.doesNotMatch(result.stderr, /Cloud Asset Inventory not used/);
  });

  test('the Asset API not enabled: said on stderr with the command that enables it; read directly, exit 0', async () => {
    fakes.assets.fault({ match: ':search', status: 403, body: serviceDisabledBody('wi-host') });
    const result = await sweptOrbit();
    assert.match(
      result.stderr,
      /^Cloud Asset Inventory not used: the Cloud Asset API is not enabled in project wi-host; read each object directly$/m,
    );
    assert.match(
      result.stderr,
      /^ {4}gcloud services enable cloudasset\.googleapis\.com --project=wi-host$/m,
    );
    assert.equal(fakes.countByKind()['iam.getIamPolicy'], 4);
  });
});
