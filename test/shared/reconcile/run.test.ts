import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, test } from 'node:test';
import { createAlerting } from '../../../shared/alerting/alerting.ts';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../../../shared/incidents/store.ts';
import { applyChange } from '../../../shared/inventory/apply.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { createLogger } from '../../../shared/log.ts';
import { runSweep, type SweepProblem } from '../../../shared/reconcile/run.ts';
import { actions, posts, ROUTING_KEY, SLACK_TOKEN, useNotifyFakes } from '../../support/notify-fakes.ts';
import { FIXTURES } from '../../support/paths.ts';
import { clusterOf, ORBIT, variant } from '../../support/snapshots.ts';
import { gsaLifecycleEntry, type Link } from '../../support/wi-stream.ts';
import { add, gsaPolicy } from '../detect/cases/events.ts';

const AT = new Date('2026-11-29T06:00:00.000Z');
const event = (name: string) => JSON.parse(readFileSync(join(FIXTURES, 'events', `${name}.json`), 'utf8'));
const CART_BINDING = `binding-missing/orbit-prod/${ORBIT.cart}/orbit-prod.svc.id.goog/checkout/cart`;
const HIGHMEM = 'nodepool-metadata-disabled/orbit-prod/europe-west4/core-1/highmem';

/** The orbit-prod fixture without its one drift (the indexer's key file). */
const healthy = () =>
  variant((s) => {
    for (const pod of s.projects.flatMap((p) => p.clusters).flatMap((c) => c.pods)) pod.env = [];
  });
/** Healthy but for highmem, left on GCE_METADATA: pricing's pod runs there. */
const highmemOnGce = () =>
  variant((s) => {
    for (const pod of s.projects.flatMap((p) => p.clusters).flatMap((c) => c.pods)) pod.env = [];
    const highmem = clusterOf(s, 'core-1').nodePools.find((p) => p.name === 'highmem');
    if (highmem) highmem.workloadMetadataMode = 'GCE_METADATA';
  });

