import { clusterOf, loadSnapshot, ORBIT, variant } from '../../../support/snapshots.ts';
import type { DetectorCase, Expected } from './case.ts';
import { add, annotationPatch, gsaPolicy, ksa, projectPolicy, remove } from './events.ts';

const snapshot = loadSnapshot();

const cartEditor: Expected = {
  status: 'firing',
  severity: 'warning',
  fingerprint: `gsa-broad-role/orbit-prod/${ORBIT.cart}/roles/editor`,
  gsa: ORBIT.cart,
  ksas: ['checkout/cart', 'checkout/pricing'],
  summary:
    /^cart@orbit-prod\.iam\.gserviceaccount\.com, which pods act as through Workload Identity, was granted roles\/editor on projects\/orbit-prod by alice@example\.com$/,
  commands: [
    /^gcloud projects remove-iam-policy-binding orbit-prod --member "serviceAccount:cart@orbit-prod\.iam\.gserviceaccount\.com" --role roles\/editor$/,
  ],
};

/** orbit-prod's own IAM policy holds these bindings. */
const projectGrants = (...bindings: { role: string; members: string[] }[]) =>
  variant((s) => {
    const project = s.projects[0];
    if (project) project.iamPolicy = { bindings };
  });

export const GSA_BROAD_ROLE: DetectorCase[] = [
  {
    name: 'a WI GSA granted roles/editor on the project',
    kind: 'gsa-broad-role',
    snapshot,
    event: projectPolicy([add(`serviceAccount:${ORBIT.cart}`, 'roles/editor')]),
    want: [cartEditor],
  },
  {
    name: 'roles/editor removed again: resolved',
    kind: 'gsa-broad-role',
    snapshot,
    event: projectPolicy([remove(`serviceAccount:${ORBIT.cart}`, 'roles/editor')]),
    want: [
      {
        ...cartEditor,
        status: 'resolved',
        summary:
          /^roles\/editor on projects\/orbit-prod was removed from cart@orbit-prod\.iam\.gserviceaccount\.com by alice@example\.com$/,
        commands: undefined,
      },
    ],
  },
  {
    name: 'a GSA used through a namespace principalSet only, granted roles/owner on a folder',
    kind: 'gsa-broad-role',
    snapshot,
    event: projectPolicy([add(`serviceAccount:${ORBIT.reports}`, 'roles/owner')], 'folders/4417'),
    want: [
      {
        status: 'firing',
        severity: 'warning',
        fingerprint: `gsa-broad-role/orbit-prod/${ORBIT.reports}/roles/owner`,
        gsa: ORBIT.reports,
        ksas: [],
        summary: /was granted roles\/owner on folders\/4417 by alice@example\.com$/,
        commands: [
          /^gcloud resource-manager folders remove-iam-policy-binding 4417 --member "serviceAccount:reports@orbit-prod\.iam\.gserviceaccount\.com" --role roles\/owner$/,
        ],
      },
    ],
  },
  {
    name: 'every broad grant of one change is reported',
    kind: 'gsa-broad-role',
    snapshot,
    event: projectPolicy([
      add(`serviceAccount:${ORBIT.cart}`, 'roles/editor'),
      add(`serviceAccount:${ORBIT.indexer}`, 'roles/owner'),
    ]),
    want: [
      cartEditor,
      {
        ...cartEditor,
        fingerprint: `gsa-broad-role/orbit-prod/${ORBIT.indexer}/roles/owner`,
        gsa: ORBIT.indexer,
        ksas: ['search/indexer'],
        summary: /^indexer@orbit-prod\.iam\.gserviceaccount\.com, .* was granted roles\/owner/,
        commands: [
          /remove-iam-policy-binding orbit-prod --member "serviceAccount:indexer@[^"]+" --role roles\/owner$/,
        ],
      },
    ],
  },
  {
    name: 'a GSA no KSA acts as',
    kind: 'gsa-broad-role',
    snapshot,
    event: projectPolicy([add(`serviceAccount:${ORBIT.deployer}`, 'roles/editor')]),
    want: [],
  },
  {
    name: 'a narrow role',
    kind: 'gsa-broad-role',
    snapshot,
    event: projectPolicy([add(`serviceAccount:${ORBIT.cart}`, 'roles/storage.objectViewer')]),
    want: [],
  },
  {
    name: 'a user, not a service account',
    kind: 'gsa-broad-role',
    snapshot,
    event: projectPolicy([add('user:alice@example.com', 'roles/owner')]),
    want: [],
  },
  {
    name: 'no inventory: which GSAs are WI is unknown',
    kind: 'gsa-broad-role',
    event: projectPolicy([add(`serviceAccount:${ORBIT.cart}`, 'roles/editor')]),
    want: [],
  },
  {
    name: "scan: a WI GSA holds roles/editor on its project's policy",
    kind: 'gsa-broad-role',
    snapshot: projectGrants({
      role: 'roles/editor',
      members: [`serviceAccount:${ORBIT.cart}`, 'user:bob@example.com'],
    }),
    want: [
      {
        ...cartEditor,
        summary:
          /^cart@orbit-prod\.iam\.gserviceaccount\.com, which pods act as through Workload Identity, holds roles\/editor on projects\/orbit-prod \(found by the sweep\)$/,
      },
    ],
  },
  {
    name: 'scan: broad roles held by a GSA no KSA acts as; narrow roles held by WI GSAs',
    kind: 'gsa-broad-role',
    snapshot: projectGrants(
      { role: 'roles/owner', members: [`serviceAccount:${ORBIT.deployer}`] },
      { role: 'roles/storage.admin', members: [`serviceAccount:${ORBIT.cart}`] },
    ),
    want: [],
  },
];

