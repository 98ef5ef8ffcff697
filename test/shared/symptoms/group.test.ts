import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SymptomGroupRecord } from '../../../shared/domain/symptom-group.ts';
import type { MetadataServerAlert } from '../../../shared/events/monitoring.ts';
import type { Symptom } from '../../../shared/symptoms/classify.ts';
import {
  alertKey,
  authFingerprint,
  countSince,
  DEFAULT_SYMPTOM_OPTIONS,
  recordAlert,
  recordSymptom,
  takeDue,
  withLinks,
} from '../../../shared/symptoms/group.ts';
import { poolOfNode } from '../../../shared/symptoms/identity.ts';
import type { PodIdentity } from '../../../shared/symptoms/resolve.ts';

const T0 = Date.parse('2026-11-28T10:02:00Z');
const QUIET = DEFAULT_SYMPTOM_OPTIONS.window.quietMs;

const CART: PodIdentity = {
  ksa: 'cart',
  gsa: 'cart@orbit-prod.iam.gserviceaccount.com',
  workloadPool: 'orbit-prod.svc.id.goog',
  owner: { kind: 'Deployment', name: 'cart' },
  match: 'sibling',
};

function failure(seconds: number, extra: Partial<Symptom> = {}): Symptom {
  return {
    kind: 'token-denied',
    library: 'go',
    signature: 'go/token-denied',
    project: 'orbit-prod',
    cluster: { location: 'europe-west4', name: 'core-1' },
    namespace: 'checkout',
    pod: 'cart-6d8-zz',
    container: 'cart',
    node: 'gke-core-1-spot-0b7d41c2-m2zt',
    message: 'compute: Received 403 `denied`',
    time: new Date(T0 + seconds * 1000).toISOString(),
    insertId: `id-${seconds}`,
    ...extra,
  };
}

function feed(seconds: number[], start?: SymptomGroupRecord): SymptomGroupRecord {
  let record = start;
  for (const s of seconds) {
    record = recordSymptom(record, failure(s), CART, new Date(T0 + s * 1000 + 500), {
      nodePool: 'spot',
    }).record;
  }
  assert.ok(record);
  return record;
}

describe('recordSymptom: the stored group', () => {
  it('stays active for the quiet window after its last failure, with the pool the node names', () => {
    const record = feed([0, 30, 60]);
    assert.equal(record.key, 'orbit-prod/europe-west4/core-1/checkout/cart');
    assert.equal(record.scope, 'ksa');
    assert.equal(record.count, 3);
    assert.equal(record.activeUntil, new Date(T0 + 60_000 + QUIET).toISOString());
    assert.deepEqual(record.nodePools, ['spot']);
    assert.equal(record.workloadPool, 'orbit-prod.svc.id.goog');
  });

  it('counts a redelivered entry once', () => {
    const record = feed([0, 30]);
    const again = recordSymptom(record, failure(30), CART, new Date(T0 + 40_000));
    assert.equal(again.added, false);
    assert.equal(again.record.count, 2);
  });

  it('starts over after a quiet window: a new episode, its links forgotten', () => {
    const first = { ...feed([0, 30]), links: [{ fingerprint: 'x', incident: 'y' }] };
    const later = recordSymptom(first, failure(30 + QUIET / 1000 + 1), CART, new Date(T0 + QUIET + 60_000));
    assert.equal(later.opened, true);
    assert.equal(later.record.count, 1);
    assert.equal(later.record.firstSeen, failure(30 + QUIET / 1000 + 1).time);
    assert.deepEqual(later.record.links, []);
    const within = recordSymptom(first, failure(30 + QUIET / 1000 - 1), CART, new Date(T0 + QUIET));
    assert.equal(within.opened, false);
    assert.equal(within.record.count, 3);
    assert.deepEqual(within.record.links, first.links);
  });

  it("the metadata server's own errors and an unknown KSA have their own scope", () => {
    const server = recordSymptom(
      undefined,
      failure(0, { library: 'gke-metadata-server', namespace: 'kube-system', pod: 'gke-metadata-server-x1' }),
      undefined,
      new Date(T0),
    ).record;
    assert.equal(server.scope, 'cluster');
    assert.equal(authFingerprint(server), 'wi-auth-failures/orbit-prod/europe-west4/core-1');
    const unknown = recordSymptom(undefined, failure(0), undefined, new Date(T0)).record;
    assert.equal(unknown.scope, 'namespace');
    assert.equal(authFingerprint(unknown), 'wi-auth-failures/orbit-prod/europe-west4/core-1/checkout/*');
    assert.equal(authFingerprint(feed([0])), 'wi-auth-failures/orbit-prod/europe-west4/core-1/checkout/cart');
  });

  it('counts the failures since a time from the minute buckets', () => {
    const record = feed([0, 30, 70, 130, 190]);
    assert.equal(countSince(record, T0), 5);
    assert.equal(countSince(record, T0 + 120_000), 2);
  });
});