describe('runSweep: the sweep applied through incidents, Slack and PagerDuty', () => {
  const fakes = useNotifyFakes();
  let store: IncidentStore;
  let lines: string[];
  let organization: Snapshot;
  let alerting: ReturnType<typeof createAlerting>;

  beforeEach(() => {
    store = createMemoryStore();
    lines = [];
    organization = healthy();
    const logger = createLogger((line) => lines.push(line));
    alerting = createAlerting({
      store,
      senders: fakes.senders(logger),
      routing: fakes.routing,
      logger,
      inventory: { current: () => organization, update: (next) => (organization = next) },
    });
  });

  const sweepOf = (
    snapshot: Snapshot,
    extra: { runId?: string; dryRun?: boolean; problems?: SweepProblem[] } = {},
  ) =>
    runSweep({
      inventory: async () => ({ snapshot, problems: extra.problems ?? [] }),
      alerting,
      store,
      now: () => AT,
      logger: createLogger((line) => lines.push(line)),
      ...(extra.runId ? { runId: extra.runId } : {}),
      ...(extra.dryRun ? { dryRun: true } : {}),
    });

  test('an incident an event opened, found healthy by the sweep: resolved, told once', async () => {
    const opened = await alerting.handle(event('gsa-binding-removed'));
    assert.equal(opened.incidents[0]?.transition, 'opened');
    assert.deepEqual(actions(fakes.pd), ['trigger']);

    const report = await sweepOf(healthy());
    assert.deepEqual(report.findings, []);
    assert.deepEqual(
      report.resolved.map((f) => f.fingerprint),
      [CART_BINDING],
    );
    assert.equal(report.counts.closed, 1);
    assert.deepEqual(actions(fakes.pd), ['trigger', 'resolve']);
    assert.equal(posts(fakes.slack).length, 1, 'the same message, edited');
    assert.match(fakes.slack.messages[0]?.text ?? '', /resolved/i);
    const incident = await store.current(CART_BINDING);
    assert.equal(incident?.status, 'resolved');
    assert.match(
      incident?.resolution?.summary ?? '',
      /^the sweep of 2026-11-29T06:00:00\.000Z found the binding/,
    );
    assert.deepEqual(await store.listOpen(), []);
  });

  test('a sweep confirming an open incident sends nothing', async () => {
    await alerting.handle(event('gsa-binding-removed'));
    const calls = fakes.slack.calls.length;
    // The organization as the event left it: the binding is still missing.
    const report = await sweepOf(organization);
    assert.deepEqual(
      report.findings.map((f) => f.fingerprint),
      [CART_BINDING],
    );
    assert.deepEqual(report.resolved, []);
    assert.deepEqual(report.counts, {
      ...report.counts,
      opened: 0,
      updated: 0,
      closed: 0,
      notifications: 0,
    });
    assert.equal(fakes.slack.calls.length, calls, 'no Slack call');
    assert.deepEqual(actions(fakes.pd), ['trigger'], 'no second page');
    assert.equal((await store.listOpen()).length, 1);
  });

  test('a new drift opens and pages once; the same sweep again (a new run) pages nobody', async () => {
    const first = await sweepOf(highmemOnGce(), { runId: 'run-1' });
    assert.deepEqual(
      first.findings.map((f) => f.fingerprint),
      [HIGHMEM],
    );
    assert.equal(first.counts.opened, 1);
    assert.equal(first.counts.notifications, 2, 'Slack and PagerDuty');
    const second = await sweepOf(highmemOnGce(), { runId: 'run-2' });
    assert.equal(second.counts.opened + second.counts.updated + second.counts.notifications, 0);
    assert.deepEqual(actions(fakes.pd), ['trigger']);
    assert.equal(posts(fakes.slack).length, 1);
    assert.equal(fakes.slack.calls.length, 1, 'one post, nothing after it');
    const [incident] = await store.listOpen();
    assert.deepEqual(incident?.entries, ['sweep:run-1'], 'the second run added nothing');
  });

  test('the same run applied twice (a redelivered scheduler event) changes nothing', async () => {
    await sweepOf(highmemOnGce(), { runId: 'run-1' });
    const again = await sweepOf(highmemOnGce(), { runId: 'run-1' });
    assert.equal(again.counts.notifications, 0);
    assert.deepEqual(actions(fakes.pd), ['trigger']);
  });

  test('repaired after a sweep opened it: the next sweep resolves it, PagerDuty resolves once', async () => {
    await sweepOf(highmemOnGce(), { runId: 'run-1' });
    const report = await sweepOf(healthy(), { runId: 'run-2' });
    assert.deepEqual(
      report.resolved.map((f) => f.fingerprint),
      [HIGHMEM],
    );
    await sweepOf(healthy(), { runId: 'run-3' });
    assert.deepEqual(actions(fakes.pd), ['trigger', 'resolve']);
  });

  test('broken again after a sweep resolved it: a new incident, paged again', async () => {
    await sweepOf(highmemOnGce(), { runId: 'run-1' });
    await sweepOf(healthy(), { runId: 'run-2' });
    const report = await sweepOf(highmemOnGce(), { runId: 'run-3' });
    assert.equal(report.counts.opened, 1);
    assert.deepEqual(actions(fakes.pd), ['trigger', 'resolve', 'trigger']);
  });

  test('a GSA re-created without its bindings: the sweep pages no binding-missing; one page for the outage', async () => {
    const GSA_GONE = `gsa-missing/orbit-prod/${ORBIT.indexer}`;
    const deleted = await alerting.handle(event('gsa-deleted'));
    assert.deepEqual(
      deleted.incidents.map((i) => [i.transition, i.incident.fingerprint]),
      [['opened', GSA_GONE]],
    );
    const link = { project: ORBIT.project, gsa: ORBIT.indexer, uniqueId: '104200000000000000999' } as Link;
    await alerting.handle(gsaLifecycleEntry(link, 'Create', { insertId: 'indexer-recreated' }));
    const recreated = organization;
    assert.equal(
      recreated.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.indexer)?.uniqueId,
      link.uniqueId,
    );

    const unbound = await sweepOf(recreated, { runId: 'run-1' });
    assert.deepEqual(unbound.findings, [], 'its KSA is the open gsa-missing incident’s, not one of its own');
    assert.equal(unbound.counts.opened, 0);
    // Judged, and still broken: not one the sweep could not judge.
    assert.deepEqual(unbound.untouched, []);
    assert.equal(unbound.counts.untouched, 0);
    assert.deepEqual(
      (await store.listOpen()).map((i) => i.fingerprint),
      [GSA_GONE],
    );

    const bound = applyChange(recreated, gsaPolicy(ORBIT.indexer, [add(ORBIT.classic('search', 'indexer'))]));
    const repaired = await sweepOf(bound, { runId: 'run-2' });
    assert.deepEqual(repaired.findings, []);
    assert.deepEqual(
      repaired.resolved.map((f) => f.fingerprint),
      [GSA_GONE],
    );
    assert.deepEqual(await store.listOpen(), []);

    // What the fakes received: one alert (one dedup key) triggered, then resolved; one Slack message.
    const events = fakes.pd.events.map((e) => e.body as { event_action: string; dedup_key: string });
    assert.equal(new Set(events.map((e) => e.dedup_key)).size, 1, JSON.stringify(events));
    assert.equal(actions(fakes.pd).at(-1), 'resolve');
    assert.equal(actions(fakes.pd).filter((a) => a === 'resolve').length, 1);
    assert.equal(posts(fakes.slack).length, 1, 'one top-level message for the whole story');
    assert.doesNotMatch(JSON.stringify(fakes.slack.calls), /binding-missing|does not let it act/);
  });

  test('hygiene drift is told on Slack, never paged', async () => {
    const shared = variant((s) => {
      for (const pod of s.projects.flatMap((p) => p.clusters).flatMap((c) => c.pods)) pod.env = [];
      const query = clusterOf(s, 'core-1').serviceAccounts.find((k) => k.name === 'query');
      if (query) query.annotations['iam.gke.io/gcp-service-account'] = ORBIT.cart;
      const cart = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.cart);
      cart?.iamPolicy.bindings[0]?.members.push(ORBIT.classic('search', 'query'));
    });
    const report = await sweepOf(shared);
    assert.deepEqual(report.counts.byKind, { 'gsa-shared': 1 });
    assert.equal(posts(fakes.slack).length, 1);
    assert.deepEqual(actions(fakes.pd), []);
  });

  test('a dry run reads the open incidents and changes nothing', async () => {
    await alerting.handle(event('gsa-binding-removed'));
    const before = JSON.stringify(await store.listOpen());
    const calls = fakes.slack.calls.length;
    const report = await sweepOf(highmemOnGce(), { dryRun: true });
    assert.equal(report.dryRun, true);
    assert.deepEqual(
      report.findings.map((f) => f.fingerprint),
      [HIGHMEM],
    );
    assert.deepEqual(
      report.resolved.map((f) => f.fingerprint),
      [CART_BINDING],
    );
    assert.deepEqual(report.incidents, []);
    assert.equal(JSON.stringify(await store.listOpen()), before);
    assert.equal(fakes.slack.calls.length, calls);
    assert.deepEqual(actions(fakes.pd), ['trigger']);
    assert.ok(lines.some((line) => line.includes('dry run: nothing applied')));
  });

  test('what could not be read is reported; its incidents are left open; the rest completes', async () => {
    await alerting.handle(event('nodepool-gce-metadata'));
    await alerting.handle(event('nodepool-update-last'));
    await alerting.handle(event('gsa-binding-removed'));
    assert.equal((await store.listOpen()).length, 2);
    const problems: SweepProblem[] = [
      {
        message: 'cluster orbit-prod/europe-west4/core-1: the Kubernetes API did not answer (timeout)',
        unreadable: { clusters: [{ project: ORBIT.project, ...ORBIT.core }] },
      },
    ];
    // Healthy as far as it was read: core-1's pools are unknown, cart's binding is back.
    const report = await sweepOf(healthy(), { problems });
    assert.deepEqual(report.problems, problems);
    assert.deepEqual(
      report.resolved.map((f) => f.fingerprint),
      [CART_BINDING],
    );
    assert.deepEqual(report.untouched, [
      { fingerprint: HIGHMEM, reason: 'cluster core-1 could not be read' },
    ]);
    assert.deepEqual(
      (await store.listOpen()).map((i) => i.fingerprint),
      [HIGHMEM],
    );
    assert.ok(
      lines.some((line) => {
        const entry = JSON.parse(line) as { severity: string; message: string };
        return entry.severity === 'WARNING' && entry.message.includes('the Kubernetes API did not answer');
      }),
    );
    assert.ok(lines.some((line) => /1 problem, 1 open incident left unjudged/.test(line)));
  });

  test('the report counts and its log line never carry a secret', async () => {
    const swept = highmemOnGce();
    const report = await sweepOf(swept);
    assert.equal(report.snapshot, swept, 'the inventory swept, for the caller to keep');
    assert.equal(report.sweptAt, AT.toISOString());
    assert.deepEqual(report.projects, [ORBIT.project]);
    assert.equal(report.runId, AT.toISOString());
    const text = `${JSON.stringify(report.counts)}${lines.join('\n')}`;
    assert.ok(!text.includes(SLACK_TOKEN) && !text.includes(ROUTING_KEY));
    assert.ok(
      lines.some((line) =>
        line.includes('swept 1 project (orbit-prod): 1 broken link, 0 incidents found healthy'),
      ),
    );
  });
});
