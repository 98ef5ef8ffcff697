import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createReconcileHandler } from '../../functions/reconcile.ts';
import { createAlerting } from '../../shared/alerting.ts';
import type { Finding } from '../../shared/detect/finding.ts';
import { createMemoryStore } from '../../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../../shared/incidents/store.ts';
import { parseSnapshot, type Snapshot } from '../../shared/inventory/snapshot.ts';
import { createLogger } from '../../shared/log.ts';
import { createPagerDutySender } from '../../shared/notify/pagerduty.ts';
import { defaultRouting } from '../../shared/notify/routing.ts';
import { createSlackSender } from '../../shared/notify/slack.ts';
import { findingsOf } from '../../shared/reconcile/self-checks.ts';
import { type FakePagerDuty, startFakePagerDuty } from '../fakes/pagerduty.ts';
import { type FakeSlack, startFakeSlack } from '../fakes/slack.ts';
import { type FunctionServer, startFunction } from '../support/function-server.ts';
import { FIXTURES } from '../support/paths.ts';

const TOKEN = 'xoxb-1111-2222-secretsecretsecret';
const ROUTING_KEY = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12';
const drift = (name: string) => join(FIXTURES, 'drift', `${name}.json`);
const organization = (name: string): Snapshot => {
  const parsed = parseSnapshot(JSON.parse(readFileSync(drift(name), 'utf8')));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.snapshot;
};
const posts = (slack: FakeSlack) =>
  slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
const actions = (pd: FakePagerDuty) =>
  pd.events.map((e) => (e.body as { event_action: string }).event_action);
/** What Cloud Scheduler publishes to wi-sentinel-reconcile, as the trigger delivers it. */
const tick = (id: string) => ({
  specversion: '1.0',
  id,
  type: 'google.cloud.pubsub.topic.v1.messagePublished',
  source: '//pubsub.googleapis.com/projects/tern-labs/topics/wi-sentinel-reconcile',
  data: { message: { data: Buffer.from('{}').toString('base64'), messageId: id } },
});

describe('reconcile: the scheduled sweep', () => {
  let slack: FakeSlack;
  let pd: FakePagerDuty;
  let store: IncidentStore;
  let lines: string[];
  let current: Snapshot;
  let degraded: Finding[];

  before(async () => {
    slack = await startFakeSlack({ token: TOKEN });
    pd = await startFakePagerDuty();
  });
  after(async () => {
    await slack.stop();
    await pd.stop();
  });
  beforeEach(() => {
    slack.calls.length = 0;
    slack.messages.length = 0;
    pd.events.length = 0;
    store = createMemoryStore();
    lines = [];
    degraded = [];
  });

  const reconcile = (now = () => new Date('2026-11-29T11:00:00Z')) => {
    const logger = createLogger((line) => lines.push(line));
    return createReconcileHandler({
      alerting: createAlerting({
        store,
        senders: {
          slack: createSlackSender({
            token: TOKEN,
            apiUrl: slack.url,
            timeoutMs: 500,
            backoffMs: 10,
            logger,
          }),
          pagerduty: createPagerDutySender({ url: pd.url, timeoutMs: 500, backoffMs: 10, logger }),
        },
        routing: defaultRouting({ slackChannel: '#wi-alerts', pagerdutyRoutingKey: ROUTING_KEY }),
        logger,
      }),
      store,
      inventory: async () => ({ snapshot: current, problems: [] }),
      selfChecks: async () => degraded,
      logger,
      now,
    });
  };

  test('drift pages once, is kept quiet on the next sweeps, and resolves when healed; the inventory is kept', async () => {
    current = organization('binding-missing');
    await reconcile()(tick('run-1'));
    assert.equal(posts(slack).length, 1);
    assert.deepEqual(actions(pd), ['trigger']);
    const [open] = await store.listOpen();
    assert.equal(open?.kind, 'binding-missing');
    const kept = await store.loadInventory();
    assert.deepEqual(kept?.projects, ['tern-labs']);
    assert.equal(kept?.sweptAt, '2026-11-29T11:00:00.000Z');

    // A redelivery of the same run, then the next run: nothing new to say.
    await reconcile()(tick('run-1'));
    await reconcile(() => new Date('2026-11-29T11:10:00Z'))(tick('run-2'));
    assert.equal(posts(slack).length, 1);
    assert.deepEqual(actions(pd), ['trigger']);

    current = organization('healthy');
    await reconcile(() => new Date('2026-11-29T11:20:00Z'))(tick('run-3'));
    assert.deepEqual(actions(pd), ['trigger', 'resolve']);
    assert.deepEqual(await store.listOpen(), []);
    assert.equal((await store.inventoryMeta())?.sweptAt, '2026-11-29T11:20:00.000Z');
  });

  test('a failing self-check is an incident of its own, routed like the rest', async () => {
    current = organization('healthy');
    degraded = findingsOf([
      {
        check: 'sink',
        project: 'tern-labs',
        status: 'failing',
        summary: 'the sink wi-sentinel-audit of tern-labs is disabled: no audit entry reaches wi-sentinel',
        remediation: [{ title: 'Enable the sink', command: 'gcloud logging sinks update wi-sentinel-audit' }],
      },
    ]);
    await reconcile()(tick('run-1'));
    const [open] = await store.listOpen();
    assert.equal(open?.kind, 'sentinel-degraded');
    assert.deepEqual(actions(pd), ['trigger']);
    degraded = findingsOf([
      { check: 'sink', project: 'tern-labs', status: 'healthy', summary: 'the sink is enabled' },
    ]);
    await reconcile(() => new Date('2026-11-29T11:10:00Z'))(tick('run-2'));
    assert.deepEqual(actions(pd), ['trigger', 'resolve']);
  });

  test('a sweep that cannot tell PagerDuty fails for a retry, and the retry tells only what is owed', async () => {
    current = organization('binding-missing');
    pd.script({ status: 500 }, { status: 500 }, { status: 500 });
    await assert.rejects(reconcile()(tick('run-1')), /retryable failures/);
    assert.equal(posts(slack).length, 1);
    await reconcile()(tick('run-1'));
    assert.equal(posts(slack).length, 1, 'Slack was told already');
    assert.equal(actions(pd).filter((a) => a === 'trigger').length, 4, 'three failed attempts, then one');
  });
});

describe('reconcile through the functions-framework server', () => {
  let server: FunctionServer;
  before(async () => {
    server = await startFunction('reconcile', { env: { WI_SNAPSHOT: drift('nodepool-metadata-disabled') } });
  });
  after(() => server.stop());

  test('a scheduler tick sweeps the simulated organization and logs what it found', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(tick('tick-1')),
    });
    await response.arrayBuffer();
    assert.equal(response.status, 204);
    const logs = await server.waitForLogs(1);
    const summary = logs.find((log) => /^swept 1 project/.test(String(log.message)));
    assert.ok(summary, JSON.stringify(logs));
    assert.match(String(summary.message), /1 broken link/);
    assert.equal(summary.sweep, 'tick-1');
  });
});
