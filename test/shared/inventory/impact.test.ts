import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KsaRef, WorkloadRef } from '../../../shared/domain/finding.ts';
import {
  boundSubjects,
  clustersInPool,
  findCluster,
  findGsa,
  findProject,
  type Impact,
  impactOfCluster,
  impactOfGsa,
  impactOfNodePool,
  impactOfPolicies,
  impactOfSubject,
  isWorkloadIdentityGsa,
  ksaInPool,
  policyBinds,
  usesWorkloadIdentity,
  workloadsOf,
} from '../../../shared/inventory/impact.ts';
import { networkPolicySchema } from '../../../shared/inventory/network-policy-schema.ts';
import type { IamPolicy, SnapshotPod } from '../../../shared/inventory/snapshot.ts';
import { clusterOf, loadSnapshot, ORBIT, variant } from '../../support/snapshots.ts';

/** `ns/name` of each KSA, sorted: impact lists are compared as sets. */
const ksas = (list: readonly KsaRef[]) => list.map((k) => `${k.namespace}/${k.name}`).sort();
/** `cluster ns Kind/name @pool ×pods`, sorted. */
const workloads = (list: readonly WorkloadRef[]) =>
  list.map((w) => `${w.cluster} ${w.namespace} ${w.kind}/${w.name} @${w.nodePool ?? '-'} ×${w.pods}`).sort();
const shape = (impact: Impact) => ({ ksas: ksas(impact.ksas), workloads: workloads(impact.workloads) });

const snapshot = loadSnapshot();
const core = clusterOf(snapshot, 'core-1');
const edge = clusterOf(snapshot, 'edge-1');
const sandbox = clusterOf(snapshot, 'sandbox');
const POOL = ORBIT.pool;

describe('lookups', () => {
  test('findProject, findCluster by location and name', () => {
    assert.equal(findProject(snapshot, 'orbit-prod')?.projectNumber, '731604512345');
    assert.equal(findProject(snapshot, 'nope'), undefined);
    assert.equal(findCluster(snapshot, 'orbit-prod', ORBIT.core), core);
    assert.equal(findCluster(snapshot, 'orbit-prod', { location: 'us-east1', name: 'core-1' }), undefined);
    assert.equal(findCluster(snapshot, 'other-prod', ORBIT.core), undefined);
    assert.equal(findCluster(undefined, 'orbit-prod', ORBIT.core), undefined);
  });

  test('findGsa by email, else by unique id', () => {
    assert.equal(findGsa(snapshot, ORBIT.cart)?.uniqueId, '104200000000000000011');
    assert.equal(findGsa(snapshot, undefined, '104200000000000000012')?.email, ORBIT.indexer);
    assert.equal(findGsa(snapshot, 'ghost@orbit-prod.iam.gserviceaccount.com'), undefined);
    assert.equal(findGsa(snapshot, undefined, '999'), undefined);
    assert.equal(findGsa(snapshot, undefined), undefined);
    assert.equal(findGsa(undefined, ORBIT.cart), undefined);
  });

  test('clustersInPool holds the WI clusters of the pool only', () => {
    assert.deepEqual(
      clustersInPool(snapshot, POOL).map(({ cluster }) => cluster.name),
      ['core-1', 'edge-1'],
    );
    assert.deepEqual(clustersInPool(snapshot, 'other-prod.svc.id.goog'), []);
  });

  test('ksaInPool looks in every cluster of the pool', () => {
    assert.equal(ksaInPool(snapshot, { workloadPool: POOL, namespace: 'checkout', name: 'cart' }), true);
    assert.equal(ksaInPool(snapshot, { workloadPool: POOL, namespace: 'search', name: 'query' }), true);
    assert.equal(ksaInPool(snapshot, { workloadPool: POOL, namespace: 'checkout', name: 'ghost' }), false);
    // sandbox has default/default but is in no pool.
    assert.equal(ksaInPool(snapshot, { workloadPool: POOL, namespace: 'default', name: 'default' }), false);
  });
});

