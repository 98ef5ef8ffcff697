import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createAlerting } from '../../../shared/alerting/alerting.ts';
import { detect } from '../../../shared/detect/index.ts';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../../../shared/incidents/store.ts';
import { createLogger } from '../../../shared/log.ts';
import { defaultRouting } from '../../../shared/notify/routing.ts';
import { createTerminalPagerDuty, createTerminalSlack } from '../../../shared/notify/terminal.ts';
import { liveInventory, sweepProblemOf } from '../../../shared/reconcile/live-inventory.ts';
import { runSweep } from '../../../shared/reconcile/run.ts';
import { type LiveFakes, startLiveFakes } from '../../support/live-fakes.ts';
import { loadSnapshot, ORBIT } from '../../support/snapshots.ts';
import { gsaPolicy, nodePool, remove } from '../detect/cases/events.ts';

const KEY_FILE = 'key-file-override/orbit-prod/europe-west4/core-1/search/CronJob/indexer';
const EDGE_POOL = 'nodepool-metadata-disabled/orbit-prod/us-east1-b/edge-1/default-pool';
const HIGHMEM = 'nodepool-metadata-disabled/orbit-prod/europe-west4/core-1/highmem';
const CART_BINDING = `binding-missing/orbit-prod/${ORBIT.cart}/orbit-prod.svc.id.goog/checkout/cart`;

