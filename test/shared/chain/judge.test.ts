import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeChain } from '../../../shared/chain/judge.ts';
import type { LinkState } from '../../../shared/chain/link.ts';
import { snapshotFacts } from '../../../shared/chain/snapshot-facts.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { clusterOf, loadSnapshot, ORBIT, variant } from '../../support/snapshots.ts';

/** The chain of `namespace/name` in core-1, judged from the inventory. */
function chainOf(
  snapshot: Snapshot,
  namespace: string,
  name: string,
  cluster: { location: string; name: string } = ORBIT.core,
) {
  return judgeChain(snapshotFacts(snapshot, { project: ORBIT.project, cluster, namespace, name }));
}

const statuses = (chain: ReturnType<typeof chainOf>): LinkState[] => chain.links.map((l) => l.status);

describe('judgeChain: the cases each link owes', () => {
  it('a pod on a pool the cluster does not list leaves link 2 unknown, never ok', () => {
    const snapshot = variant((s) => {
      const pod = clusterOf(s, 'core-1').pods.find((p) => p.name === 'cart-6d8-b');
      assert.ok(pod);
      pod.nodePool = 'retired';
    });
    const chain = chainOf(snapshot, 'checkout', 'cart');
    assert.equal(chain.links[1]?.status, 'unknown');
    assert.match(chain.links[1]?.detail ?? '', /cart-6d8-b on retired, which core-1 does not list/);
    assert.equal(chain.verdict.state, 'unknown');
  });

  it('an unannotated KSA a GSA binds by name and namespace-wide is broken at link 3: it needs the annotation', () => {
    const snapshot = variant((s) => {
      const reports = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.reports);
      reports?.iamPolicy.bindings[0]?.members.push(ORBIT.classic('search', 'query'));
    });
    const link = chainOf(snapshot, 'search', 'query').links[2];
    assert.equal(link?.kind, 'annotation-missing');
    assert.match(
      link?.detail ?? '',
      /although reports@orbit-prod\.iam\.gserviceaccount\.com \(serviceAccount:/,
    );
  });

  it('a project granting the classic member form grants nothing directly; a deleted GSA binds nobody', () => {
    const snapshot = variant((s) => {
      const project = s.projects[0];
      assert.ok(project);
      project.iamPolicy = {
        bindings: [{ role: 'roles/storage.objectViewer', members: [ORBIT.classic('checkout', 'default')] }],
      };
      const cart = project.serviceAccounts.find((g) => g.email === ORBIT.cart);
      if (cart) cart.deleted = true;
      const pricing = clusterOf(s, 'core-1').serviceAccounts.find((k) => k.name === 'pricing');
      if (pricing) pricing.annotations = {};
    });
    assert.equal(chainOf(snapshot, 'checkout', 'default').links[2]?.status, 'broken');
    // cart@ (deleted) bound pricing by name: nothing binds it now, so it is no WI KSA the sweep reports.
    assert.match(
      chainOf(snapshot, 'checkout', 'pricing').links[2]?.detail ?? '',
      /no GSA of orbit-prod binds it/,
    );
  });

  it('a cluster read only in part: links 2 to 7 unknown, link 1 judged from GKE', () => {
    const snapshot = variant((s) => {
      clusterOf(s, 'edge-1').incomplete = 'pods: 503 unavailable';
    });
    const chain = chainOf(snapshot, 'checkout', 'cart', ORBIT.edge);
    assert.deepEqual(statuses(chain), [
      'ok',
      'unknown',
      'unknown',
      'unknown',
      'unknown',
      'unknown',
      'unknown',
    ]);
    assert.match(chain.links[2]?.detail ?? '', /was read only in part \(pods: 503 unavailable\)/);
  });

  it('a GSA read only in part, or of a project the inventory does not cover: links 4 and 5 unknown', () => {
    for (const edit of [
      (s: Snapshot) => {
        const cart = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.cart);
        if (cart) cart.incomplete = 'IAM policy: 403';
      },
      (s: Snapshot) => {
        const ksa = clusterOf(s, 'core-1').serviceAccounts.find((k) => k.name === 'cart');
        if (ksa) ksa.annotations['iam.gke.io/gcp-service-account'] = 'cart@elsewhere.iam.gserviceaccount.com';
      },
    ]) {
      const chain = chainOf(variant(edit), 'checkout', 'cart');
      assert.deepEqual(statuses(chain).slice(3, 5), ['unknown', 'unknown']);
      assert.equal(chain.verdict.healthy, false);
    }
  });

  it('the healthy fixture: every link of checkout/cart holds', () => {
    const chain = chainOf(loadSnapshot(), 'checkout', 'cart');
    assert.equal(chain.verdict.text, 'healthy: every link of checkout/cart in core-1 holds');
  });
});