describe('member forms in a GSA policy', () => {
  const policy: IamPolicy = {
    bindings: [
      {
        role: 'roles/iam.workloadIdentityUser',
        members: [
          ORBIT.classic('checkout', 'cart'),
          ORBIT.principal('search', 'indexer'),
          ORBIT.principalSet('reports'),
          'principalSet://iam.googleapis.com/projects/731604512345/locations/global/workloadIdentityPools/github-pool/attribute.repository/acme/app',
          `deleted:${ORBIT.classic('checkout', 'old')}?uid=1`,
          'user:alice@example.com',
        ],
      },
      { role: 'roles/iam.serviceAccountTokenCreator', members: [ORBIT.classic('checkout', 'pricing')] },
    ],
  };

  test('boundSubjects keeps GKE workload members of roles/iam.workloadIdentityUser', () => {
    assert.deepEqual(boundSubjects(policy), [
      { workloadPool: POOL, namespace: 'checkout', name: 'cart' },
      { workloadPool: POOL, namespace: 'search', name: 'indexer' },
      { workloadPool: POOL, namespace: 'reports' },
    ]);
    assert.deepEqual(boundSubjects(undefined), []);
  });

  const cases: [string, string, string, boolean][] = [
    ['classic', 'checkout', 'cart', true],
    ['principal://', 'search', 'indexer', true],
    ['principalSet namespace: any KSA of it', 'reports', 'nightly', true],
    ['another role does not bind', 'checkout', 'pricing', false],
    ['a deleted: member does not bind', 'checkout', 'old', false],
    ['a KSA named by no member', 'search', 'query', false],
  ];
  for (const [name, namespace, ksa, want] of cases) {
    test(`policyBinds: ${name}`, () => assert.equal(policyBinds(policy, POOL, namespace, ksa), want));
  }
  test('policyBinds: the same names in another pool', () =>
    assert.equal(policyBinds(policy, 'other-prod.svc.id.goog', 'checkout', 'cart'), false));
});

describe('usesWorkloadIdentity', () => {
  const ksa = (cluster: typeof core, ns: string, name: string) => {
    const found = cluster.serviceAccounts.find((k) => k.namespace === ns && k.name === name);
    assert.ok(found, `${ns}/${name} is in ${cluster.name}`);
    return found;
  };
  const cases: [string, typeof core, string, string, boolean][] = [
    ['annotated (classic binding)', core, 'checkout', 'cart', true],
    ['annotated (principal:// binding)', core, 'search', 'indexer', true],
    ['bound through a namespace principalSet only, no annotation', core, 'search', 'query', true],
    ['neither annotated nor bound', core, 'checkout', 'default', false],
    ['annotated in the second cluster of the pool', edge, 'checkout', 'cart', true],
    ['a cluster without WI', sandbox, 'default', 'default', false],
  ];
  for (const [name, cluster, ns, ksaName, want] of cases) {
    test(name, () => assert.equal(usesWorkloadIdentity(snapshot, cluster, ksa(cluster, ns, ksaName)), want));
  }
  test('an annotated KSA of a cluster without WI does not use it', () => {
    const annotated = {
      namespace: 'default',
      name: 'x',
      annotations: { 'iam.gke.io/gcp-service-account': ORBIT.cart },
    };
    assert.equal(usesWorkloadIdentity(snapshot, sandbox, annotated), false);
  });
  test('an empty annotation names no GSA', () => {
    const empty = { namespace: 'checkout', name: 'x', annotations: { 'iam.gke.io/gcp-service-account': '' } };
    assert.equal(usesWorkloadIdentity(snapshot, core, empty), false);
  });
});

