import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { readSnapshotFile } from '../../../shared/live/snapshot-file.ts';
import { resolvePod } from '../../../shared/symptoms/resolve.ts';
import { FIXTURES } from '../../support/paths.ts';

const snapshot = readSnapshotFile(join(FIXTURES, 'snapshot.json'));
const CORE_1 = { location: 'europe-west4', name: 'core-1' };
const ref = (namespace: string, pod: string, cluster = CORE_1) => ({
  project: 'orbit-prod',
  cluster,
  namespace,
  pod,
});

describe('resolvePod', () => {
  it('finds a pod of the inventory: its KSA, the GSA the KSA names, its owner and node pool', () => {
    assert.deepEqual(resolvePod(snapshot, ref('checkout', 'cart-6d8-b')), {
      ksa: 'cart',
      gsa: 'cart@orbit-prod.iam.gserviceaccount.com',
      workloadPool: 'orbit-prod.svc.id.goog',
      owner: { kind: 'Deployment', name: 'cart' },
      nodePool: 'spot',
      match: 'pod',
    });
  });

  it('finds a new pod of a ReplicaSet through its siblings, without claiming their node pool', () => {
    assert.deepEqual(resolvePod(snapshot, ref('checkout', 'cart-6d8-zq9x1')), {
      ksa: 'cart',
      gsa: 'cart@orbit-prod.iam.gserviceaccount.com',
      workloadPool: 'orbit-prod.svc.id.goog',
      owner: { kind: 'Deployment', name: 'cart' },
      match: 'sibling',
    });
  });

  it('finds a StatefulSet ordinal the inventory has not seen yet', () => {
    assert.equal(resolvePod(snapshot, ref('checkout', 'pricing-3'))?.ksa, 'pricing');
  });

  it("finds a CronJob's next run through its owner", () => {
    const found = resolvePod(snapshot, ref('search', 'indexer-29412345-k2l7p'));
    assert.equal(found?.ksa, 'indexer');
    assert.equal(found?.match, 'owner');
  });

  it('finds a pod of a new ReplicaSet of the same Deployment through its owner', () => {
    const found = resolvePod(snapshot, ref('checkout', 'cart-7f4c9d-abcde'));
    assert.equal(found?.ksa, 'cart');
    assert.equal(found?.match, 'owner');
  });

  it('claims nothing for an unknown pod, namespace or cluster', () => {
    assert.equal(resolvePod(snapshot, ref('checkout', 'payments-1a2b3c-xyz')), undefined);
    assert.equal(resolvePod(snapshot, ref('payments', 'cart-6d8-a')), undefined);
    assert.equal(
      resolvePod(snapshot, ref('checkout', 'cart-6d8-a', { location: 'us-east1', name: 'core-1' })),
      undefined,
    );
  });

  it('claims nothing when the candidates disagree on the KSA', () => {
    const split: Snapshot = structuredClone(snapshot);
    const cluster = split.projects[0]?.clusters[0];
    assert.ok(cluster);
    cluster.pods.push({
      namespace: 'checkout',
      name: 'cart-6d8-c',
      labels: {},
      serviceAccountName: 'default',
      owner: { kind: 'Deployment', name: 'cart' },
      env: [],
    });
    assert.equal(resolvePod(split, ref('checkout', 'cart-6d8-new')), undefined);
    assert.equal(resolvePod(split, ref('checkout', 'cart-6d8-c'))?.ksa, 'default');
  });

  it('names no GSA for a KSA without the annotation', () => {
    const found = resolvePod(snapshot, ref('search', 'query-1'));
    assert.equal(found?.ksa, 'query');
    assert.equal(found?.gsa, undefined);
  });
});
