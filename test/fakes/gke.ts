/**
 * A fake GKE API (container.googleapis.com v1 REST) on 127.0.0.1 that `@google-cloud/container`'s
 * ClusterManagerClient talks to over its REST transport, serving the clusters of a Snapshot.
 *
 *   const gke = await startFakeGke({ snapshot, token, kubernetes: { endpoint, caPem } });
 *   // GKE_API_URL = gke.url; gke.calls records every request; gke.fault({...}) scripts failures
 *
 * Routes: GET /v1/projects/P/locations/L/clusters (L `-` for all locations; `missingZones` from the
 * options) and GET /v1/projects/P/locations/L/clusters/C. Enums are names, or numbers when the client
 * asks for `$alt=json;enum-encoding=int` (as the library does). A cluster's `endpoint` points at the
 * Kubernetes fake and `masterAuth.clusterCaCertificate` holds its CA (base64 PEM), as GKE gives them.
 * A project absent from the snapshot answers 403, as Google does for a project one cannot see.
 * Resource fields: https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters
 */
import type { Snapshot, SnapshotCluster } from '../../shared/inventory/snapshot.ts';
import {
  type FakeAnswer,
  type FakeRequest,
  type FakeRoute,
  type FakeServer,
  googleError,
  startGoogleFake,
  unknownMethod,
} from './fake-server.ts';

export interface FakeGkeOptions {
  snapshot: Snapshot;
  token: string;
  latencyMs?: number;
  /** Where each cluster's Kubernetes API answers (host:port[/path]) and the CA of its certificate. */
  kubernetes?: { endpoint: (project: string, cluster: SnapshotCluster) => string; caPem?: string };
  /** Per project, zones GKE could not reach (ListClustersResponse.missingZones). */
  missingZones?: Record<string, string[]>;
  /** Edits a cluster resource before it is served (a DNS endpoint, a status, …). */
  decorate?: (resource: Record<string, unknown>, cluster: SnapshotCluster, project: string) => void;
}

export interface FakeGke extends FakeServer {
  /** Serve another organization from now on. */
  setSnapshot(snapshot: Snapshot): void;
}

const STATUS = [
  'STATUS_UNSPECIFIED',
  'PROVISIONING',
  'RUNNING',
  'RECONCILING',
  'STOPPING',
  'ERROR',
  'DEGRADED',
];
const MODE = ['MODE_UNSPECIFIED', 'GCE_METADATA', 'GKE_METADATA'];

export async function startFakeGke(options: FakeGkeOptions): Promise<FakeGke> {
  let snapshot = options.snapshot;

  const resource = (project: string, cluster: SnapshotCluster, numericEnums: boolean) =>
    clusterResource(project, cluster, options, numericEnums);

  function route(request: FakeRequest): FakeRoute {
    const numericEnums = (request.query.$alt ?? '').includes('enum-encoding=int');
    const list = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/clusters$/.exec(request.path);
    if (request.method === 'GET' && list) {
      const [, project = '', location = ''] = list;
      return {
        kind: 'gke.listClusters',
        answer: () => {
          const found = snapshot.projects.find((p) => p.projectId === project);
          if (!found) return denied(project);
          const clusters = found.clusters
            .filter((cluster) => location === '-' || cluster.location === location)
            .map((cluster) => resource(project, cluster, numericEnums));
          const missingZones = options.missingZones?.[project] ?? [];
          return { status: 200, body: { clusters, ...(missingZones.length > 0 ? { missingZones } : {}) } };
        },
      };
    }
    const get = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/.exec(request.path);
    if (request.method === 'GET' && get) {
      const [, project = '', location = '', name = ''] = get;
      return {
        kind: 'gke.getCluster',
        answer: (): FakeAnswer => {
          const found = snapshot.projects.find((p) => p.projectId === project);
          if (!found) return denied(project);
          const cluster = found.clusters.find((c) => c.location === location && c.name === name);
          if (!cluster) {
            return {
              status: 404,
              body: googleError(
                404,
                `Not found: projects/${project}/locations/${location}/clusters/${name}.`,
              ),
            };
          }
          return { status: 200, body: resource(project, cluster, numericEnums) };
        },
      };
    }
    return unknownMethod('gke', request);
  }

  const server = await startGoogleFake('gke', options, route);
  return Object.assign(server, {
    setSnapshot(next: Snapshot) {
      snapshot = next;
    },
  });
}

/**
 * A cluster as GKE's v1 REST API gives it (enum names, or numbers for `enum-encoding=int`), the
 * Kubernetes fake as its endpoint. Cloud Asset Inventory serves the same JSON as the cluster's
 * versioned resource (see asset.ts).
 */
export function clusterResource(
  project: string,
  cluster: SnapshotCluster,
  options: Pick<FakeGkeOptions, 'kubernetes' | 'decorate'> = {},
  numericEnums = false,
): Record<string, unknown> {
  const enumOf = (names: string[], name: string) => (numericEnums ? Math.max(0, names.indexOf(name)) : name);
  const status = typeof cluster.status === 'string' ? cluster.status : 'RUNNING';
  const value: Record<string, unknown> = {
    name: cluster.name,
    location: cluster.location,
    // Zonal clusters carry their zone too (deprecated field, still served).
    zone: cluster.location,
    status: enumOf(STATUS, status),
    selfLink: `https://container.googleapis.com/v1/projects/${project}/locations/${cluster.location}/clusters/${cluster.name}`,
    nodePools: cluster.nodePools.map((pool) => nodePoolResource(pool, numericEnums)),
    ...(cluster.workloadPool ? { workloadIdentityConfig: { workloadPool: cluster.workloadPool } } : {}),
    ...(options.kubernetes ? { endpoint: options.kubernetes.endpoint(project, cluster) } : {}),
    ...(options.kubernetes?.caPem
      ? { masterAuth: { clusterCaCertificate: Buffer.from(options.kubernetes.caPem).toString('base64') } }
      : {}),
  };
  options.decorate?.(value, cluster, project);
  return value;
}

/** A node pool as GKE's v1 REST API gives it. */
export function nodePoolResource(
  pool: SnapshotCluster['nodePools'][number],
  numericEnums = false,
): Record<string, unknown> {
  const enumOf = (names: string[], name: string) => (numericEnums ? Math.max(0, names.indexOf(name)) : name);
  return {
    name: pool.name,
    config: {
      machineType: 'e2-standard-4',
      ...(pool.workloadMetadataMode
        ? { workloadMetadataConfig: { mode: enumOf(MODE, pool.workloadMetadataMode) } }
        : {}),
    },
    status: enumOf(STATUS, 'RUNNING'),
  };
}

function denied(project: string): FakeAnswer {
  return {
    status: 403,
    body: googleError(403, `Permission denied on resource project ${project}.`),
  };
}
