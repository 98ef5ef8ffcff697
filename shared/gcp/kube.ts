import type { CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { LookupError } from '../errors.ts';
import type { NetworkPolicy } from '../inventory/network-policy-schema.ts';
import type { SnapshotKsa, SnapshotPod } from '../inventory/snapshot.ts';
import type { TokenSource } from './auth.ts';
import { DEFAULT_TIMEOUT_MS, statusError, transportError } from './http.ts';
import { clusterPath, type GkeCluster, type KubePort } from './ports.ts';
import { DEFAULT_RETRY, type RetryHooks, type RetryPolicy, withRetries } from './retry.ts';

/**
 * KubePort with `@kubernetes/client-node` (loaded on first use) against each cluster's control plane:
 * the endpoint and CA come from the GKE API, the bearer token is a Google access token (GKE accepts
 * them). Lists go page by page (`limit` / `continue`) and each page is mapped to the Snapshot's
 * shapes as it arrives, from the API's JSON, dropping the rest of every object: the library's own
 * deserialization (a second full copy of every page as model classes) is skipped for lists, which
 * halved the sweep's CPU and garbage. Every request has a timeout: a control plane that hangs fails
 * that cluster's reads only.
 */
export interface KubeAdapterOptions {
  tokens: TokenSource;
  /** Per request, ms. */
  timeoutMs?: number;
  /** Objects per list page. */
  pageSize?: number;
  retry?: RetryPolicy;
  hooks?: RetryHooks;
}

/** Kubernetes' own objects per page (the apiserver's default chunk size is 500 too). */
export const DEFAULT_PAGE_SIZE = 500;
export const NODE_POOL_LABEL = 'cloud.google.com/gke-nodepool';
/** KSA annotations kept: Workload Identity's. Others (last-applied-configuration, …) are dropped. */
const KEPT_ANNOTATION_PREFIX = 'iam.gke.io/';

interface Clients {
  token: string;
  core: CoreV1Api;
  networking: NetworkingV1Api;
  /** The cluster's connection pool, shared by all its requests (see requestOptions). */
  pool: { dispatcher?: unknown };
}

/** A list response as the API server sends it (JSON field names, `continue` not `_continue`). */
interface RawList {
  items?: unknown[];
  metadata?: { continue?: string };
}

/** The fields of API objects that the Snapshot keeps, as JSON. */
interface RawMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; controller?: boolean }[];
}
interface RawContainer {
  env?: { name: string }[];
}
export interface RawPod {
  metadata?: RawMeta;
  spec?: {
    serviceAccountName?: string;
    nodeName?: string;
    containers?: RawContainer[];
    initContainers?: RawContainer[];
  };
}
export interface RawObject {
  metadata?: RawMeta;
  spec?: Record<string, unknown>;
}

/** What a read is, for errors and for the permission it needs (GKE's IAM names for Kubernetes verbs). */
interface Read {
  resource: 'pods' | 'serviceAccounts' | 'nodes' | 'networkPolicies' | 'namespaces';
  verb: 'list' | 'get';
  what: string;
}

