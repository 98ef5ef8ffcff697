import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LookupError } from '../../../shared/errors.ts';
import type { LiveState } from '../../../shared/gcp/ports.ts';
import { snapshotState } from '../../../shared/live/snapshot-state.ts';
import type { Symptom } from '../../../shared/symptoms/classify.ts';
import { createIdentifier } from '../../../shared/symptoms/identity.ts';
import { clusterOf, loadSnapshot, variant } from '../../support/snapshots.ts';

/** A Deployment created after the last sweep: the inventory knows none of its pods. */
const live = variant((snapshot) => {
  clusterOf(snapshot, 'core-1').pods.push({
    namespace: 'checkout',
    name: 'billing-7f9c4-abc12',
    labels: { app: 'billing' },
    serviceAccountName: 'pricing',
    nodePool: 'highmem',
    owner: { kind: 'Deployment', name: 'billing' },
    env: [],
  });
});
const inventory = loadSnapshot();

function failure(pod: string, extra: Partial<Symptom> = {}): Symptom {
  return {
    kind: 'token-denied',
    library: 'python',
    signature: 'python/token-denied',
    project: 'orbit-prod',
    cluster: { location: 'europe-west4', name: 'core-1' },
    namespace: 'checkout',
    pod,
    container: 'app',
    node: 'gke-core-1-highmem-1a2b3c4d-x9k2',
    message: 'm',
    time: '2026-11-28T10:02:00Z',
    ...extra,
  };
}

/** Live state read from a snapshot, every Kubernetes and GKE read counted (and failing when told to). */
function counted(state: LiveState) {
  const calls: string[] = [];
  let failing = false;
  const wrapped: LiveState = {
    ...state,
    gke: {
      ...state.gke,
      getCluster: (key) => {
        calls.push('getCluster');
        return state.gke.getCluster(key);
      },
    },
    kube: {
      ...state.kube,
      listPods: async (cluster, filter) => {
        calls.push('listPods');
        if (failing)
          throw new LookupError('pods of checkout: HTTP 503', {
            api: 'kubernetes',
            retryable: true,
            status: 503,
          });
        return state.kube.listPods(cluster, filter);
      },
    },
  };
  return { state: wrapped, calls, fail: (value: boolean) => (failing = value) };
}

describe('who a failing pod is', () => {
  it('from the inventory first: no live read for a pod it knows, the pool from the pod', async () => {
    const { state, calls } = counted(snapshotState(() => live));
    const identify = createIdentifier({ live: state });
    const { identity } = await identify(
      failure('pricing-0', { node: 'gke-core-1-spot-0b7d41c2-m2zt' }),
      inventory,
    );
    assert.equal(identity?.ksa, 'pricing');
    assert.equal(identity?.nodePool, 'highmem', 'the pod’s own pool wins over the node name');
    assert.deepEqual(calls, []);
  });

  it('a pod the inventory cannot place is read live, once, and reused', async () => {
    const { state, calls } = counted(snapshotState(() => live));
    let now = 0;
    const identify = createIdentifier({ live: state, now: () => now, cacheMs: 60_000 });
    for (let i = 0; i < 5; i++) {
      const { identity } = await identify(failure('billing-7f9c4-abc12'), inventory);
      assert.deepEqual(identity, {
        ksa: 'pricing',
        workloadPool: 'orbit-prod.svc.id.goog',
        owner: { kind: 'Deployment', name: 'billing' },
        nodePool: 'highmem',
        match: 'pod',
      });
    }
    assert.deepEqual(calls, ['getCluster', 'listPods']);
    now = 60_000;
    await identify(failure('billing-7f9c4-abc12'), inventory);
    assert.deepEqual(calls, ['getCluster', 'listPods', 'getCluster', 'listPods'], 'read again once stale');
  });

  it('a live read that fails is said, the failure still counted under an unknown KSA, and retried next time', async () => {
    const { state, calls, fail } = counted(snapshotState(() => live));
    const errors: string[] = [];
    const identify = createIdentifier({ live: state, onError: (message) => errors.push(message) });
    fail(true);
    const first = await identify(failure('billing-7f9c4-abc12'), inventory);
    assert.deepEqual(first, { nodePool: 'highmem' }, 'the node still names the pool');
    assert.deepEqual(errors, [
      'could not look up pod checkout/billing-7f9c4-abc12: pods of checkout: HTTP 503',
    ]);
    fail(false);
    assert.equal((await identify(failure('billing-7f9c4-abc12'), inventory)).identity?.ksa, 'pricing');
    assert.deepEqual(
      calls.filter((c) => c === 'listPods'),
      ['listPods', 'listPods'],
    );
  });

  it('the metadata server’s own pods speak for the cluster: no KSA, the pool from the node', async () => {
    const identify = createIdentifier();
    const server = failure('gke-metadata-server-x7k2p', {
      library: 'gke-metadata-server',
      namespace: 'kube-system',
    });
    assert.deepEqual(await identify(server, inventory), { nodePool: 'highmem' });
  });
});
