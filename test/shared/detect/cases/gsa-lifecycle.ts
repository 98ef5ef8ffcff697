import type { SnapshotGsa } from '../../../../shared/inventory/snapshot.ts';
import { clusterOf, loadSnapshot, ORBIT, variant } from '../../../support/snapshots.ts';
import type { DetectorCase, Expected } from './case.ts';
import { add, gsaLifecycle, gsaPolicy } from './events.ts';

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

/** The inventory with one GSA's state changed (deleted, disabled). */
const gsaState = (email: string, state: Partial<SnapshotGsa>) =>
  variant((s) => {
    const gsa = s.projects[0]?.serviceAccounts.find((g) => g.email === email);
    if (gsa) Object.assign(gsa, state);
  });

/** cart@ is gone from its project altogether (a live inventory lists no deleted account). */
const cartGone = variant((s) => {
  const project = s.projects[0];
  if (project) project.serviceAccounts = project.serviceAccounts.filter((g) => g.email !== ORBIT.cart);
});

/** deployer@ (no KSA uses it) deleted; search/query names a GSA of a project the inventory does not hold. */
const deployerDeletedQueryElsewhere = variant((s) => {
  const deployer = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.deployer);
  if (deployer) deployer.deleted = true;
  const query = clusterOf(s, 'core-1').serviceAccounts.find((k) => k.name === 'query');
  if (query)
    query.annotations['iam.gke.io/gcp-service-account'] = 'query@elsewhere-prod.iam.gserviceaccount.com';
});

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
    // Another principal under the old email: an empty policy, so the KSAs still get no token.
    name: 're-created under the same email: still firing, the bindings to grant again',
    kind: 'gsa-missing',
    snapshot: gsaState(ORBIT.cart, { deleted: true }),
    event: gsaLifecycle('create', { gsa: ORBIT.cart, gsaUniqueId: '104200000000000000999' }),
    want: [
      {
        ...cartDeleted,
        summary:
          /^cart@orbit-prod\.iam\.gserviceaccount\.com was re-created by alice@example\.com \(unique id 104200000000000000999\) without its bindings: a new principal, so the KSAs annotated with it still get no token \(2 KSAs, 5 pods in 2 clusters\)$/,
        commands: [
          /add-iam-policy-binding cart@orbit-prod\.iam\.gserviceaccount\.com .*"serviceAccount:orbit-prod\.svc\.id\.goog\[checkout\/cart\]"$/,
          /add-iam-policy-binding cart@orbit-prod\.iam\.gserviceaccount\.com .*"serviceAccount:orbit-prod\.svc\.id\.goog\[checkout\/pricing\]"$/,
        ],
      },
    ],
  },
  {
    name: 're-created, no inventory: nothing (who it served is not known), and never resolved',
    kind: 'gsa-missing',
    event: gsaLifecycle('create', { gsa: ORBIT.cart }),
    want: [],
  },
  {
    name: 'WI bindings granted on a re-created GSA (another unique id): resolved, once live state agrees',
    kind: 'gsa-missing',
    snapshot,
    event: gsaPolicy(ORBIT.cart, [add('serviceAccount:orbit-prod.svc.id.goog[checkout/cart]')], {
      gsaUniqueId: '104200000000000000999',
    }),
    want: [
      {
        status: 'resolved',
        severity: 'critical',
        fingerprint: `gsa-missing/orbit-prod/${ORBIT.cart}`,
        gsa: ORBIT.cart,
        ksas: ['checkout/cart', 'checkout/pricing'],
        summary:
          /^the KSAs annotated with cart@orbit-prod\.iam\.gserviceaccount\.com may act as it again by alice@example\.com$/,
      },
    ],
  },
  {
    name: 'a WI binding granted on a GSA the inventory shows whole: no gsa-missing finding',
    kind: 'gsa-missing',
    snapshot,
    event: gsaPolicy(ORBIT.cart, [add('serviceAccount:orbit-prod.svc.id.goog[checkout/cart]')], {
      gsaUniqueId: CART_ID,
    }),
    want: [],
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
  {
    name: 'scan: a deleted GSA (kept by the last-known inventory) that KSAs are annotated with',
    kind: 'gsa-missing',
    snapshot: gsaState(ORBIT.cart, { deleted: true }),
    want: [
      {
        ...cartDeleted,
        summary:
          /^cart@orbit-prod\.iam\.gserviceaccount\.com is deleted \(found by the sweep\): the KSAs annotated with it get no token \(2 KSAs, 5 pods in 2 clusters\)$/,
      },
    ],
  },
  {
    name: 'scan: annotations name a GSA its inventoried project does not hold: recreate it and its bindings',
    kind: 'gsa-missing',
    snapshot: cartGone,
    want: [
      {
        ...cartDeleted,
        summary: /^cart@orbit-prod\.iam\.gserviceaccount\.com does not exist \(found by the sweep\): /,
        commands: [
          /^gcloud iam service-accounts create cart --project orbit-prod$/,
          /add-iam-policy-binding cart@orbit-prod\.iam\.gserviceaccount\.com .*"serviceAccount:orbit-prod\.svc\.id\.goog\[checkout\/cart\]"$/,
          /add-iam-policy-binding cart@orbit-prod\.iam\.gserviceaccount\.com .*"serviceAccount:orbit-prod\.svc\.id\.goog\[checkout\/pricing\]"$/,
        ],
      },
    ],
  },
  {
    name: 'scan: a deleted GSA bound namespace-wide but annotated nowhere (as detect judges it)',
    kind: 'gsa-missing',
    snapshot: gsaState(ORBIT.reports, { deleted: true }),
    want: [
      {
        status: 'firing',
        severity: 'error',
        fingerprint: `gsa-missing/orbit-prod/${ORBIT.reports}`,
        gsa: ORBIT.reports,
        ksas: [],
        summary:
          /^reports@orbit-prod\.iam\.gserviceaccount\.com is deleted \(found by the sweep\): .*\(no Workload Identity workload runs there now\)$/,
        commands: [/^gcloud iam service-accounts undelete 104200000000000000013 --project orbit-prod$/],
      },
    ],
  },
  {
    name: 'scan: a deleted GSA nobody uses; a GSA of a project outside the inventory',
    kind: 'gsa-missing',
    snapshot: deployerDeletedQueryElsewhere,
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
  {
    name: 'scan: a disabled GSA that a KSA is annotated with',
    kind: 'gsa-disabled',
    snapshot: gsaState(ORBIT.indexer, { disabled: true }),
    want: [
      {
        ...indexerDisabled,
        summary:
          /^indexer@orbit-prod\.iam\.gserviceaccount\.com is disabled \(found by the sweep\): the KSAs annotated with it get no token \(1 KSA, 1 pod in 1 cluster\)$/,
      },
    ],
  },
  {
    name: 'scan: a disabled GSA nobody uses; a disabled and deleted one (gsa-missing tells)',
    kind: 'gsa-disabled',
    snapshot: variant((s) => {
      for (const gsa of s.projects[0]?.serviceAccounts ?? []) {
        if (gsa.email === ORBIT.deployer) gsa.disabled = true;
        if (gsa.email === ORBIT.cart) Object.assign(gsa, { disabled: true, deleted: true });
      }
    }),
    want: [],
  },
];

export const CASES: DetectorCase[] = [...GSA_MISSING, ...GSA_DISABLED];