export function createKubePort({
  tokens,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  pageSize = DEFAULT_PAGE_SIZE,
  retry = DEFAULT_RETRY,
  hooks = {},
}: KubeAdapterOptions): KubePort {
  const clients = new Map<string, Clients>();

  async function clientsOf(cluster: GkeCluster): Promise<Clients> {
    if (!cluster.endpoint) {
      throw new LookupError(
        `cluster ${clusterPath(cluster)} has no control-plane endpoint (status ${cluster.status ?? 'unknown'})`,
        {
          api: 'kubernetes',
          retryable: false,
        },
      );
    }
    const token = await tokens();
    const key = `${clusterPath(cluster)}\u0000${cluster.endpoint}\u0000${cluster.caCertificate ?? ''}`;
    const cached = clients.get(key);
    if (cached && cached.token === token) return cached;
    const made = await makeClients(cluster, cluster.endpoint, token);
    clients.set(key, made);
    return made;
  }

  /** One request, retried by policy, its failure classified. */
  async function request<T>(
    cluster: GkeCluster,
    clients: Clients,
    read: Read,
    send: (options: unknown) => Promise<T>,
    onList?: (body: RawList) => void,
  ): Promise<T> {
    return withRetries(
      async () => {
        try {
          return await send(requestOptions(timeoutMs, clients.pool, onList));
        } catch (error) {
          throw kubeError(error, cluster, read, timeoutMs);
        }
      },
      retry,
      hooks,
    );
  }

  /** Every page of a list, each mapped as it arrives. A 410 (continue token expired) restarts once. */
  async function list<R>(
    cluster: GkeCluster,
    read: Read,
    page: (c: Clients, query: { limit: number; _continue?: string }, options: unknown) => Promise<unknown>,
    map: (item: never) => R | undefined,
  ): Promise<R[]> {
    const c = await clientsOf(cluster);
    for (let restart = 0; ; restart += 1) {
      const out: R[] = [];
      let next: string | undefined;
      try {
        do {
          const query = { limit: pageSize, ...(next ? { _continue: next } : {}) };
          let body: RawList = {};
          await request(
            cluster,
            c,
            read,
            (options) => page(c, query, options),
            (raw) => {
              body = raw;
            },
          );
          for (const item of body.items ?? []) {
            const mapped = map(item as never);
            if (mapped !== undefined) out.push(mapped);
          }
          next = body.metadata?.continue || undefined;
        } while (next);
        return out;
      } catch (error) {
        if (restart === 0 && error instanceof LookupError && error.status === 410) continue;
        throw error;
      }
    }
  }

  async function nodePools(cluster: GkeCluster): Promise<Map<string, string>> {
    const nodes = await list(
      cluster,
      { resource: 'nodes', verb: 'list', what: `nodes of cluster ${clusterPath(cluster)}` },
      (c, query, options) => c.core.listNode(query, options as never),
      (node: RawObject) => {
        const name = node.metadata?.name;
        const pool = node.metadata?.labels?.[NODE_POOL_LABEL];
        return name && pool ? ([name, pool] as const) : undefined;
      },
    );
    return new Map(nodes);
  }

  return {
    listServiceAccounts(cluster, namespace) {
      const where = namespace === undefined ? '' : ` in namespace ${namespace}`;
      return list(
        cluster,
        {
          resource: 'serviceAccounts',
          verb: 'list',
          what: `service accounts of cluster ${clusterPath(cluster)}${where}`,
        },
        (c, query, options) =>
          namespace === undefined
            ? c.core.listServiceAccountForAllNamespaces(query, options as never)
            : c.core.listNamespacedServiceAccount({ ...query, namespace }, options as never),
        toSnapshotKsa,
      );
    },

    async getServiceAccount(cluster, namespace, name) {
      const c = await clientsOf(cluster);
      try {
        const ksa = await request(
          cluster,
          c,
          {
            resource: 'serviceAccounts',
            verb: 'get',
            what: `service account ${namespace}/${name} of cluster ${clusterPath(cluster)}`,
          },
          (options) => c.core.readNamespacedServiceAccount({ namespace, name }, options as never),
        );
        return toSnapshotKsa(ksa as RawObject);
      } catch (error) {
        if (error instanceof LookupError && error.status === 404) return undefined;
        throw error;
      }
    },

    async listPods(cluster, filter = {}) {
      // Only running pods use credentials now; the field selector keeps the rest off the wire.
      const fieldSelector = [
        'status.phase=Running',
        ...(filter.serviceAccountName ? [`spec.serviceAccountName=${filter.serviceAccountName}`] : []),
      ].join(',');
      const where = [
        filter.namespace && `namespace ${filter.namespace}`,
        filter.serviceAccountName && `service account ${filter.serviceAccountName}`,
      ]
        .filter(Boolean)
        .join(', ');
      const read: Read = {
        resource: 'pods',
        verb: 'list',
        what: `running pods of cluster ${clusterPath(cluster)}${where ? ` (${where})` : ''}`,
      };
      // Nodes and pods in parallel: one round trip, not two.
      const [pools, pods] = await Promise.all([
        nodePools(cluster),
        list(
          cluster,
          read,
          (c, query, options) =>
            filter.namespace === undefined
              ? c.core.listPodForAllNamespaces({ ...query, fieldSelector }, options as never)
              : c.core.listNamespacedPod(
                  { ...query, fieldSelector, namespace: filter.namespace },
                  options as never,
                ),
          toSnapshotPod,
        ),
      ]);
      for (const pod of pods) {
        const pool = pod.nodePool === undefined ? undefined : pools.get(pod.nodePool);
        if (pool === undefined) delete pod.nodePool;
        else pod.nodePool = pool;
      }
      return pods;
    },

    listNetworkPolicies(cluster, namespace) {
      const where = namespace === undefined ? '' : ` in namespace ${namespace}`;
      return list(
        cluster,
        {
          resource: 'networkPolicies',
          verb: 'list',
          what: `NetworkPolicies of cluster ${clusterPath(cluster)}${where}`,
        },
        (c, query, options) =>
          namespace === undefined
            ? c.networking.listNetworkPolicyForAllNamespaces(query, options as never)
            : c.networking.listNamespacedNetworkPolicy({ ...query, namespace }, options as never),
        toNetworkPolicy,
      );
    },

    listNamespaces(cluster) {
      return list(
        cluster,
        { resource: 'namespaces', verb: 'list', what: `namespaces of cluster ${clusterPath(cluster)}` },
        (c, query, options) => c.core.listNamespace(query, options as never),
        (namespace: RawObject) =>
          namespace.metadata?.name
            ? { name: namespace.metadata.name, labels: namespace.metadata.labels ?? {} }
            : undefined,
      );
    },
  };
}

