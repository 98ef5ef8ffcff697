import { clusterOf, loadSnapshot, ORBIT, variant } from '../../../support/snapshots.ts';
import type { DetectorCase, Expected } from './case.ts';
import { add, annotationPatch, gsaPolicy, remove, wiPolicy } from './events.ts';

const snapshot = loadSnapshot();
const kind = 'binding-missing';
const fp = (gsa: string, ns: string, name: string, pool: string = ORBIT.pool) =>
  `binding-missing/orbit-prod/${gsa}/${pool}/${ns}/${name}`;
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const addBinding = (gsa: string, member: string) =>
  new RegExp(
    `^gcloud iam service-accounts add-iam-policy-binding ${literal(gsa)} --role roles/iam\\.workloadIdentityUser --member "${literal(member)}"$`,
  );
const showPolicy = (gsa: string) =>
  new RegExp(`^gcloud iam service-accounts get-iam-policy ${literal(gsa)}$`);

/** indexer@ binds search/indexer in both the principal:// and the classic form. */
const indexerBothForms = variant((s) => {
  const indexer = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.indexer);
  indexer?.iamPolicy.bindings[0]?.members.push(ORBIT.classic('search', 'indexer'));
});

/** search/query and a new search/batch (no pods) name reports@, bound to the whole namespace. */
const searchOnReports = variant((s) => {
  const core = clusterOf(s, 'core-1');
  const query = core.serviceAccounts.find((k) => k.name === 'query');
  if (query) query.annotations['iam.gke.io/gcp-service-account'] = ORBIT.reports;
  core.serviceAccounts.push({
    namespace: 'search',
    name: 'batch',
    annotations: { 'iam.gke.io/gcp-service-account': ORBIT.reports },
  });
});

/** cart@ binds only checkout/pricing now. */
const cartUnbound = variant((s) => {
  const cart = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.cart);
  if (cart) cart.iamPolicy = wiPolicy(ORBIT.classic('checkout', 'pricing'));
});

/** search/query names a GSA of another project; pricing's GSA is deleted (and keeps no bindings). */
const annotatedWithAbsentOrDeleted = variant((s) => {
  const core = clusterOf(s, 'core-1');
  const query = core.serviceAccounts.find((k) => k.name === 'query');
  if (query)
    query.annotations['iam.gke.io/gcp-service-account'] = 'query@elsewhere-prod.iam.gserviceaccount.com';
  const cart = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.cart);
  if (cart) Object.assign(cart, { deleted: true, iamPolicy: wiPolicy() });
});

const CART_MEMBER = ORBIT.classic('checkout', 'cart');
/** A request that removed and added several members of the Workload Identity role at once. */
const rewrite = (scope: 'role' | 'policy', removed: number, added: number, roles = 1) => ({
  scope,
  role: 'roles/iam.workloadIdentityUser',
  removed,
  added,
  roles,
});
const cartFiring: Expected = {
  status: 'firing',
  severity: 'critical',
  fingerprint: fp(ORBIT.cart, 'checkout', 'cart'),
  gsa: ORBIT.cart,
  ksas: ['checkout/cart'],
  workloads: [
    'core-1 checkout Deployment/cart @general ×1',
    'core-1 checkout Deployment/cart @spot ×1',
    'edge-1 checkout Deployment/cart @default-pool ×2',
  ],
  summary:
    /^checkout\/cart can no longer act as cart@orbit-prod\.iam\.gserviceaccount\.com: roles\/iam\.workloadIdentityUser removed by alice@example\.com \(1 KSA, 4 pods in 2 clusters\)$/,
  commands: [addBinding(ORBIT.cart, CART_MEMBER), showPolicy(ORBIT.cart)],
};

