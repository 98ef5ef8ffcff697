import type {
  Snapshot,
  SnapshotCluster,
  SnapshotGsa,
  SnapshotPod,
} from '../../../shared/inventory/snapshot.ts';

/**
 * A large organization's inventory, generated (the same for the same seed): by default 50 clusters
 * and 60,000 pods, about 20 MB of JSON. Names carry the randomness real ones do (ReplicaSet hashes,
 * pod suffixes), so it compresses about as a live export would, not as a string repeated.
 */
export interface LargeInventoryOptions {
  seed?: number;
  projects?: number;
  clustersPerProject?: number;
  podsPerCluster?: number;
}

const ENV = [
  'PORT',
  'LOG_LEVEL',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_SERVICE_NAME',
  'DATABASE_URL',
  'REDIS_HOST',
  'FEATURE_FLAGS',
  'JAVA_TOOL_OPTIONS',
  'GOMAXPROCS',
  'NODE_OPTIONS',
  'POD_NAME',
  'POD_NAMESPACE',
  'GOOGLE_CLOUD_PROJECT',
  'PUBSUB_TOPIC',
  'BUCKET',
  'HTTP_PROXY',
  'NO_PROXY',
  'TZ',
];
const TEAMS = ['payments', 'search', 'checkout', 'identity', 'ml', 'data', 'edge', 'ops', 'growth', 'media'];
const KINDS = ['Deployment', 'Deployment', 'Deployment', 'StatefulSet', 'DaemonSet', 'CronJob'];
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** mulberry32: small, fast, and the same sequence on every machine. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function largeInventory({
  seed = 7,
  projects = 5,
  clustersPerProject = 10,
  podsPerCluster = 1_200,
}: LargeInventoryOptions = {}): Snapshot {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const token = (length: number) => Array.from({ length }, () => pick([...ALPHABET])).join('');

  return {
    projects: Array.from({ length: projects }, (_, p) => {
      const projectId = `acme-${pick(TEAMS)}-${p}`;
      const pool = `${projectId}.svc.id.goog`;
      const gsas: SnapshotGsa[] = Array.from({ length: 400 }, (_, g) => {
        const email = `${pick(TEAMS)}-${g}@${projectId}.iam.gserviceaccount.com`;
        return {
          email,
          uniqueId: String(100_000_000_000_000_000_000 + Math.floor(next() * 1e15)),
          disabled: false,
          iamPolicy: {
            bindings: [
              {
                role: 'roles/iam.workloadIdentityUser',
                members: [`serviceAccount:${pool}[${pick(TEAMS)}/sa-${g}]`],
              },
            ],
            etag: token(12),
          },
        };
      });
      const clusters: SnapshotCluster[] = Array.from({ length: clustersPerProject }, (_, c) => {
        const pools = ['general', 'highmem', 'spot', 'gpu'];
        const workloads = Array.from({ length: Math.ceil(podsPerCluster / 8) }, (_, w) => ({
          namespace: pick(TEAMS),
          name: `svc-${w}-${token(4)}`,
          kind: pick(KINDS),
          hash: token(10),
          env: ENV.filter(() => next() < 0.4),
        }));
        const pods: SnapshotPod[] = Array.from({ length: podsPerCluster }, (_, i) => {
          const workload = workloads[i % workloads.length] as (typeof workloads)[number];
          return {
            namespace: workload.namespace,
            name: `${workload.name}-${workload.hash}-${token(5)}`,
            labels: {
              app: workload.name,
              team: workload.namespace,
              'pod-template-hash': workload.hash,
              version: `v${1 + Math.floor(next() * 40)}`,
            },
            serviceAccountName: `sa-${i % 300}`,
            nodePool: pick(pools),
            owner: { kind: workload.kind, name: workload.name },
            env: workload.env,
          };
        });
        return {
          name: `cluster-${c}`,
          location: pick(['us-central1', 'europe-west4', 'asia-east1', 'us-east1-b']),
          workloadPool: pool,
          nodePools: pools.map((name) => ({ name, workloadMetadataMode: 'GKE_METADATA' })),
          serviceAccounts: Array.from({ length: 300 }, (_, k) => ({
            namespace: pick(TEAMS),
            name: `sa-${k}`,
            annotations: {
              'iam.gke.io/gcp-service-account': (gsas[k % gsas.length] as SnapshotGsa).email,
            },
          })),
          pods,
          networkPolicies: [],
        };
      });
      return { projectId, projectNumber: String(100_000_000_000 + p), clusters, serviceAccounts: gsas };
    }),
  };
}