const GHOST = ORBIT.classic('checkout', 'ghost');
const ghostBound: Expected = {
  status: 'firing',
  severity: 'info',
  fingerprint: `binding-orphaned/orbit-prod/${ORBIT.cart}/orbit-prod.svc.id.goog/checkout/ghost`,
  gsa: ORBIT.cart,
  ksas: ['checkout/ghost'],
  summary:
    /^cart@orbit-prod\.iam\.gserviceaccount\.com was bound by alice@example\.com to checkout\/ghost, which exists in no cluster of orbit-prod\.svc\.id\.goog$/,
  commands: [
    /^gcloud iam service-accounts remove-iam-policy-binding cart@orbit-prod\.iam\.gserviceaccount\.com --role roles\/iam\.workloadIdentityUser --member "serviceAccount:orbit-prod\.svc\.id\.goog\[checkout\/ghost\]"$/,
  ],
};

export const BINDING_ORPHANED: DetectorCase[] = [
  {
    name: 'a binding to a KSA that exists in no cluster of the pool',
    kind: 'binding-orphaned',
    snapshot,
    event: gsaPolicy(ORBIT.cart, [add(GHOST)]),
    want: [ghostBound],
  },
  {
    name: 'the orphaned binding removed: resolved',
    kind: 'binding-orphaned',
    snapshot,
    event: gsaPolicy(ORBIT.cart, [remove(GHOST)]),
    want: [
      {
        ...ghostBound,
        status: 'resolved',
        summary: /^the binding of cart@.* to checkout\/ghost was removed by alice@example\.com$/,
        commands: undefined,
      },
    ],
  },
  {
    name: 'a principal:// binding to a KSA that exists nowhere',
    kind: 'binding-orphaned',
    snapshot,
    event: gsaPolicy(ORBIT.indexer, [add(ORBIT.principal('search', 'ghost'))]),
    want: [
      {
        ...ghostBound,
        fingerprint: `binding-orphaned/orbit-prod/${ORBIT.indexer}/orbit-prod.svc.id.goog/search/ghost`,
        gsa: ORBIT.indexer,
        ksas: ['search/ghost'],
        summary: /to search\/ghost, which exists in no cluster/,
        commands: [/--member "principal:\/\/iam\.googleapis\.com\/.*\/subject\/ns\/search\/sa\/ghost"$/],
      },
    ],
  },
  {
    name: 'a binding to a KSA that exists (in one cluster of the pool)',
    kind: 'binding-orphaned',
    snapshot,
    event: gsaPolicy(ORBIT.cart, [add(ORBIT.classic('search', 'query'))]),
    want: [],
  },
  {
    name: 'a pool with no inventoried cluster: no verdict',
    kind: 'binding-orphaned',
    snapshot,
    event: gsaPolicy(ORBIT.cart, [add('serviceAccount:other-prod.svc.id.goog[checkout/ghost]')]),
    want: [],
  },
  {
    name: 'a namespace principalSet names no single KSA',
    kind: 'binding-orphaned',
    snapshot,
    event: gsaPolicy(ORBIT.cart, [add(ORBIT.principalSet('ghosts'))]),
    want: [],
  },
  {
    name: 'another role',
    kind: 'binding-orphaned',
    snapshot,
    event: gsaPolicy(ORBIT.cart, [add(GHOST, 'roles/iam.serviceAccountTokenCreator')]),
    want: [],
  },
  {
    name: 'no inventory',
    kind: 'binding-orphaned',
    event: gsaPolicy(ORBIT.cart, [add(GHOST)]),
    want: [],
  },
  {
    name: 'scan: a GSA binds a KSA that exists in no cluster of its pool',
    kind: 'binding-orphaned',
    snapshot: variant((s) => {
      const cart = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.cart);
      cart?.iamPolicy.bindings[0]?.members.push(
        GHOST,
        'serviceAccount:other-prod.svc.id.goog[checkout/ghost]',
      );
    }),
    want: [
      {
        ...ghostBound,
        summary:
          /^cart@orbit-prod\.iam\.gserviceaccount\.com is bound to checkout\/ghost, which exists in no cluster of orbit-prod\.svc\.id\.goog \(found by the sweep\)$/,
      },
    ],
  },
  {
    name: 'scan: every binding names a KSA that exists, or a namespace (the fixture as it is)',
    kind: 'binding-orphaned',
    snapshot,
    want: [],
  },
];

