import { clusterOf, loadSnapshot, ORBIT, variant } from '../../../support/snapshots.ts';
import type { DetectorCase, Expected } from './case.ts';
import { cluster, metadata, nodePool } from './events.ts';

const snapshot = loadSnapshot();
const kind = 'nodepool-metadata-disabled';
const fp = (pool: string, ref: { location: string; name: string } = ORBIT.core) =>
  `nodepool-metadata-disabled/orbit-prod/${ref.location}/${ref.name}/${pool}`;
const backToGke = (pool: string, ref: { location: string; name: string } = ORBIT.core) =>
  new RegExp(
    `^gcloud container node-pools update ${pool} --cluster ${ref.name} --location ${ref.location} --project orbit-prod --workload-metadata=GKE_METADATA$`,
  );

/** sandbox gets a WI-ready pool and a workload whose KSA names a GSA, before WI is turned on. */
const sandboxWithWorkload = variant((s) => {
  const sandbox = clusterOf(s, 'sandbox');
  sandbox.nodePools.push({ name: 'wi-ready', workloadMetadataMode: 'GKE_METADATA' });
  sandbox.serviceAccounts.push({
    namespace: 'default',
    name: 'app',
    annotations: { 'iam.gke.io/gcp-service-account': ORBIT.deployer },
  });
  sandbox.pods.push({
    namespace: 'default',
    name: 'app-1',
    labels: {},
    serviceAccountName: 'app',
    nodePool: 'default-pool',
    owner: { kind: 'Deployment', name: 'app' },
    env: [],
  });
});

/** core-1's spot pool already off the GKE metadata server. */
const spotOnGce = variant((s) => {
  const spot = clusterOf(s, 'core-1').nodePools.find((p) => p.name === 'spot');
  if (spot) spot.workloadMetadataMode = 'GCE_METADATA';
});

/** sandbox joined the pool; its only pool has no metadata mode set. */
const sandboxJoinedPoolUnset = variant((s) => {
  const sandbox = clusterOf(s, 'sandbox');
  sandbox.workloadPool = ORBIT.pool;
  sandbox.nodePools = [{ name: 'default-pool' }];
});

const spotFiring: Expected = {
  status: 'firing',
  severity: 'critical',
  fingerprint: fp('spot'),
  cluster: ORBIT.core,
  nodePool: 'spot',
  ksas: ['checkout/cart', 'search/indexer'],
  workloads: ['core-1 checkout Deployment/cart @spot ×1', 'core-1 search CronJob/indexer @spot ×1'],
  summary:
    /^node pool spot was switched to GCE_METADATA by alice@example\.com: its pods act as the node's service account, not their GSA \(2 KSAs, 2 pods in 1 cluster\)$/,
  commands: [backToGke('spot')],
};

