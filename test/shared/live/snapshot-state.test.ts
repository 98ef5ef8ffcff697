import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LookupError } from '../../../shared/errors.ts';
import { snapshotState } from '../../../shared/live/snapshot-state.ts';
import { loadSnapshot, ORBIT, variant } from '../../support/snapshots.ts';

const core = { project: ORBIT.project, ...ORBIT.core };

describe('snapshotState', () => {
  it('lists clusters with their pools and workload pool, as the GKE port does', async () => {
    const state = snapshotState(() => loadSnapshot());
    const clusters = await state.gke.listClusters(ORBIT.project);
    assert.deepEqual(
      clusters.map((c) => [c.name, c.workloadPool ?? null, c.nodePools.length]),
      [
        ['core-1', ORBIT.pool, 3],
        ['edge-1', ORBIT.pool, 1],
        ['sandbox', null, 1],
      ],
    );
    assert.equal(await state.gke.getCluster({ ...core, name: 'gone' }), undefined);
    assert.deepEqual(await state.gke.listClusters('elsewhere'), []);
  });

  it('reads the snapshot anew on every call, so an evolving organization is seen as it is now', async () => {
    let snapshot = loadSnapshot();
    const state = snapshotState(() => snapshot);
    assert.equal((await state.iam.getServiceAccount(ORBIT.cart))?.disabled, false);
    snapshot = variant((s) => {
      const gsa = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.cart);
      if (gsa) gsa.disabled = true;
    });
    assert.equal((await state.iam.getServiceAccount(ORBIT.cart))?.disabled, true);
  });

  it('answers a deleted or unknown GSA as IAM does: absent, and a 404 for its policy', async () => {
    const state = snapshotState(() =>
      variant((s) => {
        const gsa = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.cart);
        if (gsa) gsa.deleted = true;
      }),
    );
    assert.equal(await state.iam.getServiceAccount(ORBIT.cart), undefined);
    await assert.rejects(
      state.iam.getServiceAccountPolicy(ORBIT.cart),
      (error: unknown) => error instanceof LookupError && error.status === 404 && !error.retryable,
    );
    const listed = await state.iam.listServiceAccounts(ORBIT.project);
    assert.ok(!listed.some((gsa) => gsa.email === ORBIT.cart));
  });

  it('filters pods by namespace and service account, and names namespaces with their own label', async () => {
    const state = snapshotState(() => loadSnapshot());
    const cluster = await state.gke.getCluster(core);
    assert.ok(cluster);
    const all = await state.kube.listPods(cluster);
    const cart = await state.kube.listPods(cluster, { namespace: 'checkout', serviceAccountName: 'cart' });
    assert.ok(cart.length > 0 && cart.length < all.length);
    assert.ok(cart.every((pod) => pod.namespace === 'checkout' && pod.serviceAccountName === 'cart'));
    const namespaces = await state.kube.listNamespaces(cluster);
    for (const namespace of namespaces) {
      assert.equal(namespace.labels['kubernetes.io/metadata.name'], namespace.name);
    }
  });

  it('fails with a 404 for a cluster the snapshot does not have', async () => {
    const state = snapshotState(() => loadSnapshot());
    await assert.rejects(
      state.kube.listServiceAccounts({ ...core, name: 'gone', nodePools: [] }),
      (error: unknown) =>
        error instanceof LookupError && error.status === 404 && /core|gone/.test(error.message),
    );
  });

  it('answers what the snapshot does not know as a failed read, never as absent', async () => {
    const state = snapshotState(() =>
      variant((s) => {
        const project = s.projects[0];
        const edge = project?.clusters.find((c) => c.name === 'edge-1');
        const gsa = project?.serviceAccounts.find((g) => g.email === ORBIT.indexer);
        assert.ok(edge && gsa);
        edge.incomplete = 'pods: 503 unavailable';
        gsa.incomplete = 'IAM policy: 503 unavailable';
      }),
    );
    const edge = await state.gke.getCluster({ project: ORBIT.project, ...ORBIT.edge });
    assert.ok(edge, 'GKE described the cluster: only its Kubernetes objects are unknown');
    const unread = (error: unknown) =>
      error instanceof LookupError && error.status === undefined && /read only in part/.test(error.message);
    await assert.rejects(state.kube.listPods(edge), unread);
    await assert.rejects(state.kube.getServiceAccount(edge, 'checkout', 'cart'), unread);
    await assert.rejects(state.iam.getServiceAccountPolicy(ORBIT.indexer), unread);
    await assert.rejects(
      state.iam.getServiceAccount('cart@orbit-shared-iam.iam.gserviceaccount.com'),
      (error: unknown) =>
        error instanceof LookupError && /which the inventory does not cover/.test(error.message),
    );
    assert.equal(await state.iam.getServiceAccount('gone@orbit-prod.iam.gserviceaccount.com'), undefined);
  });
});
