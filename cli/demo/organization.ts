import type { Snapshot } from '../../shared/inventory/snapshot.ts';

/**
 * The simulated organization of `wi-sentinel demo`: one project, two WI clusters, a dozen WI KSAs.
 * Everything here is made up; nothing reaches Google.
 */
export const PROJECT = 'acme-shop';
export const PROJECT_NUMBER = '314159265358';
export const POOL = `${PROJECT}.svc.id.goog`;

const gsa = (name: string) => `${name}@${PROJECT}.iam.gserviceaccount.com`;
const member = (namespace: string, name: string) => `serviceAccount:${POOL}[${namespace}/${name}]`;

interface Workload {
  namespace: string;
  ksa: string;
  gsa: string;
  kind: 'Deployment' | 'StatefulSet' | 'CronJob';
  name: string;
  /** Node pool of each replica. */
  pods: string[];
}

const PROD: Workload[] = [
  {
    namespace: 'storefront',
    ksa: 'web',
    gsa: 'storefront',
    kind: 'Deployment',
    name: 'web',
    pods: ['default-pool', 'default-pool', 'spot-pool'],
  },
  {
    namespace: 'storefront',
    ksa: 'cart',
    gsa: 'storefront',
    kind: 'Deployment',
    name: 'cart',
    pods: ['default-pool', 'spot-pool'],
  },
  {
    namespace: 'checkout',
    ksa: 'payments',
    gsa: 'payments',
    kind: 'Deployment',
    name: 'payments',
    pods: ['default-pool', 'default-pool'],
  },
  {
    namespace: 'checkout',
    ksa: 'fraud',
    gsa: 'fraud',
    kind: 'Deployment',
    name: 'fraud-scorer',
    pods: ['default-pool'],
  },
  {
    namespace: 'catalog',
    ksa: 'search',
    gsa: 'catalog',
    kind: 'Deployment',
    name: 'search',
    pods: ['spot-pool', 'spot-pool'],
  },
  {
    namespace: 'catalog',
    ksa: 'indexer',
    gsa: 'catalog-indexer',
    kind: 'CronJob',
    name: 'indexer',
    pods: ['batch-pool'],
  },
  {
    namespace: 'orders',
    ksa: 'api',
    gsa: 'orders',
    kind: 'Deployment',
    name: 'orders-api',
    pods: ['default-pool', 'default-pool'],
  },
  {
    namespace: 'orders',
    ksa: 'worker',
    gsa: 'orders',
    kind: 'StatefulSet',
    name: 'orders-worker',
    pods: ['default-pool', 'spot-pool'],
  },
  {
    namespace: 'notifications',
    ksa: 'mailer',
    gsa: 'mailer',
    kind: 'Deployment',
    name: 'mailer',
    pods: ['default-pool'],
  },
  {
    namespace: 'analytics',
    ksa: 'etl',
    gsa: 'analytics',
    kind: 'CronJob',
    name: 'nightly-etl',
    pods: ['batch-pool', 'batch-pool'],
  },
  {
    namespace: 'analytics',
    ksa: 'reports',
    gsa: 'analytics',
    kind: 'Deployment',
    name: 'reports',
    pods: ['batch-pool'],
  },
];

const EU: Workload[] = [
  {
    namespace: 'storefront',
    ksa: 'web',
    gsa: 'storefront',
    kind: 'Deployment',
    name: 'web',
    pods: ['default-pool', 'default-pool'],
  },
  {
    namespace: 'orders',
    ksa: 'api',
    gsa: 'orders',
    kind: 'Deployment',
    name: 'orders-api',
    pods: ['default-pool'],
  },
];

function clusterOf(name: string, location: string, pools: string[], workloads: Workload[]) {
  const ksas = new Map(workloads.map((w) => [`${w.namespace}/${w.ksa}`, w]));
  return {
    name,
    location,
    workloadPool: POOL,
    nodePools: pools.map((pool) => ({ name: pool, workloadMetadataMode: 'GKE_METADATA' })),
    serviceAccounts: [...ksas.values()].map((w) => ({
      namespace: w.namespace,
      name: w.ksa,
      annotations: { 'iam.gke.io/gcp-service-account': gsa(w.gsa) },
    })),
    pods: workloads.flatMap((w) =>
      w.pods.map((pool, index) => ({
        namespace: w.namespace,
        name: `${w.name}-${(index + 10).toString(36)}${name.length}`,
        labels: { app: w.name },
        serviceAccountName: w.ksa,
        nodePool: pool,
        owner: { kind: w.kind, name: w.name },
        env: ['PORT'],
      })),
    ),
    networkPolicies: [],
  };
}

const ALL = [...PROD, ...EU];
const GSAS = [...new Set(ALL.map((w) => w.gsa))];

/** The unique id of a demo GSA (what `gcloud iam service-accounts undelete` takes). */
export function uniqueIdOf(name: string): string {
  return `11800000000000000${(GSAS.indexOf(name) + 1000).toString()}`;
}

export function demoOrganization(): Snapshot {
  const all = ALL;
  const gsas = GSAS;
  return {
    projects: [
      {
        projectId: PROJECT,
        projectNumber: PROJECT_NUMBER,
        clusters: [
          clusterOf('shop-prod', 'us-central1', ['default-pool', 'spot-pool', 'batch-pool'], PROD),
          clusterOf('shop-eu', 'europe-west1', ['default-pool'], EU),
        ],
        serviceAccounts: gsas.map((name) => ({
          email: gsa(name),
          uniqueId: uniqueIdOf(name),
          disabled: false,
          iamPolicy: {
            bindings: [
              {
                role: 'roles/iam.workloadIdentityUser',
                members: [
                  ...new Set(all.filter((w) => w.gsa === name).map((w) => member(w.namespace, w.ksa))),
                ],
              },
            ],
          },
        })),
      },
    ],
  };
}

export { gsa, member };