/** search/query in core-1 already names cart@, so cart@ serves checkout and search. */
const cartInSearch = variant((s) => {
  const query = clusterOf(s, 'core-1').serviceAccounts.find((k) => k.name === 'query');
  if (query) query.annotations['iam.gke.io/gcp-service-account'] = ORBIT.cart;
});

const cartShared: Expected = {
  status: 'firing',
  severity: 'info',
  fingerprint: `gsa-shared/orbit-prod/${ORBIT.cart}`,
  gsa: ORBIT.cart,
  ksas: ['checkout/cart', 'checkout/pricing', 'analytics/report'],
  summary:
    /^cart@orbit-prod\.iam\.gserviceaccount\.com is now used from 2 namespaces \(analytics, checkout\): give each workload its own GSA$/,
  commands: [/^gcloud iam service-accounts create analytics-report --project orbit-prod$/],
};

export const GSA_SHARED: DetectorCase[] = [
  {
    name: 'a KSA of another namespace annotated with a GSA in use',
    kind: 'gsa-shared',
    snapshot,
    event: annotationPatch('analytics', 'report', ORBIT.cart),
    want: [cartShared],
  },
  {
    name: 'a new KSA created with the annotation',
    kind: 'gsa-shared',
    snapshot,
    event: ksa('create', 'analytics', 'report', {
      annotations: { 'iam.gke.io/gcp-service-account': ORBIT.cart },
    }),
    want: [cartShared],
  },
  {
    name: 'the same KSA annotated in the second cluster is listed once',
    kind: 'gsa-shared',
    snapshot: cartInSearch,
    event: annotationPatch('search', 'query', ORBIT.cart, ORBIT.edge),
    want: [
      {
        ...cartShared,
        ksas: ['checkout/cart', 'checkout/pricing', 'search/query'],
        summary: /used from 2 namespaces \(checkout, search\)/,
        commands: [/^gcloud iam service-accounts create search-query --project orbit-prod$/],
      },
    ],
  },
  {
    name: 'annotated in the namespace that already uses it',
    kind: 'gsa-shared',
    snapshot,
    event: annotationPatch('checkout', 'default', ORBIT.cart),
    want: [],
  },
  {
    name: 'a KSA that already names the GSA',
    kind: 'gsa-shared',
    snapshot: cartInSearch,
    event: annotationPatch('search', 'query', ORBIT.cart),
    want: [],
  },
  {
    name: 'an annotation removed',
    kind: 'gsa-shared',
    snapshot,
    event: annotationPatch('analytics', 'report', null),
    want: [],
  },
  {
    name: 'no inventory',
    kind: 'gsa-shared',
    event: annotationPatch('analytics', 'report', ORBIT.cart),
    want: [],
  },
  {
    name: 'scan: a GSA named from two namespaces (the namespace with more KSAs keeps it)',
    kind: 'gsa-shared',
    snapshot: cartInSearch,
    want: [
      {
        ...cartShared,
        ksas: ['checkout/cart', 'checkout/pricing', 'search/query'],
        summary:
          /^cart@orbit-prod\.iam\.gserviceaccount\.com is used from 2 namespaces \(checkout, search\) \(found by the sweep\): give each workload its own GSA$/,
        commands: [/^gcloud iam service-accounts create search-query --project orbit-prod$/],
      },
    ],
  },
  {
    name: 'scan: a GSA named by several KSAs of one namespace, in several clusters',
    kind: 'gsa-shared',
    snapshot,
    want: [],
  },
];

export const CASES: DetectorCase[] = [...GSA_BROAD_ROLE, ...BINDING_ORPHANED, ...GSA_SHARED];