describe('workloadsOf', () => {
  const pod = (name: string, extra: Partial<SnapshotPod>): SnapshotPod => ({
    namespace: 'checkout',
    name,
    labels: {},
    serviceAccountName: 'cart',
    env: [],
    ...extra,
  });

  test('groups pods by owner and node pool, counting them', () => {
    const pods = [
      pod('a', { owner: { kind: 'Deployment', name: 'cart' }, nodePool: 'general' }),
      pod('b', { owner: { kind: 'Deployment', name: 'cart' }, nodePool: 'general' }),
      pod('c', { owner: { kind: 'Deployment', name: 'cart' }, nodePool: 'spot' }),
      pod('d', { owner: { kind: 'StatefulSet', name: 'cart' }, nodePool: 'general' }),
      pod('e', { namespace: 'search', owner: { kind: 'Deployment', name: 'cart' }, nodePool: 'general' }),
      pod('bare', {}),
    ];
    assert.deepEqual(workloadsOf(core, pods), [
      {
        cluster: 'core-1',
        namespace: 'checkout',
        kind: 'Deployment',
        name: 'cart',
        nodePool: 'general',
        pods: 2,
      },
      {
        cluster: 'core-1',
        namespace: 'checkout',
        kind: 'Deployment',
        name: 'cart',
        nodePool: 'spot',
        pods: 1,
      },
      {
        cluster: 'core-1',
        namespace: 'checkout',
        kind: 'StatefulSet',
        name: 'cart',
        nodePool: 'general',
        pods: 1,
      },
      {
        cluster: 'core-1',
        namespace: 'search',
        kind: 'Deployment',
        name: 'cart',
        nodePool: 'general',
        pods: 1,
      },
      // A pod with no owner is its own workload; with no known pool the field is omitted.
      { cluster: 'core-1', namespace: 'checkout', kind: 'Pod', name: 'bare', pods: 1 },
    ]);
  });

  test('no pods, no workloads', () => assert.deepEqual(workloadsOf(core, []), []));
});

describe('impactOfSubject', () => {
  test('a named KSA fans out over both clusters of the pool', () => {
    assert.deepEqual(
      shape(impactOfSubject(snapshot, { workloadPool: POOL, namespace: 'checkout', name: 'cart' })),
      {
        ksas: ['checkout/cart'],
        workloads: [
          'core-1 checkout Deployment/cart @general ×1',
          'core-1 checkout Deployment/cart @spot ×1',
          'edge-1 checkout Deployment/cart @default-pool ×2',
        ],
      },
    );
  });

  test('the KSA is listed once although two clusters hold it', () => {
    const impact = impactOfSubject(snapshot, { workloadPool: POOL, namespace: 'checkout', name: 'cart' });
    assert.deepEqual(impact.ksas, [{ workloadPool: POOL, namespace: 'checkout', name: 'cart' }]);
  });

  test('a KSA in one cluster only', () => {
    assert.deepEqual(
      shape(impactOfSubject(snapshot, { workloadPool: POOL, namespace: 'checkout', name: 'pricing' })),
      {
        ksas: ['checkout/pricing'],
        workloads: ['core-1 checkout StatefulSet/pricing @highmem ×1'],
      },
    );
  });

  test('a KSA the inventory does not hold is still named, with no workloads', () => {
    assert.deepEqual(
      shape(impactOfSubject(snapshot, { workloadPool: POOL, namespace: 'checkout', name: 'ghost' })),
      {
        ksas: ['checkout/ghost'],
        workloads: [],
      },
    );
  });

  test('a namespace with a GSA: its KSAs annotated with that GSA', () => {
    const subject = { workloadPool: POOL, namespace: 'checkout' };
    assert.deepEqual(shape(impactOfSubject(snapshot, subject, ORBIT.cart)), {
      ksas: ['checkout/cart', 'checkout/pricing'],
      workloads: [
        'core-1 checkout Deployment/cart @general ×1',
        'core-1 checkout Deployment/cart @spot ×1',
        'core-1 checkout StatefulSet/pricing @highmem ×1',
        'edge-1 checkout Deployment/cart @default-pool ×2',
      ],
    });
    assert.deepEqual(shape(impactOfSubject(snapshot, subject, ORBIT.indexer)), { ksas: [], workloads: [] });
  });

  test('a pool with no inventoried cluster hits nothing known', () => {
    const impact = impactOfSubject(snapshot, {
      workloadPool: 'other-prod.svc.id.goog',
      namespace: 'a',
      name: 'b',
    });
    assert.deepEqual(impact, { ksas: [], workloads: [] });
  });
});