export const CASES: DetectorCase[] = [
  {
    name: 'a pool switched to GCE_METADATA: the WI pods scheduled on it',
    kind,
    snapshot,
    event: nodePool('update', 'spot', metadata(false)),
    want: [spotFiring],
  },
  {
    name: 'a pool switched to GCE_METADATA, no inventory',
    kind,
    event: nodePool('update', 'spot', metadata(false)),
    want: [
      {
        ...spotFiring,
        ksas: [],
        workloads: undefined,
        summary: /^node pool spot was switched to GCE_METADATA by alice@example\.com: [^(]*$/,
      },
    ],
  },
  {
    name: 'the mode unnamed by the request still reads as GCE_METADATA',
    kind,
    event: nodePool('update', 'spot', { metadataServer: false }),
    want: [{ ...spotFiring, ksas: [], workloads: undefined, summary: /switched to GCE_METADATA/ }],
  },
  {
    name: 'the pool back on GKE_METADATA: resolved',
    kind,
    snapshot,
    event: nodePool('update', 'spot', metadata(true)),
    want: [
      {
        status: 'resolved',
        severity: 'critical',
        fingerprint: fp('spot'),
        cluster: ORBIT.core,
        nodePool: 'spot',
        ksas: [],
        summary: /^node pool spot runs the GKE metadata server again \(set by alice@example\.com\)$/,
      },
    ],
  },
  {
    name: 'a new pool created on GCE_METADATA: nothing runs there yet, an error',
    kind,
    snapshot,
    event: nodePool('create', 'batch', metadata(false)),
    want: [
      {
        status: 'firing',
        severity: 'error',
        fingerprint: fp('batch'),
        cluster: ORBIT.core,
        nodePool: 'batch',
        ksas: [],
        summary:
          /^node pool batch was created on GCE_METADATA by alice@example\.com: .*\(no Workload Identity workload runs there now\)$/,
        commands: [backToGke('batch')],
      },
    ],
  },
  {
    name: 'a pool deleted while off the metadata server: resolved',
    kind,
    snapshot: spotOnGce,
    event: nodePool('delete', 'spot'),
    want: [
      {
        status: 'resolved',
        severity: 'critical',
        fingerprint: fp('spot'),
        cluster: ORBIT.core,
        nodePool: 'spot',
        ksas: [],
        summary: /^node pool spot was deleted by alice@example\.com$/,
      },
    ],
  },
  {
    name: 'WI turned on for a cluster with a pool on GCE_METADATA: that pool fires',
    kind,
    snapshot: sandboxWithWorkload,
    event: cluster('update', ORBIT.sandbox, { workloadPool: ORBIT.pool }),
    want: [
      {
        status: 'firing',
        severity: 'critical',
        fingerprint: fp('default-pool', ORBIT.sandbox),
        cluster: ORBIT.sandbox,
        nodePool: 'default-pool',
        ksas: ['default/app'],
        workloads: ['sandbox default Deployment/app @default-pool ×1'],
        summary:
          /^Workload Identity was turned on for sandbox by alice@example\.com, but node pool default-pool is left on GCE_METADATA: .*\(1 KSA, 1 pod in 1 cluster\)$/,
        commands: [backToGke('default-pool', ORBIT.sandbox)],
      },
    ],
  },
  {
    name: 'WI turned on for the fixture sandbox: its pool fires with nothing running yet',
    kind,
    snapshot,
    event: cluster('update', ORBIT.sandbox, { workloadPool: ORBIT.pool }),
    want: [
      {
        status: 'firing',
        severity: 'error',
        fingerprint: fp('default-pool', ORBIT.sandbox),
        cluster: ORBIT.sandbox,
        nodePool: 'default-pool',
        ksas: [],
        summary: /left on GCE_METADATA: .*\(no Workload Identity workload runs there now\)$/,
        commands: [backToGke('default-pool', ORBIT.sandbox)],
      },
    ],
  },
  {
    name: 'a cluster created with WI and one pool on GCE_METADATA: that pool only',
    kind,
    event: cluster(
      'create',
      { location: 'asia-east1', name: 'new-1' },
      {
        workloadPool: ORBIT.pool,
        nodePools: [
          { name: 'served', metadataServer: true, metadataMode: 'GKE_METADATA' },
          { name: 'legacy', metadataServer: false, metadataMode: 'GCE_METADATA' },
          { name: 'unset' },
        ],
      },
    ),
    want: [
      {
        status: 'firing',
        severity: 'error',
        fingerprint: fp('legacy', { location: 'asia-east1', name: 'new-1' }),
        cluster: { location: 'asia-east1', name: 'new-1' },
        nodePool: 'legacy',
        ksas: [],
        summary: /^cluster new-1 was created by alice@example\.com with node pool legacy on GCE_METADATA: /,
        commands: [backToGke('legacy', { location: 'asia-east1', name: 'new-1' })],
      },
    ],
  },
  {
    name: 'a WI cluster deleted with a pool off the metadata server: that pool resolves',
    kind,
    snapshot: spotOnGce,
    event: cluster('delete', ORBIT.core),
    want: [
      {
        status: 'resolved',
        severity: 'critical',
        fingerprint: fp('spot'),
        cluster: ORBIT.core,
        nodePool: 'spot',
        ksas: [],
        summary: /^cluster core-1 was deleted by alice@example\.com$/,
      },
    ],
  },
  {
    name: 'GCE_METADATA in a cluster without WI is its normal state',
    kind,
    snapshot,
    event: nodePool('update', 'default-pool', { ...metadata(false), cluster: ORBIT.sandbox }),
    want: [],
  },
  {
    name: 'a pool created with no metadata setting (inherits GKE_METADATA)',
    kind,
    snapshot,
    event: nodePool('create', 'batch'),
    want: [],
  },
  {
    name: 'an update that does not touch the metadata setting (image type)',
    kind,
    snapshot,
    event: nodePool('update', 'spot'),
    want: [],
  },
  {
    name: 'a pool on GKE_METADATA is deleted: it was healthy',
    kind,
    snapshot,
    event: nodePool('delete', 'highmem'),
    want: [],
  },
  {
    name: 'a cluster created without WI, its pool on GCE_METADATA',
    kind,
    event: cluster(
      'create',
      { location: 'asia-east1', name: 'plain-1' },
      {
        nodePools: [{ name: 'default-pool', metadataServer: false, metadataMode: 'GCE_METADATA' }],
      },
    ),
    want: [],
  },
  {
    name: 'a cluster created with WI, every pool served or unset',
    kind,
    event: cluster(
      'create',
      { location: 'asia-east1', name: 'new-2' },
      {
        workloadPool: ORBIT.pool,
        nodePools: [{ name: 'a', metadataServer: true }, { name: 'b' }],
      },
    ),
    want: [],
  },
  {
    name: 'a WI cluster with every pool served is deleted',
    kind,
    snapshot,
    event: cluster('delete', ORBIT.core),
    want: [],
  },
  {
    name: 'scan: a pool of a WI cluster on GCE_METADATA',
    kind,
    snapshot: spotOnGce,
    want: [
      {
        ...spotFiring,
        summary:
          /^node pool spot of Workload Identity cluster core-1 is on GCE_METADATA \(found by the sweep\): its pods act as the node's service account, not their GSA \(2 KSAs, 2 pods in 1 cluster\)$/,
      },
    ],
  },
  {
    name: 'scan: WI turned on for sandbox, its old pool left as it was (mode unset), nothing on it yet',
    kind,
    snapshot: sandboxJoinedPoolUnset,
    want: [
      {
        status: 'firing',
        severity: 'error',
        fingerprint: fp('default-pool', ORBIT.sandbox),
        cluster: ORBIT.sandbox,
        nodePool: 'default-pool',
        ksas: [],
        workloads: undefined,
        summary:
          /^node pool default-pool of Workload Identity cluster sandbox sets no metadata mode, so runs GCE_METADATA \(found by the sweep\): .* \(no Workload Identity workload runs there now\)$/,
        commands: [backToGke('default-pool', ORBIT.sandbox)],
      },
    ],
  },
  {
    name: 'scan: GCE_METADATA in a cluster without WI is the normal state',
    kind,
    snapshot,
    want: [],
  },
];
