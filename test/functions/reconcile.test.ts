import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createReconcileHandler } from '../../functions/reconcile.ts';
import { createAlerting } from '../../shared/alerting/alerting.ts';
import type { Finding } from '../../shared/domain/finding.ts';
import { createMemoryStore } from '../../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../../shared/incidents/store.ts';
import { parseSnapshot, type Snapshot } from '../../shared/inventory/snapshot.ts';
import { createLogger } from '../../shared/log.ts';
import { findingsOf } from '../../shared/reconcile/self-checks.ts';
import { DEFAULT_SYMPTOM_OPTIONS } from '../../shared/symptoms/group.ts';
import { failureDelivery, harness, TEXT } from '../shared/symptoms/support.ts';
import { type FunctionServer, startFunction } from '../support/function-server.ts';
import { actions, posts, useNotifyFakes } from '../support/notify-fakes.ts';
import { FIXTURES } from '../support/paths.ts';

const drift = (name: string) => join(FIXTURES, 'drift', `${name}.json`);
const organization = (name: string): Snapshot => {
  const parsed = parseSnapshot(JSON.parse(readFileSync(drift(name), 'utf8')));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.snapshot;
};
/** What Cloud Scheduler publishes to wi-sentinel-reconcile, as the trigger delivers it. */
const tick = (id: string) => ({
  specversion: '1.0',
  id,
  type: 'google.cloud.pubsub.topic.v1.messagePublished',
  source: '//pubsub.googleapis.com/projects/tern-labs/topics/wi-sentinel-reconcile',
  data: { message: { data: Buffer.from('{}').toString('base64'), messageId: id } },
});

describe('reconcile: the scheduled sweep', () => {
  const fakes = useNotifyFakes();
  let store: IncidentStore;
  let lines: string[];
  let current: Snapshot;
  let degraded: Finding[];

  beforeEach(() => {
    store = createMemoryStore();
    lines = [];
    degraded = [];
  });

  const reconcile = (now = () => new Date('2026-11-29T11:00:00Z')) => {
    const logger = createLogger((line) => lines.push(line));
    return createReconcileHandler({
      alerting: createAlerting({
        store,
        senders: fakes.senders(logger),
        routing: fakes.routing,
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
    assert.equal(posts(fakes.slack).length, 1);
    assert.deepEqual(actions(fakes.pd), ['trigger']);
    const [open] = await store.listOpen();
    assert.equal(open?.kind, 'binding-missing');
    const kept = await store.loadInventory();
    assert.deepEqual(kept?.projects, ['tern-labs']);
    assert.equal(kept?.sweptAt, '2026-11-29T11:00:00.000Z');

    // A redelivery of the same run, then the next run: nothing new to say.
    await reconcile()(tick('run-1'));
    await reconcile(() => new Date('2026-11-29T11:10:00Z'))(tick('run-2'));
    assert.equal(posts(fakes.slack).length, 1);
    assert.deepEqual(actions(fakes.pd), ['trigger']);

    current = organization('healthy');
    await reconcile(() => new Date('2026-11-29T11:20:00Z'))(tick('run-3'));
    assert.deepEqual(actions(fakes.pd), ['trigger', 'resolve']);
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
    assert.deepEqual(actions(fakes.pd), ['trigger']);
    degraded = findingsOf([
      { check: 'sink', project: 'tern-labs', status: 'healthy', summary: 'the sink is enabled' },
    ]);
    await reconcile(() => new Date('2026-11-29T11:10:00Z'))(tick('run-2'));
    assert.deepEqual(actions(fakes.pd), ['trigger', 'resolve']);
  });

  test('a sweep that cannot tell PagerDuty fails for a retry, and the retry tells only what is owed', async () => {
    current = organization('binding-missing');
    fakes.pd.script({ status: 500 }, { status: 500 }, { status: 500 });
    await assert.rejects(reconcile()(tick('run-1')), /retryable failures/);
    assert.equal(posts(fakes.slack).length, 1);
    await reconcile()(tick('run-1'));
    assert.equal(posts(fakes.slack).length, 1, 'Slack was told already');
    assert.equal(
      actions(fakes.pd).filter((a) => a === 'trigger').length,
      4,
      'three failed attempts, then one',
    );
  });
});

describe('reconcile resolves credential-failure incidents gone quiet', () => {
  const fakes = useNotifyFakes();

  test('after the quiet window, the sweep resolves the wi-auth-failures incident the failures opened', async () => {
    const start = Date.parse('2026-11-28T10:02:00Z');
    const h = harness(fakes, start);
    const fingerprint = 'wi-auth-failures/orbit-prod/europe-west4/core-1/search/indexer';
    for (const seconds of [0, 60, 150]) {
      const at = start + seconds * 1000;
      h.clock.set(at + 2_000);
      await h.alerting.handle(
        failureDelivery({
          namespace: 'search',
          pod: 'indexer-x7',
          node: 'gke-core-1-spot-0b7d41c2-m2zt',
          at,
          text: TEXT.pythonDenied,
        }),
      );
    }
    assert.equal((await h.store.current(fingerprint))?.status, 'open');
    const sweep = createReconcileHandler({
      alerting: h.alerting,
      store: h.store,
      inventory: async () => ({ snapshot: h.snapshot(), problems: [] }),
      logger: createLogger(() => {}),
      now: h.clock.now,
    });
    h.clock.set(start + 150_000 + DEFAULT_SYMPTOM_OPTIONS.window.quietMs + 1_000);
    await sweep(tick('run-quiet'));
    assert.equal((await h.store.current(fingerprint))?.status, 'resolved');
    assert.equal(actions(fakes.pd).at(-1), 'resolve');
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