describe('impactOfNodePool', () => {
  const cases: [string, string, ReturnType<typeof shape>][] = [
    [
      'spot: cart and indexer pods',
      'spot',
      {
        ksas: ['checkout/cart', 'search/indexer'],
        workloads: ['core-1 checkout Deployment/cart @spot ×1', 'core-1 search CronJob/indexer @spot ×1'],
      },
    ],
    [
      'general: query (bound only) counts, the un-WI toolbox pod does not',
      'general',
      {
        ksas: ['checkout/cart', 'search/query'],
        workloads: [
          'core-1 checkout Deployment/cart @general ×1',
          'core-1 search Deployment/query @general ×1',
        ],
      },
    ],
    [
      'highmem',
      'highmem',
      { ksas: ['checkout/pricing'], workloads: ['core-1 checkout StatefulSet/pricing @highmem ×1'] },
    ],
    ['a pool no pod runs on', 'gpu', { ksas: [], workloads: [] }],
  ];
  for (const [name, pool, want] of cases) {
    test(name, () => assert.deepEqual(shape(impactOfNodePool(snapshot, core, pool)), want));
  }
  test('the other cluster of the pool is untouched', () => {
    assert.deepEqual(shape(impactOfNodePool(snapshot, edge, 'default-pool')), {
      ksas: ['checkout/cart'],
      workloads: ['edge-1 checkout Deployment/cart @default-pool ×2'],
    });
  });
});

describe('impactOfCluster', () => {
  test('every WI KSA, including those used through bindings only, with all their pods', () => {
    assert.deepEqual(shape(impactOfCluster(snapshot, core)), {
      ksas: ['checkout/cart', 'checkout/pricing', 'search/indexer', 'search/query'],
      workloads: [
        'core-1 checkout Deployment/cart @general ×1',
        'core-1 checkout Deployment/cart @spot ×1',
        'core-1 checkout StatefulSet/pricing @highmem ×1',
        'core-1 search CronJob/indexer @spot ×1',
        'core-1 search Deployment/query @general ×1',
      ],
    });
  });

  test('one cluster only: edge-1 shares the pool but not the break', () => {
    assert.deepEqual(shape(impactOfCluster(snapshot, edge)), {
      ksas: ['checkout/cart'],
      workloads: ['edge-1 checkout Deployment/cart @default-pool ×2'],
    });
  });

  test('the pool the cluster had: KSAs are named in it after the cluster left', () => {
    const { workloadPool: _, ...left } = core;
    const impact = impactOfCluster(snapshot, left, POOL);
    assert.equal(impact.ksas.length, 4);
    assert.ok(impact.ksas.every((k) => k.workloadPool === POOL));
  });

  test('a cluster without WI has none', () => {
    assert.deepEqual(impactOfCluster(snapshot, sandbox), { ksas: [], workloads: [] });
    assert.deepEqual(impactOfCluster(snapshot, sandbox, POOL), { ksas: [], workloads: [] });
  });
});

