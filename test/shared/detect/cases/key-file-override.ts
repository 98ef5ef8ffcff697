import { clusterOf, loadSnapshot, ORBIT, variant } from '../../../support/snapshots.ts';
import type { DetectorCase, Expected } from './case.ts';
import { ksa } from './events.ts';

const snapshot = loadSnapshot();
const kind = 'key-file-override';
const KEY = 'GOOGLE_APPLICATION_CREDENTIALS';

const indexer: Expected = {
  status: 'firing',
  severity: 'warning',
  fingerprint: 'key-file-override/orbit-prod/europe-west4/core-1/search/CronJob/indexer',
  cluster: ORBIT.core,
  ksas: ['search/indexer'],
  workloads: ['core-1 search CronJob/indexer @spot ×1'],
  summary:
    /^CronJob search\/indexer sets GOOGLE_APPLICATION_CREDENTIALS although its KSA indexer uses Workload Identity \(found by the sweep\): the key file wins$/,
  commands: [
    /^gcloud container clusters get-credentials core-1 --location europe-west4 --project orbit-prod$/,
    /^kubectl set env cronjob\/indexer -n search GOOGLE_APPLICATION_CREDENTIALS-$/,
  ],
};

/** Both core-1 cart pods (pools general and spot) set the key file too. */
const cartOverride = variant((s) => {
  for (const pod of clusterOf(s, 'core-1').pods) if (pod.serviceAccountName === 'cart') pod.env.push(KEY);
});

/** The key file only where WI is not in use: the toolbox pod (default KSA) and a sandbox pod. */
const keyOutsideWi = variant((s) => {
  const core = clusterOf(s, 'core-1');
  for (const pod of core.pods) pod.env = pod.name === 'toolbox' ? [KEY] : [];
  clusterOf(s, 'sandbox').pods.push({
    namespace: 'default',
    name: 'legacy-0',
    labels: {},
    serviceAccountName: 'default',
    owner: { kind: 'Deployment', name: 'legacy' },
    env: [KEY],
  });
});

export const CASES: DetectorCase[] = [
  {
    name: 'scan: a WI pod sets GOOGLE_APPLICATION_CREDENTIALS',
    kind,
    snapshot,
    want: [indexer],
  },
  {
    name: 'scan: one finding per workload, whatever pools its pods run on',
    kind,
    snapshot: cartOverride,
    want: [
      {
        ...indexer,
        fingerprint: 'key-file-override/orbit-prod/europe-west4/core-1/checkout/Deployment/cart',
        ksas: ['checkout/cart'],
        workloads: [
          'core-1 checkout Deployment/cart @general ×1',
          'core-1 checkout Deployment/cart @spot ×1',
        ],
        summary: /^Deployment checkout\/cart sets GOOGLE_APPLICATION_CREDENTIALS although its KSA cart uses /,
        commands: [/^kubectl set env deployment\/cart -n checkout GOOGLE_APPLICATION_CREDENTIALS-$/],
      },
      indexer,
    ],
  },
  {
    name: 'scan: the key file where WI is not in use (un-WI KSA, cluster without WI)',
    kind,
    snapshot: keyOutsideWi,
    want: [],
  },
  {
    name: 'an audit event never tells (pod specs are not in the stream)',
    kind,
    snapshot,
    event: ksa('update', 'search', 'indexer', {
      annotations: { 'iam.gke.io/gcp-service-account': ORBIT.indexer },
    }),
    want: [],
  },
];