export const CASES: DetectorCase[] = [
  {
    name: 'classic member removed: the KSA in both clusters of the pool',
    kind,
    snapshot,
    event: gsaPolicy(ORBIT.cart, [remove(CART_MEMBER)], {
      policy: wiPolicy(ORBIT.classic('checkout', 'pricing')),
    }),
    want: [cartFiring],
  },
  {
    name: 'classic member removed, no inventory and no recorded policy',
    kind,
    event: gsaPolicy(ORBIT.cart, [remove(CART_MEMBER)]),
    want: [
      {
        ...cartFiring,
        workloads: undefined,
        summary:
          /^checkout\/cart can no longer act as cart@orbit-prod\.iam\.gserviceaccount\.com: .* by alice@example\.com$/,
      },
    ],
  },
  {
    name: 'the binding added back: resolved',
    kind,
    snapshot,
    event: gsaPolicy(ORBIT.cart, [add(CART_MEMBER)], {
      policy: wiPolicy(CART_MEMBER, ORBIT.classic('checkout', 'pricing')),
    }),
    want: [
      {
        ...cartFiring,
        status: 'resolved',
        summary:
          /^checkout\/cart may act as cart@orbit-prod\.iam\.gserviceaccount\.com again: binding restored by alice@example\.com$/,
        commands: undefined,
      },
    ],
  },
  {
    name: 'no policyDelta in the entry: the recorded policy is compared with the inventory',
    kind,
    snapshot,
    event: gsaPolicy(ORBIT.cart, [], { policy: wiPolicy(ORBIT.classic('checkout', 'pricing')) }),
    want: [cartFiring],
  },
  {
    name: 'every removed member is a finding, not only the last',
    kind,
    snapshot,
    event: gsaPolicy(ORBIT.cart, [remove(CART_MEMBER), remove(ORBIT.classic('checkout', 'pricing'))], {
      policy: wiPolicy(),
    }),
    want: [
      { ...cartFiring, replaced: rewrite('role', 2, 0) },
      {
        replaced: rewrite('role', 2, 0),
        status: 'firing',
        severity: 'critical',
        fingerprint: fp(ORBIT.cart, 'checkout', 'pricing'),
        gsa: ORBIT.cart,
        ksas: ['checkout/pricing'],
        workloads: ['core-1 checkout StatefulSet/pricing @highmem ×1'],
        summary: /^checkout\/pricing can no longer act as .*\(1 KSA, 1 pod in 1 cluster\)$/,
        commands: [addBinding(ORBIT.cart, ORBIT.classic('checkout', 'pricing'))],
      },
    ],
  },
  {
    name: 'principal:// member removed',
    kind,
    snapshot,
    event: gsaPolicy(ORBIT.indexer, [remove(ORBIT.principal('search', 'indexer'))], { policy: wiPolicy() }),
    want: [
      {
        status: 'firing',
        severity: 'critical',
        fingerprint: fp(ORBIT.indexer, 'search', 'indexer'),
        gsa: ORBIT.indexer,
        ksas: ['search/indexer'],
        workloads: ['core-1 search CronJob/indexer @spot ×1'],
        summary: /^search\/indexer can no longer act as indexer@orbit-prod\.iam\.gserviceaccount\.com/,
        commands: [addBinding(ORBIT.indexer, ORBIT.principal('search', 'indexer'))],
      },
    ],
  },
  {
    name: 'namespace principalSet removed: the namespace KSAs annotated with that GSA',
    kind,
    snapshot: searchOnReports,
    event: gsaPolicy(ORBIT.reports, [remove(ORBIT.principalSet('search'))], { policy: wiPolicy() }),
    want: [
      {
        status: 'firing',
        severity: 'critical',
        fingerprint: fp(ORBIT.reports, 'search', 'query'),
        gsa: ORBIT.reports,
        ksas: ['search/query'],
        workloads: ['core-1 search Deployment/query @general ×1'],
        summary:
          /^search\/query can no longer act as reports@orbit-prod\.iam\.gserviceaccount\.com: .*\(1 KSA, 1 pod in 1 cluster\)$/,
        commands: [addBinding(ORBIT.reports, ORBIT.principalSet('search'))],
      },
      {
        status: 'firing',
        severity: 'error',
        fingerprint: fp(ORBIT.reports, 'search', 'batch'),
        gsa: ORBIT.reports,
        ksas: ['search/batch'],
        summary: /^search\/batch can no longer act as reports@.*\(1 KSA, no running pods\)$/,
        commands: [addBinding(ORBIT.reports, ORBIT.principalSet('search'))],
      },
    ],
  },
  {
    name: 'namespace principalSet removed, no inventory: the namespace as a whole',
    kind,
    event: gsaPolicy(ORBIT.reports, [remove(ORBIT.principalSet('search'))]),
    want: [
      {
        status: 'firing',
        severity: 'critical',
        fingerprint: fp(ORBIT.reports, 'search', '*'),
        gsa: ORBIT.reports,
        ksas: [],
        summary: /^search\/\* can no longer act as reports@orbit-prod\.iam\.gserviceaccount\.com/,
        commands: [addBinding(ORBIT.reports, ORBIT.principalSet('search'))],
      },
    ],
  },
  {
    name: 'a KSA of a pool the inventory holds no cluster of: named, impact unknown',
    kind,
    snapshot,
    event: gsaPolicy(ORBIT.cart, [remove('serviceAccount:other-prod.svc.id.goog[checkout/cart]')]),
    want: [
      {
        status: 'firing',
        severity: 'critical',
        fingerprint: fp(ORBIT.cart, 'checkout', 'cart', 'other-prod.svc.id.goog'),
        gsa: ORBIT.cart,
        ksas: ['checkout/cart'],
        summary: /^checkout\/cart can no longer act as cart@/,
        commands: [addBinding(ORBIT.cart, 'serviceAccount:other-prod.svc.id.goog[checkout/cart]')],
      },
    ],
  },
  {
    name: 'the same namespace/name in two pools are two KSAs',
    kind,
    snapshot,
    event: gsaPolicy(
      ORBIT.cart,
      [remove(CART_MEMBER), add('serviceAccount:other-prod.svc.id.goog[checkout/cart]')],
      {
        policy: wiPolicy(
          'serviceAccount:other-prod.svc.id.goog[checkout/cart]',
          ORBIT.classic('checkout', 'pricing'),
        ),
      },
    ),
    want: [
      // One removed and one added: the role's member list was replaced. A resolution has no repair to warn of.
      { ...cartFiring, replaced: rewrite('role', 1, 1) },
      {
        status: 'resolved',
        severity: 'critical',
        fingerprint: fp(ORBIT.cart, 'checkout', 'cart', 'other-prod.svc.id.goog'),
        gsa: ORBIT.cart,
        ksas: ['checkout/cart'],
        summary: /may act as cart@orbit-prod\.iam\.gserviceaccount\.com again/,
      },
    ],
  },
  {
    name: 'moving a KSA from the classic to the principal:// form never fires',
    kind,
    snapshot,
    event: gsaPolicy(ORBIT.cart, [remove(CART_MEMBER), add(ORBIT.principal('checkout', 'cart'))], {
      policy: wiPolicy(ORBIT.principal('checkout', 'cart'), ORBIT.classic('checkout', 'pricing')),
    }),
    want: [{ ...cartFiring, status: 'resolved', summary: /again: binding restored/, commands: undefined }],
  },
  {
    name: 'the KSA was annotated with a GSA that does not bind it',
    kind,
    snapshot,
    event: annotationPatch('checkout', 'default', ORBIT.indexer),
    want: [
      {
        status: 'firing',
        severity: 'critical',
        fingerprint: fp(ORBIT.indexer, 'checkout', 'default'),
        gsa: ORBIT.indexer,
        ksas: ['checkout/default'],
        workloads: ['core-1 checkout Pod/toolbox @general ×1'],
        summary:
          /^checkout\/default was annotated by alice@example\.com with indexer@orbit-prod\.iam\.gserviceaccount\.com, whose policy does not let it act as that GSA \(1 KSA, 1 pod in 1 cluster\)$/,
        commands: [
          addBinding(ORBIT.indexer, ORBIT.classic('checkout', 'default')),
          showPolicy(ORBIT.indexer),
        ],
      },
    ],
  },
  {
    name: 'a REMOVE that leaves the KSA bound through another member form (recorded policy)',
    kind,
    snapshot,
    event: gsaPolicy(ORBIT.indexer, [remove(ORBIT.classic('search', 'indexer'))], {
      policy: wiPolicy(ORBIT.principal('search', 'indexer')),
    }),
    want: [],
  },
  {
    name: 'a REMOVE that leaves the KSA bound through another member form (inventory policy)',
    kind,
    snapshot: indexerBothForms,
    event: gsaPolicy(ORBIT.indexer, [remove(ORBIT.classic('search', 'indexer'))]),
    want: [],
  },
  {
    name: 'a REMOVE of a classic member still covered by a namespace principalSet',
    kind,
    snapshot,
    event: gsaPolicy(ORBIT.reports, [remove(ORBIT.classic('search', 'query'))], {
      policy: wiPolicy(ORBIT.principalSet('search')),
    }),
    want: [],
  },
  {
    name: 'an external (GitHub) principalSet removed',
    kind,
    snapshot,
    event: gsaPolicy(ORBIT.cart, [
      remove(
        'principalSet://iam.googleapis.com/projects/731604512345/locations/global/workloadIdentityPools/github-pool/attribute.repository/orbit/cart',
      ),
    ]),
    want: [],
  },
  {
    name: 'another role removed',
    kind,
    event: gsaPolicy(ORBIT.cart, [remove(CART_MEMBER, 'roles/iam.serviceAccountTokenCreator')]),
    want: [],
  },
  {
    name: 'a binding whose KSA exists in no cluster of the pool is removed (drift cleanup)',
    kind,
    snapshot,
    event: gsaPolicy(ORBIT.cart, [remove(ORBIT.classic('checkout', 'ghost'))], {
      policy: wiPolicy(CART_MEMBER),
    }),
    want: [],
  },
  {
    name: 'annotated with a GSA whose namespace principalSet binds it',
    kind,
    snapshot,
    event: annotationPatch('search', 'query', ORBIT.reports),
    want: [],
  },
  {
    name: 'annotated with a GSA the inventory does not know',
    kind,
    snapshot,
    event: annotationPatch('checkout', 'default', 'other@elsewhere.iam.gserviceaccount.com'),
    want: [],
  },
  {
    name: 'annotation changes without an inventory cannot be judged',
    kind,
    event: annotationPatch('checkout', 'default', ORBIT.indexer),
    want: [],
  },
  {
    name: 'an annotation removed is not this kind',
    kind,
    snapshot,
    event: annotationPatch('checkout', 'cart', null),
    want: [],
  },
  {
    name: 'scan: an annotated KSA its GSA does not bind, one finding for both clusters of the pool',
    kind,
    snapshot: cartUnbound,
    want: [
      {
        ...cartFiring,
        summary:
          /^checkout\/cart is annotated with cart@orbit-prod\.iam\.gserviceaccount\.com, whose policy does not let it act as that GSA \(found by the sweep\): its pods get no token \(1 KSA, 4 pods in 2 clusters\)$/,
      },
    ],
  },
  {
    name: 'scan: every member form binds (principal://, namespace principalSet)',
    kind,
    snapshot: searchOnReports,
    want: [],
  },
  {
    name: 'scan: a GSA the inventory does not hold, or holds deleted, is not for this kind to tell',
    kind,
    snapshot: annotatedWithAbsentOrDeleted,
    want: [],
  },
];
