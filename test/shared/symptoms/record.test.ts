import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeMonitoringNotification, type MetadataServerAlert } from '../../../shared/events/monitoring.ts';
import { dueOf, link, recordFailure, recordNotification } from '../../../shared/symptoms/record.ts';
import { useNotifyFakes } from '../../support/notify-fakes.ts';
import { monitoringFixture } from './fixtures.ts';
import { symptomOf, TEXT, unitContext } from './support.ts';

/** erin@ removed checkout/cart's binding at 09:12:41; cart-6d8-a fails from 09:13. */
const START = Date.parse('2026-11-04T09:13:00Z');
const CART = { ksa: 'cart', gsa: 'cart@orbit-prod.iam.gserviceaccount.com', match: 'pod' as const };
const KEY = 'orbit-prod/europe-west4/core-1/checkout/cart';
const failure = (at: number, id?: string) =>
  symptomOf({ namespace: 'checkout', pod: 'cart-6d8-a', at, text: TEXT.goDenied, ...(id ? { id } : {}) });

function alertOf(name: string): MetadataServerAlert {
  const decoded = decodeMonitoringNotification(monitoringFixture(name));
  if (decoded.type !== 'alert') throw new Error(`${name}: ${decoded.type}`);
  return decoded.alert;
}

describe('record: a failure joins its group, in one transaction', () => {
  const fakes = useNotifyFakes();

  test('the first failure opens the group; a redelivery counts nothing; the next one counts', async () => {
    const h = unitContext(fakes, START);
    const at = h.clock.now();
    const first = await recordFailure(h.ctx, failure(START, 'e-1'), { identity: CART }, [], at);
    assert.deepEqual([first.added, first.opened, first.record.key, first.record.count], [true, true, KEY, 1]);
    assert.equal(first.record.scope, 'ksa');
    const again = await recordFailure(h.ctx, failure(START, 'e-1'), { identity: CART }, [], at);
    assert.deepEqual([again.added, again.opened, again.record.count], [false, false, 1]);
    const next = await recordFailure(h.ctx, failure(START + 20_000, 'e-2'), { identity: CART }, [], at);
    assert.deepEqual([next.added, next.opened, next.record.count], [true, false, 2]);
    assert.equal((await h.store.symptomGroup(KEY))?.count, 2);
  });

  test('a pod nobody could place groups under its namespace, with the pool its node names', async () => {
    const h = unitContext(fakes, START);
    const recorded = await recordFailure(h.ctx, failure(START), { nodePool: 'spot' }, [], h.clock.now());
    assert.equal(recorded.record.key, 'orbit-prod/europe-west4/core-1/checkout/*');
    assert.equal(recorded.record.scope, 'namespace');
    assert.deepEqual(recorded.record.nodePools, ['spot']);
  });

  test('linked to the open incident that explains it, and due a refresh of its evidence at most once an interval', async () => {
    const h = unitContext(fakes, START);
    const incident = await h.open('gsa-binding-removed');
    const at = h.clock.now();
    const first = await recordFailure(h.ctx, failure(START), { identity: CART }, [incident], at);
    assert.deepEqual(
      first.record.links.map((l) => [l.fingerprint, l.incident]),
      [[incident.fingerprint, incident.id]],
    );
    assert.deepEqual(dueOf(first.record, at), [incident.fingerprint]);
    const soon = new Date(at.getTime() + 30_000);
    const second = await recordFailure(h.ctx, failure(START + 30_000), { identity: CART }, [incident], soon);
    assert.deepEqual(dueOf(second.record, soon), [], 'refreshed 30 s ago');
    const minute = new Date(at.getTime() + 60_000);
    const third = await recordFailure(h.ctx, failure(START + 60_000), { identity: CART }, [incident], minute);
    assert.deepEqual(dueOf(third.record, minute), [incident.fingerprint]);
  });

  test('an incident that does not explain the group is not linked', async () => {
    const h = unitContext(fakes, START);
    const other = await h.open('nodepool-gce-metadata');
    const recorded = await recordFailure(h.ctx, failure(START), { identity: CART }, [other], h.clock.now());
    assert.deepEqual(recorded.record.links, [], 'cart-6d8-a runs on general, not highmem');
  });
});

describe('record: a Monitoring alert is a cluster group, one notification per state', () => {
  const fakes = useNotifyFakes();

  test('open, the same again (a duplicate), then closed', async () => {
    const open = alertOf('open');
    const h = unitContext(fakes, Date.parse(open.startedAt) + 60_000);
    const at = h.clock.now();
    const first = await recordNotification(h.ctx, open, 'spot', [], at);
    assert.equal(first.added, true);
    assert.equal(first.record.scope, 'cluster');
    assert.equal(first.record.alert?.state, 'open');
    assert.deepEqual(first.record.nodePools, ['spot']);
    assert.equal((await recordNotification(h.ctx, open, 'spot', [], at)).added, false);
    const closed = await recordNotification(h.ctx, { ...open, state: 'closed' }, 'spot', [], at);
    assert.equal(closed.added, true);
    assert.equal(closed.record.alert?.state, 'closed');
  });
});

describe('link: a group remembers the incidents it is evidence of', () => {
  const fakes = useNotifyFakes();

  test('linked as shown now; once the incident resolves, when', async () => {
    const h = unitContext(fakes, START);
    await recordFailure(h.ctx, failure(START), { identity: CART }, [], h.clock.now());
    const incident = await h.open('gsa-binding-removed');
    const at = h.clock.now();
    await link(h.ctx, KEY, incident, at, h.log);
    assert.deepEqual((await h.store.symptomGroup(KEY))?.links, [
      { fingerprint: incident.fingerprint, incident: incident.id, pushedAt: at.toISOString() },
    ]);
    const resolvedAt = '2026-11-04T09:19:05Z';
    await link(h.ctx, KEY, { ...incident, status: 'resolved', resolvedAt }, at, h.log, true);
    assert.equal((await h.store.symptomGroup(KEY))?.links[0]?.resolvedAt, resolvedAt);
  });

  test('a group that is gone is left alone', async () => {
    const h = unitContext(fakes, START);
    const incident = await h.open('gsa-binding-removed');
    await link(h.ctx, KEY, incident, h.clock.now(), h.log);
    assert.equal(await h.store.symptomGroup(KEY), undefined);
    assert.deepEqual(
      h.lines.filter((l) => l.severity === 'WARNING'),
      [],
    );
  });
});