describe('runSweep against the fake GKE, IAM and Kubernetes APIs (the real adapters, exportSnapshot)', () => {
  let fakes: LiveFakes;
  let store: IncidentStore;
  let told: string[];
  let alerting: ReturnType<typeof createAlerting>;

  before(async () => {
    fakes = await startLiveFakes(loadSnapshot());
    // Load the client libraries once, so a short timeout below measures the fakes, not a cold import.
    await liveInventory(fakes.liveState(), [ORBIT.project])();
  });
  after(() => fakes.stop());
  beforeEach(async () => {
    fakes.clearFaults();
    fakes.clearCalls();
    store = createMemoryStore();
    told = [];
    alerting = createAlerting({
      store,
      senders: {
        slack: createTerminalSlack((text) => told.push(text)),
        pagerduty: createTerminalPagerDuty((text) => told.push(text)),
      },
      routing: defaultRouting({ slackChannel: '#wi', pagerdutyRoutingKey: 'P'.repeat(32) }),
      logger: { log() {} },
    });
    // Three incidents the event path opened earlier: one in each place the sweep will fail to read,
    // and one it can judge.
    const snapshot = loadSnapshot();
    const events = [
      nodePool('update', 'default-pool', { cluster: ORBIT.edge, metadataServer: false }),
      nodePool('update', 'highmem', { metadataServer: false }),
      gsaPolicy(ORBIT.cart, [remove(ORBIT.classic('checkout', 'cart'))]),
    ];
    const findings = events.flatMap((event) => detect(event, snapshot)).filter((f) => f.status === 'firing');
    await alerting.applyFindings(findings, 'events');
    assert.deepEqual(
      (await store.listOpen()).map((i) => i.fingerprint).sort(),
      [CART_BINDING, EDGE_POOL, HIGHMEM].sort(),
    );
    told.length = 0;
  });

  test('one cluster unreachable and a 403 on one GSA: both reported, the rest swept and applied', async () => {
    fakes.kubernetes.fault({ match: '/clusters/orbit-prod/us-east1-b/edge-1/', hang: true });
    fakes.iam.fault({ match: `${ORBIT.cart}:getIamPolicy`, status: 403 });
    const state = fakes.liveState({
      kubeTimeoutMs: 1_000,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, deadlineMs: 5_000 },
    });
    const lines: string[] = [];
    const report = await runSweep({
      inventory: liveInventory(state, [ORBIT.project]),
      alerting,
      store,
      logger: createLogger((line) => lines.push(line)),
    });

    // cart@'s policy was not read (the export holds it empty): no KSA of it is called unbound.
    assert.deepEqual(
      report.findings.map((f) => f.fingerprint),
      [KEY_FILE],
    );
    assert.deepEqual(
      report.resolved.map((f) => f.fingerprint),
      [HIGHMEM],
    );
    // Incidents opened by one delivery share their opening time: their order is not the point.
    const byPrint = (a: { fingerprint: string }, b: { fingerprint: string }) =>
      a.fingerprint.localeCompare(b.fingerprint);
    assert.deepEqual(
      [...report.untouched].sort(byPrint),
      [
        { fingerprint: EDGE_POOL, reason: 'cluster edge-1 could not be read' },
        { fingerprint: CART_BINDING, reason: `${ORBIT.cart} could not be read` },
      ].sort(byPrint),
    );
    const what = [
      'cluster us-east1-b/edge-1 namespaces',
      'cluster us-east1-b/edge-1 NetworkPolicies',
      'cluster us-east1-b/edge-1 pods',
      'cluster us-east1-b/edge-1 service accounts',
      `service account ${ORBIT.cart}`,
    ];
    assert.equal(report.problems.length, what.length);
    report.problems.forEach((problem, index) => {
      assert.ok(problem.message.startsWith(`orbit-prod: ${what[index]}: `), problem.message);
    });
    assert.ok(report.problems.slice(0, 4).every((p) => /did not answer within 1000 ms/.test(p.message)));
    assert.match(report.problems[4]?.message ?? '', /403 .*iam\.serviceAccounts\.getIamPolicy/);
    assert.deepEqual(
      (await store.listOpen()).map((i) => i.fingerprint).sort(),
      [CART_BINDING, EDGE_POOL, KEY_FILE].sort(),
    );
    assert.equal(report.counts.opened, 1);
    assert.equal(report.counts.closed, 1);
    assert.ok(told.some((text) => /WARNING key-file-override · opened/.test(text)));
    assert.ok(
      told.some((text) => /resolve .*highmem|CRITICAL nodepool-metadata-disabled · resolved/.test(text)),
    );
    assert.ok(lines.some((line) => /5 problems, 2 open incidents left unjudged/.test(line)));
  });

  test('everything readable: the organization as it is (healthy but for the key file) resolves all three', async () => {
    const report = await runSweep({
      inventory: liveInventory(fakes.liveState(), [ORBIT.project]),
      alerting,
      store,
    });
    assert.deepEqual(report.problems, []);
    assert.deepEqual(
      report.resolved.map((f) => f.fingerprint).sort(),
      [CART_BINDING, EDGE_POOL, HIGHMEM].sort(),
    );
    assert.deepEqual(
      (await store.listOpen()).map((i) => i.fingerprint),
      [KEY_FILE],
    );
  });

  test('a project it may not read: every read reported, none of its incidents resolved', async () => {
    fakes.gke.fault({ match: '/clusters', status: 403 });
    fakes.iam.fault({ match: '', status: 403 });
    const report = await runSweep({
      inventory: liveInventory(fakes.liveState(), [ORBIT.project]),
      alerting,
      store,
      dryRun: true,
    });
    assert.deepEqual(report.findings, []);
    assert.deepEqual(report.resolved, []);
    assert.equal(report.untouched.length, 3);
    assert.deepEqual(
      report.problems.map((p) => p.unreadable),
      [{ unlisted: [{ project: ORBIT.project }] }, undefined, { iamProjects: [ORBIT.project] }],
    );
  });

  test('export problems become what the sweep must not judge', () => {
    const base = { project: 'p-one', reason: 'denied', retryable: false };
    assert.equal(
      sweepProblemOf({
        ...base,
        what: 'clusters',
        reason: 'needs container.clusters.list',
        permission: 'container.clusters.list',
      }).message,
      'p-one: clusters: needs container.clusters.list',
    );
    assert.deepEqual(sweepProblemOf({ ...base, what: 'clusters', permission: 'container.clusters.list' }), {
      message: 'p-one: clusters: denied (needs container.clusters.list)',
      unreadable: { unlisted: [{ project: 'p-one' }] },
    });
    assert.deepEqual(sweepProblemOf({ ...base, what: 'service accounts' }), {
      message: 'p-one: service accounts: denied',
      unreadable: { iamProjects: ['p-one'] },
    });
    // Clusters and GSAs left partial are marked `incomplete` in the snapshot itself.
    assert.deepEqual(sweepProblemOf({ ...base, what: 'cluster l/c pods' }), {
      message: 'p-one: cluster l/c pods: denied',
    });
  });
});
