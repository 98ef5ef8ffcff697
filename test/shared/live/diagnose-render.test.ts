import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LookupError } from '../../../shared/errors.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { type DiagnoseTarget, diagnose } from '../../../shared/live/diagnose.ts';
import { renderChainText } from '../../../shared/live/diagnose-render.ts';
import { snapshotState } from '../../../shared/live/snapshot-state.ts';
import { clusterOf, loadSnapshot, ORBIT, variant } from '../../support/snapshots.ts';

const CART: DiagnoseTarget = {
  project: ORBIT.project,
  cluster: ORBIT.core,
  namespace: 'checkout',
  name: 'cart',
};
const NOW = () => new Date('2026-11-29T12:00:00Z');

async function textOf(snapshot: Snapshot, target = CART) {
  return renderChainText(
    await diagnose(
      snapshotState(() => snapshot),
      target,
      { now: NOW },
    ),
  );
}

describe('renderChainText', () => {
  it('a healthy chain: a header, a ✓ line per link in order, the pods, the verdict', async () => {
    const lines = (await textOf(loadSnapshot())).trimEnd().split('\n');
    assert.equal(
      lines[0],
      'Workload Identity chain of checkout/cart in orbit-prod/europe-west4/core-1 (checked 2026-11-29T12:00:00.000Z)',
    );
    assert.deepEqual(
      lines.slice(1, 8).map((line) => line.slice(0, 4)),
      ['✓ 1.', '✓ 2.', '✓ 3.', '✓ 4.', '✓ 5.', '✓ 6.', '✓ 7.'],
    );
    assert.equal(
      lines[3],
      '✓ 3. KSA exists and names its GSA: checkout/cart names cart@orbit-prod.iam.gserviceaccount.com (iam.gke.io/gcp-service-account)',
    );
    assert.equal(
      lines[8],
      'Pods: cart-6d8-a (Deployment cart) on general [GKE_METADATA], cart-6d8-b (Deployment cart) on spot [GKE_METADATA]',
    );
    assert.equal(lines[9], 'Verdict: healthy: every link of checkout/cart in core-1 holds');
    assert.equal(lines.length, 10);
  });

  it('a broken link: ✗ with its kind, the repair titles and commands indented under it', async () => {
    const text = await textOf(
      variant((s) => {
        const pool = clusterOf(s, 'core-1').nodePools.find((p) => p.name === 'spot');
        if (pool) pool.workloadMetadataMode = 'GCE_METADATA';
      }),
    );
    const lines = text.split('\n');
    const at = lines.findIndex((line) => line.startsWith('✗ 2.'));
    assert.ok(at > 0, text);
    assert.match(lines[at] ?? '', /cart-6d8-b on spot \(GCE_METADATA\).*\[nodepool-metadata-disabled\]$/);
    assert.equal(lines[at + 1], '    Put spot back on the GKE metadata server:');
    assert.equal(
      lines[at + 2],
      '      gcloud container node-pools update spot --cluster core-1 --location europe-west4 --project orbit-prod --workload-metadata=GKE_METADATA',
    );
    assert.ok(lines[at + 3]?.startsWith('✓ 3.'));
    assert.match(
      text,
      /\nVerdict: broken: link 2 \(nodepool-metadata-disabled\) of checkout\/cart in core-1\n$/,
    );
  });

  it('a multi-line repair (a heredoc) keeps its lines as they are, so it still pastes into a shell', async () => {
    const text = await textOf(
      variant((s) => {
        clusterOf(s, 'core-1').networkPolicies.push({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'deny-egress', namespace: 'checkout' },
          spec: { podSelector: {}, policyTypes: ['Egress'] },
        });
      }),
      { ...CART, name: 'pricing' },
    );
    assert.match(text, /\n {6}kubectl apply -f - <<'EOF'\napiVersion: networking\.k8s\.io\/v1\n/);
    assert.match(text, /\n {8}cidr: 169\.254\.169\.254\/32\n/);
    assert.match(text, /\nEOF\n✓ 7\./);
    for (const line of text.split('\n')) assert.doesNotMatch(line, /\s$/, 'no trailing spaces');
  });

  it('an unknown link shows ? and names the missing permission; not applicable shows –', async () => {
    const snapshot = variant((s) => {
      const cluster = clusterOf(s, 'core-1');
      cluster.pods = cluster.pods.filter((p) => p.serviceAccountName !== 'cart');
    });
    const state = snapshotState(() => snapshot);
    state.iam.getServiceAccountPolicy = async () => {
      throw new LookupError('denied', { api: 'iam', status: 403, retryable: false });
    };
    const text = renderChainText(await diagnose(state, CART, { now: NOW }));
    assert.match(
      text,
      /\n\? 5\. GSA's policy lets the KSA act as it: could not check: wi-sentinel lacks iam\.serviceAccounts\.getIamPolicy\n/,
    );
    assert.match(text, /\n– 6\. pods reach the metadata server: no running pod uses checkout\/cart\n/);
    assert.doesNotMatch(text, /\nPods:/);
    assert.match(
      text,
      /\nVerdict: not verified: could not check link 5 of checkout\/cart in core-1; nothing checked is broken\n$/,
    );
    assert.doesNotMatch(text, /✓ 5/);
  });
});
