import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LINK, type LinkState } from '../../../shared/chain/link.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { readSnapshotFile } from '../../../shared/live/snapshot-file.ts';
import { chainState, inventoryChain } from '../../../shared/status/chain.ts';
import { FIXTURES } from '../../support/paths.ts';

const ORG = readSnapshotFile(join(FIXTURES, 'snapshot.json'));

/** orbit-prod's core-1, changed by `edit` on a copy. */
function chainOf(namespace: string, name: string, edit: (snapshot: Snapshot) => void = () => {}) {
  const snapshot = structuredClone(ORG);
  edit(snapshot);
  const project = snapshot.projects[0];
  const cluster = project?.clusters.find((c) => c.name === 'core-1');
  assert.ok(project && cluster);
  return inventoryChain(snapshot, project, cluster, namespace, name);
}

/** The links by name, as the status list labels them. */
const NAMES = ['cluster', 'node-pool', 'annotation', 'gsa', 'binding', 'egress', 'pods'] as const;
type ChainLinkName = (typeof NAMES)[number];
const NUMBERS: Record<ChainLinkName, number> = {
  cluster: LINK.cluster,
  'node-pool': LINK.nodePools,
  annotation: LINK.annotation,
  gsa: LINK.gsa,
  binding: LINK.binding,
  egress: LINK.egress,
  pods: LINK.keyFile,
};
const linkOf = (chain: ReturnType<typeof chainOf>, name: ChainLinkName) =>
  chain.links.find((l) => l.link === NUMBERS[name]);

function states(chain: ReturnType<typeof chainOf>): Record<ChainLinkName, LinkState> {
  return Object.fromEntries(NAMES.map((name) => [name, linkOf(chain, name)?.status])) as Record<
    ChainLinkName,
    LinkState
  >;
}

const core = (s: Snapshot) => s.projects[0]?.clusters.find((c) => c.name === 'core-1');
const gsa = (s: Snapshot, email: string) => s.projects[0]?.serviceAccounts.find((g) => g.email === email);

describe('inventoryChain: each link of a KSA judged against the last inventory', () => {
  it('finds every link of checkout/cart healthy', () => {
    const chain = chainOf('checkout', 'cart');
    assert.equal(chainState(chain), 'ok');
    assert.equal(chain.gsa, 'cart@orbit-prod.iam.gserviceaccount.com');
    assert.equal(chain.pods, 2);
    assert.deepEqual(states(chain), {
      cluster: 'ok',
      'node-pool': 'ok',
      annotation: 'ok',
      gsa: 'ok',
      binding: 'ok',
      egress: 'ok',
      pods: 'ok',
    });
  });

  it('takes a KSA its namespace-wide principalSet covers, unannotated, for healthy (as the sweep does)', () => {
    const chain = chainOf('search', 'query');
    assert.equal(chainState(chain), 'ok');
    assert.equal(chain.gsa, 'reports@orbit-prod.iam.gserviceaccount.com');
    assert.match(
      linkOf(chain, 'annotation')?.brief ?? '',
      /names no GSA; reports@orbit-prod\.iam\.gserviceaccount\.com binds its whole namespace/,
    );
  });

  it('takes a KSA a GSA binds by name as a principal, unannotated, for broken (as the sweep and diagnose do)', () => {
    const chain = chainOf('search', 'indexer', (s) => {
      const indexer = core(s)?.serviceAccounts.find((k) => k.name === 'indexer');
      if (indexer) indexer.annotations = {};
    });
    const annotation = linkOf(chain, 'annotation');
    assert.equal(annotation?.status, 'broken');
    assert.match(annotation?.brief ?? '', /although indexer@orbit-prod\.iam\.gserviceaccount\.com binds it/);
  });

  const breaks: [string, string, (s: Snapshot) => void, ChainLinkName, RegExp][] = [
    [
      'the binding removed',
      'cart',
      (s) => {
        const g = gsa(s, 'cart@orbit-prod.iam.gserviceaccount.com');
        if (g) g.iamPolicy.bindings = [];
      },
      'binding',
      /not granted to serviceAccount:orbit-prod\.svc\.id\.goog\[checkout\/cart\]/,
    ],
    [
      'the GSA disabled',
      'cart',
      (s) => {
        const g = gsa(s, 'cart@orbit-prod.iam.gserviceaccount.com');
        if (g) g.disabled = true;
      },
      'gsa',
      /is disabled/,
    ],
    [
      'the GSA deleted',
      'cart',
      (s) => {
        const p = s.projects[0];
        if (p) p.serviceAccounts = p.serviceAccounts.filter((g) => !g.email.startsWith('cart@'));
      },
      'gsa',
      /does not exist/,
    ],
    [
      'a pool of its pods on GCE_METADATA',
      'cart',
      (s) => {
        const pool = core(s)?.nodePools.find((p) => p.name === 'spot');
        if (pool) pool.workloadMetadataMode = 'GCE_METADATA';
      },
      'node-pool',
      /spot \(GCE_METADATA\): pods there act as the node's service account/,
    ],
    [
      'the annotation removed',
      'cart',
      (s) => {
        const ksa = core(s)?.serviceAccounts.find((k) => k.name === 'cart');
        if (ksa) ksa.annotations = {};
      },
      'annotation',
      /no iam\.gke\.io\/gcp-service-account annotation although cart@orbit-prod\.iam\.gserviceaccount\.com binds it/,
    ],
    [
      'a default-deny egress policy',
      'cart',
      (s) => {
        // Policies add up: the namespace's own policy (which allows the metadata server) goes.
        const c = core(s);
        if (c)
          c.networkPolicies = [
            {
              metadata: { name: 'deny-all', namespace: 'checkout' },
              spec: { podSelector: {}, policyTypes: ['Egress'] },
            } as never,
          ];
      },
      'egress',
      /deny-all blocks TCP 80, 988 to 169\.254\.169\.254 for 2 of 2 pods/,
    ],
    [
      'the cluster off Workload Identity',
      'cart',
      (s) => {
        const c = core(s);
        if (c) delete c.workloadPool;
      },
      'cluster',
      /Workload Identity is off/,
    ],
    ['a key file', 'indexer', () => {}, 'pods', /1 of 1 set GOOGLE_APPLICATION_CREDENTIALS/],
  ];
  for (const [name, ksa, edit, link, detail] of breaks) {
    it(`finds ${name} (${link})`, () => {
      const chain = chainOf(ksa === 'indexer' ? 'search' : 'checkout', ksa, edit);
      assert.equal(chainState(chain), 'broken');
      const broken = linkOf(chain, link);
      assert.equal(broken?.status, 'broken', JSON.stringify(chain.links));
      assert.match(broken?.brief ?? '', detail);
    });
  }

  it('calls a GSA of a project the inventory does not cover unknown, never healthy', () => {
    const chain = chainOf('checkout', 'cart', (s) => {
      const ksa = core(s)?.serviceAccounts.find((k) => k.name === 'cart');
      if (ksa)
        ksa.annotations = { 'iam.gke.io/gcp-service-account': 'cart@other-project.iam.gserviceaccount.com' };
    });
    assert.equal(chainState(chain), 'unknown');
    assert.deepEqual(
      NAMES.filter((name) => linkOf(chain, name)?.status === 'unknown'),
      ['gsa', 'binding'],
    );
  });

  it('judges a KSA the cluster does not have as broken, naming it', () => {
    const chain = chainOf('payments', 'api');
    assert.equal(chain.exists, false);
    assert.match(linkOf(chain, 'annotation')?.brief ?? '', /no KSA payments\/api in this cluster/);
    assert.equal(states(chain).egress, 'not-applicable');
  });
});
