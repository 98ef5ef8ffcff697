import { clusterOf, loadSnapshot, ORBIT, variant } from '../../../support/snapshots.ts';
import type { DetectorCase } from './case.ts';
import { cluster } from './events.ts';

const snapshot = loadSnapshot();
const FP = 'cluster-wi-disabled/orbit-prod/europe-west4/core-1';
const REJOIN =
  /^gcloud container clusters update core-1 --location europe-west4 --project orbit-prod --workload-pool=orbit-prod\.svc\.id\.goog$/;
const kind = 'cluster-wi-disabled';

/** core-1 left its pool, as the sweep finds it. */
const coreLeftPool = variant((s) => {
  delete clusterOf(s, 'core-1').workloadPool;
});

/** sandbox (no WI) holds a checkout/cart KSA: cart@ binds that name in the project's pool. */
const sandboxBoundByName = variant((s) => {
  clusterOf(s, 'sandbox').serviceAccounts.push({ namespace: 'checkout', name: 'cart', annotations: {} });
});

/** sandbox holds search/tools: reports@ binds all of search, but names no KSA. */
const sandboxInBoundNamespace = variant((s) => {
  clusterOf(s, 'sandbox').serviceAccounts.push({ namespace: 'search', name: 'tools', annotations: {} });
});

export const CASES: DetectorCase[] = [
  {
    name: 'WI turned off: every WI KSA of the cluster, bound-only ones included',
    kind,
    snapshot,
    event: cluster('update', ORBIT.core, { workloadPool: null }),
    want: [
      {
        status: 'firing',
        severity: 'critical',
        fingerprint: FP,
        cluster: ORBIT.core,
        ksas: ['checkout/cart', 'checkout/pricing', 'search/indexer', 'search/query'],
        workloads: [
          'core-1 checkout Deployment/cart @general ×1',
          'core-1 checkout Deployment/cart @spot ×1',
          'core-1 checkout StatefulSet/pricing @highmem ×1',
          'core-1 search CronJob/indexer @spot ×1',
          'core-1 search Deployment/query @general ×1',
        ],
        summary:
          /^Workload Identity was turned off for cluster core-1 by alice@example\.com: .*\(4 KSAs, 5 pods in 1 cluster\)$/,
        commands: [REJOIN],
      },
    ],
  },
  {
    name: 'WI turned off, no inventory: impact unknown, still critical',
    kind,
    event: cluster('update', ORBIT.core, { workloadPool: null }),
    want: [
      {
        status: 'firing',
        severity: 'critical',
        fingerprint: FP,
        cluster: ORBIT.core,
        ksas: [],
        summary: /^Workload Identity was turned off for cluster core-1 by alice@example\.com: [^(]*$/,
        commands: [REJOIN],
      },
    ],
  },
  {
    name: 'WI turned off for a cluster the inventory does not hold',
    kind,
    snapshot,
    event: cluster('update', { location: 'asia-east1', name: 'new-1' }, { workloadPool: null }),
    want: [
      {
        status: 'firing',
        severity: 'critical',
        fingerprint: 'cluster-wi-disabled/orbit-prod/asia-east1/new-1',
        cluster: { location: 'asia-east1', name: 'new-1' },
        ksas: [],
        summary: /turned off for cluster new-1/,
        commands: [
          /^gcloud container clusters update new-1 --location asia-east1 --project orbit-prod --workload-pool=orbit-prod\.svc\.id\.goog$/,
        ],
      },
    ],
  },
  {
    name: 'the cluster joins its pool again: resolved',
    kind,
    snapshot,
    event: cluster('update', ORBIT.core, { workloadPool: ORBIT.pool }),
    want: [
      {
        status: 'resolved',
        severity: 'critical',
        fingerprint: FP,
        cluster: ORBIT.core,
        ksas: [],
        summary: /^cluster core-1 joined orbit-prod\.svc\.id\.goog again by alice@example\.com$/,
      },
    ],
  },
  {
    name: 'a cluster is deleted, no inventory: resolved',
    kind,
    event: cluster('delete', ORBIT.core),
    want: [
      {
        status: 'resolved',
        severity: 'critical',
        fingerprint: FP,
        cluster: ORBIT.core,
        ksas: [],
        summary: /^cluster core-1 was deleted by alice@example\.com$/,
      },
    ],
  },
  {
    name: 'an update that does not touch the pool',
    kind,
    snapshot,
    event: cluster('update', ORBIT.core),
    want: [],
  },
  {
    name: 'a create is never a break of this kind',
    kind,
    event: cluster('create', ORBIT.core, { workloadPool: null }),
    want: [],
  },
  {
    name: 'turning off WI where it was off already (sandbox)',
    kind,
    snapshot,
    event: cluster('update', ORBIT.sandbox, { workloadPool: null }),
    want: [],
  },
  {
    name: 'deleting a WI cluster resolves nothing of this kind (it was healthy)',
    kind,
    snapshot,
    event: cluster('delete', ORBIT.core),
    want: [],
  },
  {
    name: 'scan: a cluster without a workload pool whose KSAs are annotated',
    kind,
    snapshot: coreLeftPool,
    want: [
      {
        status: 'firing',
        severity: 'critical',
        fingerprint: FP,
        cluster: ORBIT.core,
        ksas: ['checkout/cart', 'checkout/pricing', 'search/indexer', 'search/query'],
        workloads: [
          'core-1 checkout Deployment/cart @general ×1',
          'core-1 checkout Deployment/cart @spot ×1',
          'core-1 checkout StatefulSet/pricing @highmem ×1',
          'core-1 search CronJob/indexer @spot ×1',
          'core-1 search Deployment/query @general ×1',
        ],
        summary:
          /^cluster core-1 has no workload pool \(found by the sweep\), yet checkout\/cart, checkout\/pricing, search\/indexer expect Workload Identity: their pods get no GSA \(4 KSAs, 5 pods in 1 cluster\)$/,
        commands: [REJOIN],
      },
    ],
  },
  {
    name: 'scan: a cluster without WI whose KSA is bound by name, not annotated (nothing runs yet)',
    kind,
    snapshot: sandboxBoundByName,
    want: [
      {
        status: 'firing',
        severity: 'error',
        fingerprint: 'cluster-wi-disabled/orbit-prod/europe-west4-a/sandbox',
        cluster: ORBIT.sandbox,
        ksas: ['checkout/cart'],
        summary:
          /^cluster sandbox has no workload pool \(found by the sweep\), yet checkout\/cart expects Workload Identity: their pods get no GSA \(1 KSA, no running pods\)$/,
        commands: [
          /^gcloud container clusters update sandbox --location europe-west4-a --project orbit-prod --workload-pool=orbit-prod\.svc\.id\.goog$/,
        ],
      },
    ],
  },
  {
    name: 'scan: clusters without WI whose KSAs expect nothing (a namespace-wide binding names none of them)',
    kind,
    snapshot: sandboxInBoundNamespace,
    want: [],
  },
];
