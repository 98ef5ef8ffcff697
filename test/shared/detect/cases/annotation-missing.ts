import { clusterOf, loadSnapshot, ORBIT, variant } from '../../../support/snapshots.ts';
import type { DetectorCase, Expected } from './case.ts';
import { annotationPatch, ksa } from './events.ts';

const snapshot = loadSnapshot();
const kind = 'annotation-missing';
const fp = (ns: string, name: string, ref: { location: string; name: string } = ORBIT.core) =>
  `annotation-missing/orbit-prod/${ref.location}/${ref.name}/${ns}/${name}`;
const CART_GSA = /cart@orbit-prod\.iam\.gserviceaccount\.com/.source;
const credentials = (ref: { location: string; name: string }) =>
  new RegExp(
    `^gcloud container clusters get-credentials ${ref.name} --location ${ref.location} --project orbit-prod$`,
  );

/** checkout/cart in core-1 without its annotation (already broken). */
const cartUnannotated = variant((s) => {
  const cart = clusterOf(s, 'core-1').serviceAccounts.find((k) => k.name === 'cart');
  if (cart) cart.annotations = {};
});

/** search/indexer deleted from core-1; its CronJob pod still runs as it. */
const indexerDeleted = variant((s) => {
  const core = clusterOf(s, 'core-1');
  core.serviceAccounts = core.serviceAccounts.filter((k) => k.name !== 'indexer');
});

/** checkout/pricing unannotated, but it holds a role on the project as itself (direct resource access). */
const pricingDirectAccess = variant((s) => {
  const pricing = clusterOf(s, 'core-1').serviceAccounts.find((k) => k.name === 'pricing');
  if (pricing) pricing.annotations = {};
  const project = s.projects[0];
  if (project)
    project.iamPolicy = {
      bindings: [{ role: 'roles/storage.objectViewer', members: [ORBIT.principal('checkout', 'pricing')] }],
    };
});

const cartFiring: Expected = {
  status: 'firing',
  severity: 'critical',
  fingerprint: fp('checkout', 'cart'),
  cluster: ORBIT.core,
  gsa: ORBIT.cart,
  ksas: ['checkout/cart'],
  // The annotation lives on one cluster's KSA: edge-1's cart pods keep theirs.
  workloads: ['core-1 checkout Deployment/cart @general ×1', 'core-1 checkout Deployment/cart @spot ×1'],
  summary: new RegExp(
    `^checkout/cart lost its annotation naming ${CART_GSA} \\((patched|updated) by alice@example\\.com\\): its pods get no Google credentials \\(1 KSA, 2 pods in 1 cluster\\)$`,
  ),
  commands: [
    credentials(ORBIT.core),
    new RegExp(
      `^kubectl annotate serviceaccount cart -n checkout iam\\.gke\\.io/gcp-service-account=${CART_GSA} --overwrite$`,
    ),
    /^kubectl rollout restart deployment\/cart -n checkout$/,
  ],
};

