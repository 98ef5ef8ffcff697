import { loadSnapshot, ORBIT } from '../../../support/snapshots.ts';
import type { DetectorCase, Expected } from './case.ts';
import { gsaLifecycle } from './events.ts';

const snapshot = loadSnapshot();
const CART_ID = '104200000000000000011';
const CART_WORKLOADS = [
  'core-1 checkout Deployment/cart @general ×1',
  'core-1 checkout Deployment/cart @spot ×1',
  'core-1 checkout StatefulSet/pricing @highmem ×1',
  'edge-1 checkout Deployment/cart @default-pool ×2',
];

const cartDeleted: Expected = {
  status: 'firing',
  severity: 'critical',
  fingerprint: `gsa-missing/orbit-prod/${ORBIT.cart}`,
  gsa: ORBIT.cart,
  ksas: ['checkout/cart', 'checkout/pricing'],
  workloads: CART_WORKLOADS,
  summary:
    /^cart@orbit-prod\.iam\.gserviceaccount\.com was deleted by alice@example\.com: the KSAs annotated with it get no token \(2 KSAs, 5 pods in 2 clusters\)$/,
  commands: [new RegExp(`^gcloud iam service-accounts undelete ${CART_ID} --project orbit-prod$`)],
};

export const GSA_MISSING: DetectorCase[] = [
  {
    name: 'a WI GSA deleted: every KSA annotated with it, from the inventory',
    kind: 'gsa-missing',
    snapshot,
    event: gsaLifecycle('delete', { gsa: ORBIT.cart, gsaUniqueId: CART_ID }),
    want: [cartDeleted],
  },
  {
    name: 'deleted, named by unique id only: the inventory gives the email',
    kind: 'gsa-missing',
    snapshot,
    event: gsaLifecycle('delete', { gsaUniqueId: CART_ID }),
    want: [cartDeleted],
  },
  {
    name: 'deleted, no inventory: undelete by the unique id of the entry',
    kind: 'gsa-missing',
    event: gsaLifecycle('delete', { gsa: ORBIT.cart, gsaUniqueId: CART_ID }),
    want: [
      {
        ...cartDeleted,
        ksas: [],
        workloads: undefined,
        summary: /^cart@orbit-prod\.iam\.gserviceaccount\.com was deleted by alice@example\.com: [^(]*$/,
      },
    ],
  },
  {
    name: 'deleted, no inventory and no unique id: recreate it',
    kind: 'gsa-missing',
    event: gsaLifecycle('delete', { gsa: ORBIT.cart }),
    want: [
      {
        ...cartDeleted,
        ksas: [],
        workloads: undefined,
        summary: /was deleted by alice@example\.com/,
        commands: [/^gcloud iam service-accounts create cart --project orbit-prod$/],
      },
    ],
  },
  {
    name: 'a GSA bound through a namespace principalSet but annotated nowhere: nothing runs behind it',
    kind: 'gsa-missing',
    snapshot,
    event: gsaLifecycle('delete', { gsa: ORBIT.reports }),
    want: [
      {
        status: 'firing',
        severity: 'error',
        fingerprint: `gsa-missing/orbit-prod/${ORBIT.reports}`,
        gsa: ORBIT.reports,
        ksas: [],
        summary:
          /^reports@orbit-prod\.iam\.gserviceaccount\.com was deleted .*\(no Workload Identity workload runs there now\)$/,
        commands: [/^gcloud iam service-accounts undelete 104200000000000000013 --project orbit-prod$/],
      },
    ],
  },
  {
    name: 'undeleted: resolved',
    kind: 'gsa-missing',
    snapshot,
    event: gsaLifecycle('undelete', { gsaUniqueId: CART_ID }),
    want: [
      {
        status: 'resolved',
        severity: 'critical',
        fingerprint: `gsa-missing/orbit-prod/${ORBIT.cart}`,
        gsa: ORBIT.cart,
        ksas: [],
        summary: /^cart@orbit-prod\.iam\.gserviceaccount\.com was undeleted by alice@example\.com$/,
      },
    ],
  },
  {
    name: 'created again under the same email: resolved',
    kind: 'gsa-missing',
    event: gsaLifecycle('create', { gsa: ORBIT.cart }),
    want: [
      {
        status: 'resolved',
        severity: 'critical',
        fingerprint: `gsa-missing/orbit-prod/${ORBIT.cart}`,
        gsa: ORBIT.cart,
        ksas: [],
        summary: /was created by alice@example\.com$/,
      },
    ],
  },
  {
    name: 'a GSA no KSA acts as is deleted',
    kind: 'gsa-missing',
    snapshot,
    event: gsaLifecycle('delete', { gsa: ORBIT.deployer }),
    want: [],
  },
  {
    name: 'an unknown unique id and no email',
    kind: 'gsa-missing',
    snapshot,
    event: gsaLifecycle('delete', { gsaUniqueId: '999' }),
    want: [],
  },
  {
    name: 'a disable is not a deletion',
    kind: 'gsa-missing',
    snapshot,
    event: gsaLifecycle('disable', { gsa: ORBIT.cart }),
    want: [],
  },
];

const indexerDisabled: Expected = {
  status: 'firing',
  severity: 'critical',
  fingerprint: `gsa-disabled/orbit-prod/${ORBIT.indexer}`,
  gsa: ORBIT.indexer,
  ksas: ['search/indexer'],
  workloads: ['core-1 search CronJob/indexer @spot ×1'],
  summary:
    /^indexer@orbit-prod\.iam\.gserviceaccount\.com was disabled by alice@example\.com: the KSAs annotated with it get no token \(1 KSA, 1 pod in 1 cluster\)$/,
  commands: [/^gcloud iam service-accounts enable indexer@orbit-prod\.iam\.gserviceaccount\.com$/],
};

export const GSA_DISABLED: DetectorCase[] = [
  {
    name: 'a WI GSA disabled',
    kind: 'gsa-disabled',
    snapshot,
    event: gsaLifecycle('disable', { gsa: ORBIT.indexer }),
    want: [indexerDisabled],
  },
  {
    name: 'disabled, no inventory',
    kind: 'gsa-disabled',
    event: gsaLifecycle('disable', { gsa: ORBIT.indexer }),
    want: [
      {
        ...indexerDisabled,
        ksas: [],
        workloads: undefined,
        summary: /was disabled by alice@example\.com: [^(]*$/,
      },
    ],
  },
  {
    name: 'enabled again: resolved',
    kind: 'gsa-disabled',
    snapshot,
    event: gsaLifecycle('enable', { gsa: ORBIT.indexer }),
    want: [
      {
        status: 'resolved',
        severity: 'critical',
        fingerprint: `gsa-disabled/orbit-prod/${ORBIT.indexer}`,
        gsa: ORBIT.indexer,
        ksas: [],
        summary: /^indexer@orbit-prod\.iam\.gserviceaccount\.com was enabled by alice@example\.com$/,
      },
    ],
  },
  {
    name: 'a GSA no KSA acts as is disabled',
    kind: 'gsa-disabled',
    snapshot,
    event: gsaLifecycle('disable', { gsa: ORBIT.deployer }),
    want: [],
  },
  {
    name: 'a deletion is not a disable',
    kind: 'gsa-disabled',
    snapshot,
    event: gsaLifecycle('delete', { gsa: ORBIT.indexer }),
    want: [],
  },
  {
    name: 'an undelete does not resolve a disable',
    kind: 'gsa-disabled',
    event: gsaLifecycle('undelete', { gsa: ORBIT.indexer }),
    want: [],
  },
];

export const CASES: DetectorCase[] = [...GSA_MISSING, ...GSA_DISABLED];