async function makeClients(cluster: GkeCluster, endpoint: string, token: string): Promise<Clients> {
  const { KubeConfig, CoreV1Api, NetworkingV1Api } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      {
        name: 'gke',
        server: `https://${endpoint}`,
        // Absent for a DNS endpoint: its certificate is publicly trusted.
        ...(cluster.caCertificate ? { caData: cluster.caCertificate } : {}),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'wi-sentinel', token }],
    contexts: [{ name: 'gke', cluster: 'gke', user: 'wi-sentinel' }],
    currentContext: 'gke',
  });
  return {
    token,
    core: config.makeApiClient(CoreV1Api),
    networking: config.makeApiClient(NetworkingV1Api),
    pool: {},
  };
}

/**
 * Per-call options: a middleware that arms the request's timeout, keeps one connection pool per
 * cluster (the kubeconfig hands every request a new one: a TLS handshake each, sockets left open)
 * and, for lists, hands the page's JSON to `onList` and lets the library deserialize an empty list
 * in its place. The object API runs middleware as the library's Observable stub, which only calls
 * `toPromise()`.
 */
function requestOptions(timeoutMs: number, pool: { dispatcher?: unknown }, onList?: (body: RawList) => void) {
  const settled = <T>(value: T | Promise<T>) => ({ toPromise: () => Promise.resolve(value) });
  type Request = {
    setSignal(signal: AbortSignal): void;
    getDispatcher(): unknown;
    setDispatcher(dispatcher: unknown): void;
  };
  type Response = { httpStatusCode: number; body: { text(): Promise<string>; binary(): Promise<Buffer> } };
  const takeList = async (response: Response): Promise<Response> => {
    if (!onList || response.httpStatusCode < 200 || response.httpStatusCode > 299) return response;
    const body = JSON.parse(await response.body.text()) as RawList;
    onList(body);
    const empty = JSON.stringify({ metadata: {}, items: [] });
    response.body = { text: async () => empty, binary: async () => Buffer.from(empty) };
    return response;
  };
  return {
    middleware: [
      {
        pre: (context: Request) => {
          context.setSignal(AbortSignal.timeout(timeoutMs));
          pool.dispatcher ??= context.getDispatcher();
          if (pool.dispatcher !== undefined) context.setDispatcher(pool.dispatcher);
          return settled(context);
        },
        post: (response: Response) => settled(takeList(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

export function toSnapshotKsa(ksa: RawObject): SnapshotKsa | undefined {
  const { name, namespace, annotations = {} } = ksa.metadata ?? {};
  if (!name || !namespace) return undefined;
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith(KEPT_ANNOTATION_PREFIX)) kept[key] = value;
  }
  return { namespace, name, annotations: kept };
}

/** A pod in the Snapshot's shape; `nodePool` holds the node's name until the caller resolves it. */
export function toSnapshotPod(pod: RawPod): SnapshotPod | undefined {
  const { name, namespace, labels = {} } = pod.metadata ?? {};
  if (!name || !namespace) return undefined;
  const owner = ownerOf(pod);
  return {
    namespace,
    name,
    labels,
    serviceAccountName: pod.spec?.serviceAccountName || 'default',
    ...(pod.spec?.nodeName ? { nodePool: pod.spec.nodeName } : {}),
    ...(owner ? { owner } : {}),
    env: envNames(pod),
  };
}

/** The controller that owns the pod; a ReplicaSet is named for its Deployment (`<deployment>-<pod-template-hash>`). */
export function ownerOf(pod: RawPod): { kind: string; name: string } | undefined {
  const references = pod.metadata?.ownerReferences ?? [];
  const controller = references.find((reference) => reference.controller) ?? references[0];
  if (controller === undefined) return undefined;
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (controller.kind === 'ReplicaSet' && hash && controller.name.endsWith(`-${hash}`)) {
    return { kind: 'Deployment', name: controller.name.slice(0, -(hash.length + 1)) };
  }
  return { kind: controller.kind, name: controller.name };
}

/** Names of the environment variables of every container, init containers included: never values. */
export function envNames(pod: RawPod): string[] {
  const names = new Set<string>();
  for (const container of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const variable of container.env ?? []) names.add(variable.name);
  }
  return [...names];
}

/** A NetworkPolicy as the API serves it, its metadata cut down to what names it. */
export function toNetworkPolicy(policy: RawObject): NetworkPolicy | undefined {
  const { name, namespace, labels } = policy.metadata ?? {};
  if (!name) return undefined;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, ...(namespace ? { namespace } : {}), ...(labels ? { labels } : {}) },
    spec: (policy.spec ?? {}) as NetworkPolicy['spec'],
  };
}

/** A client-node failure as a LookupError: HTTP status from ApiException, else timeout / transport. */
export function kubeError(error: unknown, cluster: GkeCluster, read: Read, timeoutMs: number): LookupError {
  if (error instanceof LookupError) return error;
  const failure = error as { code?: unknown; body?: unknown; headers?: Record<string, string> };
  const request = {
    api: 'kubernetes',
    what: read.what,
    // GKE maps Kubernetes RBAC verbs to IAM permissions named container.RESOURCE.VERB.
    permission: `container.${read.resource}.${read.verb}`,
  };
  if (typeof failure.code === 'number' && failure.code >= 400) {
    return statusError(request, failure.code, statusMessage(failure.body), failure.headers?.['retry-after']);
  }
  const name = (error as { name?: string } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new LookupError(
      `${read.what}: the control plane of ${clusterPath(cluster)} did not answer within ${timeoutMs} ms`,
      {
        api: 'kubernetes',
        retryable: true,
      },
    );
  }
  return transportError({ api: 'kubernetes', what: read.what }, error, timeoutMs);
}

/** The message of a Kubernetes Status body (`{ kind: Status, message, reason, code }`). */
function statusMessage(body: unknown): string | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.slice(0, 300) || undefined;
    }
  }
  const message = (value as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message !== '' ? message.slice(0, 300) : undefined;
}
