import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, test } from 'node:test';
import { createAlerting } from '../../../shared/alerting/alerting.ts';
import { RetryableDeliveryError } from '../../../shared/alerting/delivery.ts';
import { LookupError } from '../../../shared/errors.ts';
import type { LiveState } from '../../../shared/gcp/ports.ts';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../../../shared/incidents/store.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { snapshotState } from '../../../shared/live/snapshot-state.ts';
import { createLogger } from '../../../shared/log.ts';
import { actions, posts, useNotifyFakes } from '../../support/notify-fakes.ts';
import { FIXTURES } from '../../support/paths.ts';
import { loadSnapshot, ORBIT, variant } from '../../support/snapshots.ts';

const event = (name: string) => JSON.parse(readFileSync(join(FIXTURES, 'events', `${name}.json`), 'utf8'));

/** The organization with the cart KSA's binding removed, as live APIs show it after the removal. */
const withoutCartBinding = () =>
  variant((s) => {
    const gsa = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.cart);
    for (const binding of gsa?.iamPolicy.bindings ?? []) {
      binding.members = binding.members.filter((m) => m !== ORBIT.classic('checkout', 'cart'));
    }
  });

describe('alerting with live state: only what live state confirms pages', () => {
  const fakes = useNotifyFakes();
  let store: IncidentStore;
  let lines: string[];
  let live: Snapshot;
  let state: LiveState;

  beforeEach(() => {
    store = createMemoryStore();
    lines = [];
    live = withoutCartBinding();
    state = snapshotState(() => live);
  });

  const alerting = (
    overrides: { live?: LiveState; now?: () => Date; lastKnown?: () => Promise<Snapshot | undefined> } = {},
  ) => {
    const logger = createLogger((line) => lines.push(line));
    return createAlerting({
      store,
      senders: fakes.senders(logger),
      routing: fakes.routing,
      logger,
      live: overrides.live ?? state,
      ...(overrides.now ? { now: overrides.now } : {}),
      ...(overrides.lastKnown ? { lastKnown: overrides.lastKnown } : {}),
    });
  };

  test('a removal live state confirms pages once, with who is hit read live', async () => {
    const result = await alerting().handle(event('gsa-binding-removed'));
    assert.equal(result.incidents[0]?.transition, 'opened');
    assert.equal(posts(fakes.slack).length, 1);
    assert.deepEqual(actions(fakes.pd), ['trigger']);
    const [finding] = result.findings;
    assert.ok(finding?.workloads?.some((w) => w.namespace === 'checkout' && w.name === 'cart'));
  });

  test('a removal undone before it is verified pages nobody', async () => {
    live = loadSnapshot();
    const result = await alerting().handle(event('gsa-binding-removed'));
    assert.equal(result.outcome, 'handled');
    assert.equal(posts(fakes.slack).length, 0);
    assert.deepEqual(actions(fakes.pd), []);
    assert.equal((await store.listOpen()).length, 0);
    assert.ok(
      lines.some((line) => /refuted: the policy of cart@.* lets checkout\/cart act as it now/.test(line)),
    );
  });

  test('an open incident whose link live state shows healthy resolves on the next event for it', async () => {
    const sentinel = alerting();
    await sentinel.handle(event('gsa-binding-removed'));
    assert.equal((await store.listOpen()).length, 1);
    // Repaired out of band, then the same removal replayed by a second sink: live state is healthy.
    live = loadSnapshot();
    const again = { ...event('gsa-binding-removed'), insertId: 'another-entry' };
    const result = await sentinel.handle(again);
    assert.equal(result.incidents[0]?.transition, 'resolved');
    assert.deepEqual(actions(fakes.pd), ['trigger', 'resolve']);
  });

  test('a repair live state does not show yet leaves the incident open', async () => {
    const sentinel = alerting();
    await sentinel.handle(event('gsa-binding-removed'));
    const result = await sentinel.handle(event('gsa-binding-added'));
    assert.deepEqual(result.incidents, []);
    assert.equal((await store.listOpen()).length, 1);
    assert.deepEqual(actions(fakes.pd), ['trigger']);
  });

  test('wi-sentinel without permission to check still pages, saying so', async () => {
    const denied = new LookupError('403', {
      api: 'iam',
      status: 403,
      retryable: false,
      permission: 'iam.serviceAccounts.getIamPolicy',
    });
    const blind: LiveState = {
      ...state,
      iam: { ...state.iam, getServiceAccountPolicy: () => Promise.reject(denied) },
    };
    const result = await alerting({ live: blind }).handle(event('gsa-binding-removed'));
    assert.equal(result.incidents[0]?.transition, 'opened');
    assert.deepEqual(actions(fakes.pd), ['trigger']);
    assert.match(result.findings[0]?.summary ?? '', /wi-sentinel lacks iam\.serviceAccounts\.getIamPolicy/);
  });

  test('an API that is down fails the delivery for a retry, and the retry pages', async () => {
    let failures = 1;
    const flaky: LiveState = {
      ...state,
      iam: {
        ...state.iam,
        getServiceAccountPolicy: (email) =>
          failures-- > 0
            ? Promise.reject(new LookupError('503', { api: 'iam', status: 503, retryable: true }))
            : state.iam.getServiceAccountPolicy(email),
      },
    };
    const removal = event('gsa-binding-removed');
    const time = Date.parse(removal.timestamp ?? removal.receiveTimestamp);
    const sentinel = alerting({ live: flaky, now: () => new Date(time + 5_000) });
    await assert.rejects(sentinel.handle(removal), RetryableDeliveryError);
    assert.deepEqual(actions(fakes.pd), []);
    const retried = await sentinel.handle(removal);
    assert.equal(retried.incidents[0]?.transition, 'opened');
    assert.deepEqual(actions(fakes.pd), ['trigger']);
  });

  test('a node pool operation is verified when it completes, and names who started it', async () => {
    live = loadSnapshot();
    const sentinel = alerting();
    // The operation is running: live state still shows GKE_METADATA, nothing is decided yet.
    const started = await sentinel.handle(event('nodepool-gce-metadata'));
    assert.deepEqual(started.incidents, []);
    assert.equal(posts(fakes.slack).length, 0);
    assert.ok(
      lines.some((line) => /operation started: its findings are verified when it completes/.test(line)),
    );
    live = variant((s) => {
      const pool = s.projects[0]?.clusters[0]?.nodePools.find((p) => p.name === 'highmem');
      if (pool) pool.workloadMetadataMode = 'GCE_METADATA';
    });
    const done = await sentinel.handle(event('nodepool-update-last'));
    assert.equal(done.incidents[0]?.transition, 'opened');
    assert.equal(done.findings[0]?.cause?.actor, 'deployer@orbit-prod.iam.gserviceaccount.com');
    assert.equal(posts(fakes.slack).length, 1);
    assert.deepEqual(actions(fakes.pd), ['trigger']);
  });

  test('a deleted GSA is mapped to the KSAs it served by the last sweep’s inventory, and confirmed live', async () => {
    const removal = event('gsa-deleted');
    live = variant((s) => {
      const project = s.projects[0];
      if (project) project.serviceAccounts = project.serviceAccounts.filter((g) => g.email !== ORBIT.indexer);
    });
    const result = await alerting({ lastKnown: async () => loadSnapshot() }).handle(removal);
    const [finding] = result.findings;
    assert.equal(finding?.kind, 'gsa-missing');
    assert.ok((finding?.ksas.length ?? 0) > 0, 'the KSAs annotated with it, from the inventory');
    assert.ok(finding?.workloads?.length, 'their running pods, read live');
    assert.equal(result.incidents[0]?.transition, 'opened');
    assert.ok(await store.lastDelivery(), 'the delivery is noted for the self-check');
  });
});
