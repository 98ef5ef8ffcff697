import type { protos } from '@google-cloud/container';
import type { ClusterManagerClient } from '@google-cloud/container/build/src/v1/index.js';
import { LookupError } from '../errors.ts';
import type { SnapshotNodePool } from '../inventory/snapshot.ts';
import { oauthClientFor, type TokenSource } from './auth.ts';
import { gaxLookupError } from './gax-error.ts';
import { DEFAULT_TIMEOUT_MS } from './http.ts';
import { type ClusterKey, type GkeCluster, type GkePort, IncompleteClusterListError } from './ports.ts';
import { DEFAULT_RETRY, type RetryHooks, type RetryPolicy, withRetries } from './retry.ts';

/**
 * GkePort with `@google-cloud/container`'s ClusterManagerClient, loaded on first use. Against
 * Google (container.googleapis.com) it speaks gRPC; against any other URL (tests, fakes) its REST
 * transport, so a plain HTTP server can answer. Fields: https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters
 */
export interface GkeAdapterOptions {
  tokens: TokenSource;
  /** Default https://container.googleapis.com */
  apiUrl?: string;
  /** Per attempt, ms. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  hooks?: RetryHooks;
}

type Cluster = protos.google.container.v1.ICluster;

const GOOGLE_HOST = 'container.googleapis.com';

export function createGkePort({
  tokens,
  apiUrl = `https://${GOOGLE_HOST}`,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  retry = DEFAULT_RETRY,
  hooks = {},
}: GkeAdapterOptions): GkePort {
  let client: Promise<ClusterManagerClient> | undefined;
  const clientOf = () => {
    client ??= createClient(apiUrl, tokens).catch((error: unknown) => {
      client = undefined;
      throw error;
    });
    return client;
  };
  // gax retries nothing (retry: null): our policy retries, so every API reads alike. Its REST
  // transport does not enforce the deadline, hence withTimeout.
  const callOptions = { timeout: timeoutMs, retry: null };

  async function call<T>(what: string, permission: string, run: (c: ClusterManagerClient) => Promise<T>) {
    const timedOut = () =>
      new LookupError(`${what}: container did not answer within ${timeoutMs} ms`, {
        api: 'container',
        retryable: true,
      });
    return withRetries(
      async () => {
        const c = await clientOf();
        try {
          return await withTimeout(run(c), timeoutMs, timedOut);
        } catch (error) {
          throw gaxLookupError(error, { api: 'container', what, permission, timeoutMs });
        }
      },
      retry,
      hooks,
    );
  }

  return {
    async listClusters(project) {
      const [response] = await call(`clusters of project ${project}`, 'container.clusters.list', (c) =>
        c.listClusters({ parent: `projects/${project}/locations/-` }, callOptions),
      );
      const clusters = (response.clusters ?? []).map((cluster) => toGkeCluster(project, cluster));
      const missing = response.missingZones ?? [];
      if (missing.length > 0) throw new IncompleteClusterListError(project, clusters, missing);
      return clusters;
    },

    async getCluster(key: ClusterKey) {
      try {
        const [cluster] = await call(
          `cluster ${key.project}/${key.location}/${key.name}`,
          'container.clusters.get',
          (c) =>
            c.getCluster(
              { name: `projects/${key.project}/locations/${key.location}/clusters/${key.name}` },
              callOptions,
            ),
        );
        return toGkeCluster(key.project, cluster);
      } catch (error) {
        if (error instanceof LookupError && error.status === 404) return undefined;
        throw error;
      }
    },
  };
}

async function createClient(apiUrl: string, tokens: TokenSource): Promise<ClusterManagerClient> {
  const [{ ClusterManagerClient }, authClient] = await Promise.all([
    // v1 only: the package's entry loads v1beta1 too, 25 MB more for nothing we call.
    import('@google-cloud/container/build/src/v1/index.js'),
    oauthClientFor(tokens),
  ]);
  const url = new URL(apiUrl);
  // The library brings its own google-auth-library copy; ours is the same API (duck-typed by gax).
  type Options = NonNullable<ConstructorParameters<typeof ClusterManagerClient>[0]>;
  const auth = authClient as unknown as NonNullable<Options['authClient']>;
  if (url.hostname === GOOGLE_HOST) return new ClusterManagerClient({ authClient: auth });
  const protocol = url.protocol.replace(/:$/, '');
  return new ClusterManagerClient({
    authClient: auth,
    fallback: true,
    apiEndpoint: url.hostname,
    port: Number(url.port || (protocol === 'http' ? 80 : 443)),
    protocol,
  });
}

/** The Snapshot's view of a cluster: Workload Identity, pools, and how to reach its Kubernetes API. */
export function toGkeCluster(project: string, cluster: Cluster): GkeCluster {
  const dns = cluster.controlPlaneEndpointsConfig?.dnsEndpointConfig;
  // The DNS endpoint is always listed but takes user traffic only when allowed; it is what reaches a
  // private cluster from outside its network, with a publicly trusted certificate (no cluster CA).
  const useDns = Boolean(dns?.endpoint) && dns?.allowExternalTraffic === true;
  const endpoint = useDns ? dns?.endpoint : cluster.endpoint;
  const ca = cluster.masterAuth?.clusterCaCertificate;
  return {
    project,
    location: cluster.location ?? cluster.zone ?? '',
    name: cluster.name ?? '',
    ...(cluster.workloadIdentityConfig?.workloadPool
      ? { workloadPool: cluster.workloadIdentityConfig.workloadPool }
      : {}),
    nodePools: (cluster.nodePools ?? []).map(toNodePool),
    ...(endpoint ? { endpoint } : {}),
    ...(!useDns && ca ? { caCertificate: ca } : {}),
    ...(cluster.status ? { status: String(cluster.status) } : {}),
  };
}

export function toNodePool(pool: protos.google.container.v1.INodePool): SnapshotNodePool {
  const mode = pool.config?.workloadMetadataConfig?.mode;
  // The client decodes enums to their names (a number only for a value it does not know).
  const name = mode === null || mode === undefined ? undefined : String(mode);
  return {
    name: pool.name ?? '',
    ...(name && name !== 'MODE_UNSPECIFIED' ? { workloadMetadataMode: name } : {}),
  };
}

/** Rejects with a retryable LookupError when `call` takes longer than `timeoutMs`, cancelling it. */
export async function withTimeout<T>(
  call: Promise<T> & { cancel?: () => void },
  timeoutMs: number,
  timedOut: () => LookupError,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      call.cancel?.();
      reject(timedOut());
    }, timeoutMs);
  });
  try {
    return await Promise.race([call, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