describe('recordAlert: a Cloud Monitoring incident as a cluster group', () => {
  const alert: MetadataServerAlert = {
    kind: 'metadata-server-errors',
    state: 'open',
    project: 'orbit-prod',
    cluster: { location: 'europe-west4', name: 'core-1' },
    incidentId: '0.abc',
    policy: 'wi-sentinel: GKE metadata server errors',
    observedValue: '0.274',
    thresholdValue: '0.01',
    startedAt: '2026-11-28T10:03:00.000Z',
  };

  it('is active while open, and until it ended once closed', () => {
    const open = recordAlert(undefined, alert, new Date(T0 + 120_000), 'spot');
    assert.equal(open.key, 'orbit-prod/europe-west4/core-1/~monitoring/metadata-server-errors');
    assert.equal(open.key, alertKey(alert));
    assert.equal(open.scope, 'cluster');
    assert.ok(Date.parse(open.activeUntil) > T0 + 24 * 3600_000);
    assert.deepEqual(open.nodePools, ['spot']);
    const closed = recordAlert(
      { ...open, links: [{ fingerprint: 'f', incident: 'i' }] },
      { ...alert, state: 'closed', endedAt: '2026-11-28T10:20:00.000Z' },
      new Date(T0 + 20 * 60_000),
    );
    assert.equal(closed.activeUntil, '2026-11-28T10:20:00.000Z');
    assert.equal(closed.alert?.state, 'closed');
    assert.deepEqual(closed.links, [{ fingerprint: 'f', incident: 'i' }]);
    assert.equal(closed.firstSeen, alert.startedAt);
  });
});

describe('links: the incidents a group is evidence of', () => {
  it('adds new incidents, renews a fingerprint that opened again, and keeps the latest', () => {
    const links = withLinks(
      [{ fingerprint: 'a', incident: 'a-1', pushedAt: 't' }],
      [{ fingerprint: 'a', id: 'a-1' }],
      2,
    );
    assert.deepEqual(links, [{ fingerprint: 'a', incident: 'a-1', pushedAt: 't' }]);
    assert.deepEqual(
      withLinks(
        links,
        [
          { fingerprint: 'a', id: 'a-2' },
          { fingerprint: 'b', id: 'b-1' },
          { fingerprint: 'c', id: 'c-1' },
        ],
        2,
      ).map((l) => l.incident),
      ['b-1', 'c-1'],
    );
  });

  it('takes the due ones (never pushed, or a minute ago) and drops those repaired long ago', () => {
    const at = new Date(T0 + 3600_000);
    const { due, links } = takeDue(
      [
        { fingerprint: 'new', incident: '1' },
        { fingerprint: 'recent', incident: '2', pushedAt: new Date(at.getTime() - 30_000).toISOString() },
        { fingerprint: 'old', incident: '3', pushedAt: new Date(at.getTime() - 60_000).toISOString() },
        {
          fingerprint: 'repaired',
          incident: '4',
          resolvedAt: new Date(at.getTime() - QUIET - 1).toISOString(),
        },
      ],
      at,
      { everyMs: 60_000, afterRepairMs: QUIET },
    );
    assert.deepEqual(
      due.map((l) => l.fingerprint),
      ['new', 'old'],
    );
    assert.deepEqual(
      links.map((l) => [l.fingerprint, l.pushedAt === at.toISOString()]),
      [
        ['new', true],
        ['recent', false],
        ['old', true],
      ],
    );
  });
});

describe('poolOfNode: the node pool in a GKE node name', () => {
  const pools = ['general', 'highmem', 'spot', 'spot-large'];
  it('reads gke-CLUSTER-POOL-HASH-SUFFIX, the longest pool first', () => {
    assert.equal(poolOfNode('core-1', pools, 'gke-core-1-spot-0b7d41c2-m2zt'), 'spot');
    assert.equal(poolOfNode('core-1', pools, 'gke-core-1-spot-large-0b7d41c2-m2zt'), 'spot-large');
  });
  it('takes a shortened cluster name only when one pool fits, and nothing else', () => {
    assert.equal(
      poolOfNode('a-very-long-cluster-name', pools, 'gke-a-very-long-clu-highmem-5f2c9a1e-x8kq'),
      'highmem',
    );
    assert.equal(poolOfNode('core-1', pools, 'node-7'), undefined);
    assert.equal(poolOfNode('core-1', pools, undefined), undefined);
  });
});