export const CASES: DetectorCase[] = [
  {
    name: 'the annotation removed by a patch: pods of this cluster only',
    kind,
    snapshot,
    event: annotationPatch('checkout', 'cart', null),
    want: [cartFiring],
  },
  {
    name: 'an update that drops the annotation (object after the change only)',
    kind,
    snapshot,
    event: ksa('update', 'checkout', 'cart', { annotations: { team: 'payments' } }),
    want: [cartFiring],
  },
  {
    name: 'the annotation removed in the other cluster of the pool',
    kind,
    snapshot,
    event: annotationPatch('checkout', 'cart', null, ORBIT.edge),
    want: [
      {
        ...cartFiring,
        fingerprint: fp('checkout', 'cart', ORBIT.edge),
        cluster: ORBIT.edge,
        workloads: ['edge-1 checkout Deployment/cart @default-pool ×2'],
        summary: /lost its annotation .*\(1 KSA, 2 pods in 1 cluster\)$/,
        commands: [credentials(ORBIT.edge)],
      },
    ],
  },
  {
    name: 'an explicit null patch, no inventory: fires without knowing the GSA',
    kind,
    event: annotationPatch('checkout', 'cart', null),
    want: [
      {
        status: 'firing',
        severity: 'critical',
        fingerprint: fp('checkout', 'cart'),
        cluster: ORBIT.core,
        ksas: ['checkout/cart'],
        summary:
          /^checkout\/cart lost its annotation \(patched by alice@example\.com\): its pods get no Google credentials$/,
        commands: [credentials(ORBIT.core), /^kubectl get serviceaccount cart -n checkout -o yaml$/],
      },
    ],
  },
  {
    name: 'an annotated KSA deleted',
    kind,
    snapshot,
    event: ksa('delete', 'checkout', 'pricing'),
    want: [
      {
        status: 'firing',
        severity: 'critical',
        fingerprint: fp('checkout', 'pricing'),
        cluster: ORBIT.core,
        gsa: ORBIT.cart,
        ksas: ['checkout/pricing'],
        workloads: ['core-1 checkout StatefulSet/pricing @highmem ×1'],
        summary: new RegExp(
          `^checkout/pricing \\(annotated with ${CART_GSA}\\) was deleted by alice@example\\.com: `,
        ),
        commands: [
          new RegExp(
            `^kubectl create serviceaccount pricing -n checkout && kubectl annotate serviceaccount pricing -n checkout iam\\.gke\\.io/gcp-service-account=${CART_GSA}$`,
          ),
          /^kubectl rollout restart statefulset\/pricing -n checkout$/,
        ],
      },
    ],
  },
  {
    name: 'the annotation set again by a patch, no inventory: resolved',
    kind,
    event: annotationPatch('checkout', 'cart', ORBIT.cart),
    want: [
      {
        status: 'resolved',
        severity: 'critical',
        fingerprint: fp('checkout', 'cart'),
        cluster: ORBIT.core,
        gsa: ORBIT.cart,
        ksas: ['checkout/cart'],
        summary: new RegExp(`^checkout/cart names ${CART_GSA} again \\(patched by alice@example\\.com\\)$`),
      },
    ],
  },
  {
    name: 'the annotation set on a KSA the inventory knows without it: resolved',
    kind,
    snapshot: cartUnannotated,
    event: ksa('update', 'checkout', 'cart', {
      annotations: { 'iam.gke.io/gcp-service-account': ORBIT.cart },
    }),
    want: [
      {
        status: 'resolved',
        severity: 'critical',
        fingerprint: fp('checkout', 'cart'),
        cluster: ORBIT.core,
        gsa: ORBIT.cart,
        ksas: ['checkout/cart'],
        summary: /names cart@orbit-prod\.iam\.gserviceaccount\.com again \(updated by alice@example\.com\)$/,
      },
    ],
  },
  {
    name: 'a null patch on a KSA the inventory knows without an annotation',
    kind,
    snapshot,
    event: annotationPatch('search', 'query', null),
    want: [],
  },
  {
    name: 'an update without the annotation, no inventory: nothing says it had one',
    kind,
    event: ksa('update', 'checkout', 'cart', { annotations: {} }),
    want: [],
  },
  {
    name: 'a KSA deleted, no inventory',
    kind,
    event: ksa('delete', 'checkout', 'cart'),
    want: [],
  },
  {
    name: 'a patch that does not touch annotations',
    kind,
    snapshot,
    event: ksa('patch', 'checkout', 'cart'),
    want: [],
  },
  {
    name: 'the annotation changed to another GSA (binding-missing judges it)',
    kind,
    snapshot,
    event: annotationPatch('checkout', 'cart', ORBIT.indexer),
    want: [],
  },
  {
    name: 'an update that keeps the annotation',
    kind,
    snapshot,
    event: ksa('update', 'checkout', 'cart', {
      annotations: { 'iam.gke.io/gcp-service-account': ORBIT.cart },
    }),
    want: [],
  },
  {
    name: 'a cluster without WI',
    kind,
    snapshot,
    event: annotationPatch('default', 'default', null, ORBIT.sandbox),
    want: [],
  },
  {
    name: 'scan: a KSA bound by name on a GSA but not annotated',
    kind,
    snapshot: cartUnannotated,
    want: [
      {
        ...cartFiring,
        summary: new RegExp(
          `^checkout/cart in core-1 is bound on ${CART_GSA} but not annotated \\(found by the sweep\\): its pods get no Google credentials \\(1 KSA, 2 pods in 1 cluster\\)$`,
        ),
      },
    ],
  },
  {
    name: 'scan: a KSA deleted while its pods still run, bound in the principal:// form',
    kind,
    snapshot: indexerDeleted,
    want: [
      {
        status: 'firing',
        severity: 'critical',
        fingerprint: fp('search', 'indexer'),
        cluster: ORBIT.core,
        gsa: ORBIT.indexer,
        ksas: ['search/indexer'],
        workloads: ['core-1 search CronJob/indexer @spot ×1'],
        summary:
          /^search\/indexer no longer exists in core-1 \(found by the sweep\), yet pods still run as it and indexer@orbit-prod\.iam\.gserviceaccount\.com binds it: they get no Google credentials \(1 KSA, 1 pod in 1 cluster\)$/,
        commands: [
          credentials(ORBIT.core),
          /^kubectl create serviceaccount indexer -n search && kubectl annotate serviceaccount indexer -n search iam\.gke\.io\/gcp-service-account=indexer@orbit-prod\.iam\.gserviceaccount\.com$/,
        ],
      },
    ],
  },
  {
    name: 'scan: bound only namespace-wide (search/query), or using direct resource access (no annotation needed)',
    kind,
    snapshot: pricingDirectAccess,
    want: [],
  },
];