describe('impactOfGsa', () => {
  test('every KSA annotated with it, in every WI cluster', () => {
    assert.deepEqual(shape(impactOfGsa(snapshot, ORBIT.cart)), {
      ksas: ['checkout/cart', 'checkout/pricing'],
      workloads: [
        'core-1 checkout Deployment/cart @general ×1',
        'core-1 checkout Deployment/cart @spot ×1',
        'core-1 checkout StatefulSet/pricing @highmem ×1',
        'edge-1 checkout Deployment/cart @default-pool ×2',
      ],
    });
  });
  test('indexer@', () => {
    assert.deepEqual(shape(impactOfGsa(snapshot, ORBIT.indexer)), {
      ksas: ['search/indexer'],
      workloads: ['core-1 search CronJob/indexer @spot ×1'],
    });
  });
  test('a GSA bound but named by no annotation, and one unused, hit no KSA', () => {
    assert.deepEqual(impactOfGsa(snapshot, ORBIT.reports), { ksas: [], workloads: [] });
    assert.deepEqual(impactOfGsa(snapshot, ORBIT.deployer), { ksas: [], workloads: [] });
  });
  test('annotations in a cluster without WI do not count', () => {
    const annotatedSandbox = variant((s) => {
      const ksa = clusterOf(s, 'sandbox').serviceAccounts[0];
      if (ksa) ksa.annotations['iam.gke.io/gcp-service-account'] = ORBIT.deployer;
    });
    assert.deepEqual(impactOfGsa(annotatedSandbox, ORBIT.deployer), { ksas: [], workloads: [] });
  });
});

describe('isWorkloadIdentityGsa', () => {
  const cases: [string, string, boolean][] = [
    ['annotated and bound', ORBIT.cart, true],
    ['bound through a namespace principalSet, annotated nowhere', ORBIT.reports, true],
    ['no binding, no annotation', ORBIT.deployer, false],
    ['unknown', 'ghost@orbit-prod.iam.gserviceaccount.com', false],
  ];
  for (const [name, gsa, want] of cases) {
    test(name, () => assert.equal(isWorkloadIdentityGsa(snapshot, gsa), want));
  }
});

describe('impactOfPolicies', () => {
  const policy = (name: string, spec: Record<string, unknown>) =>
    networkPolicySchema.parse({ metadata: { name, namespace: 'checkout' }, spec });
  const denyAll = policy('deny-all', { podSelector: {}, policyTypes: ['Egress'] });
  const webEgress = core.networkPolicies[0];
  assert.ok(webEgress);

  test('the fixture web-egress policy lets cart reach the metadata server', () => {
    assert.deepEqual(impactOfPolicies(snapshot, core, 'checkout', [webEgress]), {
      ksas: [],
      workloads: [],
      policies: [],
    });
  });

  test('a default deny cuts every WI pod of the namespace, not the un-WI toolbox', () => {
    const impact = impactOfPolicies(snapshot, core, 'checkout', [denyAll]);
    assert.deepEqual(shape(impact), {
      ksas: ['checkout/cart', 'checkout/pricing'],
      workloads: [
        'core-1 checkout Deployment/cart @general ×1',
        'core-1 checkout Deployment/cart @spot ×1',
        'core-1 checkout StatefulSet/pricing @highmem ×1',
      ],
    });
    assert.deepEqual(impact.policies, ['deny-all']);
  });

  test('additive: web-egress still serves cart beside a default deny', () => {
    const impact = impactOfPolicies(snapshot, core, 'checkout', [webEgress, denyAll]);
    assert.deepEqual(shape(impact), {
      ksas: ['checkout/pricing'],
      workloads: ['core-1 checkout StatefulSet/pricing @highmem ×1'],
    });
    assert.deepEqual(impact.policies, ['deny-all']);
  });

  test('pods of other namespaces are not judged', () => {
    assert.deepEqual(impactOfPolicies(snapshot, core, 'search', [denyAll]), {
      ksas: [],
      workloads: [],
      policies: [],
    });
  });

  test('search: query is WI through its binding only and is cut off too', () => {
    const searchDeny = networkPolicySchema.parse({
      metadata: { name: 'deny', namespace: 'search' },
      spec: { podSelector: {}, policyTypes: ['Egress'] },
    });
    assert.deepEqual(shape(impactOfPolicies(snapshot, core, 'search', [searchDeny])), {
      ksas: ['search/indexer', 'search/query'],
      workloads: ['core-1 search CronJob/indexer @spot ×1', 'core-1 search Deployment/query @general ×1'],
    });
  });
});
