/**
 * A fake Kubernetes API server for every cluster of a Snapshot, on one HTTPS port of 127.0.0.1 with a
 * certificate from a throwaway test CA: each cluster answers under its own path prefix
 * (`/clusters/PROJECT/LOCATION/NAME`), which is the `endpoint` the GKE fake gives, so
 * `@kubernetes/client-node` reaches it through a kubeconfig built from GKE's answer.
 *
 *   const kube = await startFakeKubernetes({ snapshot, token, maxPageSize: 2 });
 *   kube.endpoint(project, cluster)   // `127.0.0.1:PORT/clusters/P/L/N`
 *   kube.caPem                        // the CA that signed its certificate
 *
 * Serves, read-only, as the API server does (lists honour `limit` / `continue`, with an opaque
 * continue token; pods honour field selectors on status.phase, spec.serviceAccountName,
 * spec.nodeName, metadata.namespace, metadata.name):
 * - /api/v1/serviceaccounts, /api/v1/namespaces/NS/serviceaccounts[/NAME]: the Snapshot's KSAs (plus
 *   a last-applied-configuration annotation, as kubectl leaves one);
 * - /api/v1/pods, /api/v1/namespaces/NS/pods: pods with an env var value per name, a node of their
 *   pool, and a ReplicaSet `NAME-HASH` as controller for a Deployment (label pod-template-hash); a
 *   snapshot pod's `phase` (an extension field) sets status.phase, default Running;
 * - /api/v1/nodes: NODES_PER_POOL nodes per pool, labelled cloud.google.com/gke-nodepool;
 * - /api/v1/namespaces: the Snapshot's namespaces, or those its objects live in;
 * - /apis/networking.k8s.io/v1/networkpolicies, …/namespaces/NS/networkpolicies.
 * API reference: https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks
 */
import { createHash } from 'node:crypto';
import type { Snapshot, SnapshotCluster, SnapshotPod } from '../../shared/inventory/snapshot.ts';
import {
  type FakeAnswer,
  type FakeRequest,
  type FakeRoute,
  type FakeServer,
  startFakeServer,
  testCertificates,
} from './fake-server.ts';

export interface FakeKubernetesOptions {
  snapshot: Snapshot;
  token: string;
  latencyMs?: number;
  /** Caps every list page below the client's `limit`, to make tests page. */
  maxPageSize?: number;
  /**
   * Build each object's API form once per snapshot object (benchmarks page through the same objects
   * again and again). Off by default: with it on, change the organization with setSnapshot(copy),
   * never by editing served objects in place.
   */
  memoize?: boolean;
}

export interface FakeKubernetes extends FakeServer {
  /** The host:port/path a cluster answers under (what GKE calls its `endpoint`). */
  endpoint(project: string, cluster: { location: string; name: string }): string;
  /** PEM of the CA that signed the server's certificate. */
  caPem: string;
  setSnapshot(snapshot: Snapshot): void;
}

export const NODES_PER_POOL = 3;
const PREFIX = /^\/clusters\/([^/]+)\/([^/]+)\/([^/]+)(\/.*)$/;
/** Status reasons the API server gives per code (metav1.StatusReason). */
const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  410: 'Expired',
  429: 'TooManyRequests',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};
const SUPPORTED_POD_FIELDS = [
  'status.phase',
  'spec.serviceAccountName',
  'spec.nodeName',
  'metadata.namespace',
  'metadata.name',
];

interface Listing {
  kind: string;
  listKind: string;
  apiVersion: string;
  items: () => unknown[];
}

export async function startFakeKubernetes(options: FakeKubernetesOptions): Promise<FakeKubernetes> {
  let snapshot = options.snapshot;
  const tls = testCertificates();
  if (options.memoize) built ??= new WeakMap();
  const served = new WeakMap<Snapshot, Map<string, FakeAnswer>>();

  function clusterOf(project: string, location: string, name: string): SnapshotCluster | undefined {
    return snapshot.projects
      .find((p) => p.projectId === project)
      ?.clusters.find((c) => c.location === location && c.name === name);
  }

  function route(request: FakeRequest): FakeRoute {
    const prefixed = PREFIX.exec(request.path);
    if (!prefixed || request.method !== 'GET') {
      return {
        kind: 'kubernetes.unknown',
        answer: () => status(404, 'NotFound', `the server could not find the requested resource`),
      };
    }
    const [, project = '', location = '', name = '', rest = ''] = prefixed;
    const cluster = clusterOf(project, location, name);
    if (!cluster)
      return {
        kind: 'kubernetes.unknown',
        answer: () => status(404, 'NotFound', `no cluster ${project}/${location}/${name}`),
      };

    const readKsa = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)$/.exec(rest);
    if (readKsa) {
      const [, namespace = '', ksaName = ''] = readKsa;
      return {
        kind: 'kubernetes.getServiceAccount',
        answer: () => {
          const ksa = cluster.serviceAccounts.find((k) => k.namespace === namespace && k.name === ksaName);
          if (!ksa) return status(404, 'NotFound', `serviceaccounts "${ksaName}" not found`);
          return { status: 200, body: { apiVersion: 'v1', kind: 'ServiceAccount', ...ksaObject(ksa) } };
        },
      };
    }
    const listing = listingOf(cluster, rest, request.query);
    if (!listing)
      return {
        kind: 'kubernetes.unknown',
        answer: () => status(404, 'NotFound', 'the server could not find the requested resource'),
      };
    if ('error' in listing) return { kind: listing.kind, answer: () => listing.error };
    return { kind: listing.kind, answer: () => pageOnce(listing, request) };
  }

  /** A page, serialized once per organization served when memoizing (benchmarks read the same pages again). */
  function pageOnce(listing: Listing, request: FakeRequest): FakeAnswer {
    if (!options.memoize) return page(listing, request.query);
    let pages = served.get(snapshot);
    if (pages === undefined) {
      pages = new Map();
      served.set(snapshot, pages);
    }
    const key = `${request.path}?${request.params}`;
    let answer = pages.get(key);
    if (answer === undefined) {
      const built = page(listing, request.query);
      answer = built.status === 200 ? { ...built, text: JSON.stringify(built.body) } : built;
      if (built.status === 200) pages.set(key, answer);
    }
    return answer;
  }

  function listingOf(
    cluster: SnapshotCluster,
    rest: string,
    query: Record<string, string>,
  ): Listing | { kind: string; error: FakeAnswer } | undefined {
    const namespaced = /^\/(api\/v1|apis\/networking\.k8s\.io\/v1)\/namespaces\/([^/]+)\/([a-z]+)$/.exec(
      rest,
    );
    const clusterWide = /^\/(api\/v1|apis\/networking\.k8s\.io\/v1)\/([a-z]+)$/.exec(rest);
    const resource = namespaced?.[3] ?? clusterWide?.[2];
    const namespace = namespaced?.[2];
    const inNamespace = (ns: string | undefined) => namespace === undefined || ns === namespace;
    switch (resource) {
      case 'serviceaccounts':
        return {
          kind: 'kubernetes.listServiceAccounts',
          listKind: 'ServiceAccountList',
          apiVersion: 'v1',
          items: () => cluster.serviceAccounts.filter((ksa) => inNamespace(ksa.namespace)).map(ksaObject),
        };
      case 'pods': {
        const selector = parseFieldSelector(query.fieldSelector);
        if ('error' in selector)
          return { kind: 'kubernetes.listPods', error: status(400, 'BadRequest', selector.error) };
        return {
          kind: 'kubernetes.listPods',
          listKind: 'PodList',
          apiVersion: 'v1',
          items: () =>
            cluster.pods
              .filter((pod) => inNamespace(pod.namespace))
              .map((pod) => podObject(cluster, pod))
              .filter((pod) =>
                selector.every(({ field, value, equal }) => (fieldOf(pod, field) === value) === equal),
              ),
        };
      }
      case 'nodes':
        if (namespace !== undefined) return undefined;
        return {
          kind: 'kubernetes.listNodes',
          listKind: 'NodeList',
          apiVersion: 'v1',
          items: () => nodesOf(cluster),
        };
      case 'namespaces':
        if (namespace !== undefined) return undefined;
        return {
          kind: 'kubernetes.listNamespaces',
          listKind: 'NamespaceList',
          apiVersion: 'v1',
          items: () =>
            namespacesOf(cluster).map((ns) => ({
              metadata: { name: ns.name, labels: ns.labels, uid: uid(ns.name) },
              status: { phase: 'Active' },
            })),
        };
      case 'networkpolicies':
        return {
          kind: 'kubernetes.listNetworkPolicies',
          listKind: 'NetworkPolicyList',
          apiVersion: 'networking.k8s.io/v1',
          items: () =>
            cluster.networkPolicies
              .filter((policy) => inNamespace(policy.metadata.namespace))
              .map(({ apiVersion: _a, kind: _k, ...policy }) => policy),
        };
      default:
        return undefined;
    }
  }

  function page(listing: Listing, query: Record<string, string>): FakeAnswer {
    let from = 0;
    if (query.continue) {
      const decoded = Number(Buffer.from(query.continue, 'base64url').toString());
      if (!Number.isInteger(decoded) || decoded < 0)
        return status(400, 'BadRequest', 'continue key is not valid');
      from = decoded;
    }
    const all = listing.items();
    const requested = Number(query.limit) > 0 ? Number(query.limit) : all.length;
    const size = Math.max(1, Math.min(requested, options.maxPageSize ?? requested));
    const items = all.slice(from, from + size);
    const next =
      from + size < all.length ? Buffer.from(String(from + size)).toString('base64url') : undefined;
    return {
      status: 200,
      body: {
        kind: listing.listKind,
        apiVersion: listing.apiVersion,
        metadata: {
          resourceVersion: '4242',
          ...(next ? { continue: next, remainingItemCount: all.length - from - size } : {}),
        },
        items,
      },
    };
  }

  const server = await startFakeServer({
    api: 'kubernetes',
    token: options.token,
    route,
    errorBody: (code, message) => statusBody(code, REASONS[code] ?? 'InternalError', message),
    tls: { key: tls.key, cert: tls.cert },
    ...(options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs }),
  });
  return Object.assign(server, {
    caPem: tls.caPem,
    endpoint: (project: string, cluster: { location: string; name: string }) =>
      `127.0.0.1:${server.port}/clusters/${project}/${cluster.location}/${cluster.name}`,
    setSnapshot(next: Snapshot) {
      snapshot = next;
    },
  });
}

/** Per snapshot object, its API form (FakeKubernetesOptions.memoize). */
let built: WeakMap<object, unknown> | undefined;
function once<T>(key: object, build: () => T): T {
  if (built === undefined) return build();
  let value = built.get(key) as T | undefined;
  if (value === undefined) {
    value = build();
    built.set(key, value);
  }
  return value;
}

function ksaObject(ksa: SnapshotCluster['serviceAccounts'][number]) {
  return once(ksa, () => buildKsaObject(ksa));
}

function buildKsaObject(ksa: SnapshotCluster['serviceAccounts'][number]) {
  return {
    metadata: {
      name: ksa.name,
      namespace: ksa.namespace,
      uid: uid(`${ksa.namespace}/${ksa.name}`),
      resourceVersion: '1001',
      creationTimestamp: '2026-01-05T10:00:00Z',
      annotations: {
        ...ksa.annotations,
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
          kind: 'ServiceAccount',
          metadata: { name: ksa.name },
        }),
      },
    },
  };
}

function podObject(cluster: SnapshotCluster, pod: SnapshotPod): ReturnType<typeof buildPodObject> {
  return once(pod, () => buildPodObject(cluster, pod));
}

function buildPodObject(cluster: SnapshotCluster, pod: SnapshotPod) {
  const hash = createHash('sha256')
    .update(`${pod.namespace}/${pod.owner?.name ?? pod.name}`)
    .digest('hex')
    .slice(0, 10);
  const deployment = pod.owner?.kind === 'Deployment';
  const owner = pod.owner
    ? [
        {
          apiVersion: deployment ? 'apps/v1' : 'v1',
          kind: deployment ? 'ReplicaSet' : pod.owner.kind,
          name: deployment ? `${pod.owner.name}-${hash}` : pod.owner.name,
          uid: uid(`${pod.namespace}/${pod.owner.name}`),
          controller: true,
          blockOwnerDeletion: true,
        },
      ]
    : undefined;
  return {
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      uid: uid(`${cluster.name}/${pod.namespace}/${pod.name}`),
      labels: { ...pod.labels, ...(deployment ? { 'pod-template-hash': hash } : {}) },
      ...(owner ? { ownerReferences: owner } : {}),
    },
    spec: {
      serviceAccountName: pod.serviceAccountName,
      ...(pod.nodePool ? { nodeName: nodeName(cluster, pod.nodePool, pod.name) } : {}),
      containers: [
        {
          name: 'main',
          image: 'europe-docker.pkg.dev/fake/app:1',
          env: pod.env.map((name) => ({ name, value: `value-of-${name}-never-exported` })),
        },
      ],
    },
    status: { phase: typeof pod.phase === 'string' ? pod.phase : 'Running' },
  };
}

function fieldOf(pod: ReturnType<typeof buildPodObject>, field: string): string | undefined {
  switch (field) {
    case 'status.phase':
      return pod.status.phase;
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName;
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'metadata.name':
      return pod.metadata.name;
    default:
      return undefined;
  }
}

type Selector = { field: string; value: string; equal: boolean }[];

/** `a=b,c!=d` (also `==`), as the API server reads field selectors; unknown fields are a 400. */
function parseFieldSelector(text: string | undefined): Selector | { error: string } {
  if (!text) return [];
  const selector: Selector = [];
  for (const term of text.split(',')) {
    const match = /^([^!=]+)(!=|==|=)(.*)$/.exec(term);
    if (!match) return { error: `invalid field selector: ${term}` };
    const [, field = '', operator, value = ''] = match;
    if (!SUPPORTED_POD_FIELDS.includes(field)) return { error: `field label not supported: ${field}` };
    selector.push({ field, value, equal: operator !== '!=' });
  }
  return selector;
}

function nodeName(cluster: SnapshotCluster, pool: string, podName: string): string {
  const slot = createHash('sha256').update(podName).digest()[0] ?? 0;
  return `gke-${cluster.name}-${pool}-${slot % NODES_PER_POOL}`;
}

function nodesOf(cluster: SnapshotCluster) {
  return cluster.nodePools.flatMap((pool) =>
    Array.from({ length: NODES_PER_POOL }, (_, index) => ({
      metadata: {
        name: `gke-${cluster.name}-${pool.name}-${index}`,
        uid: uid(`${cluster.name}/${pool.name}/${index}`),
        labels: { 'cloud.google.com/gke-nodepool': pool.name, 'kubernetes.io/os': 'linux' },
      },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    })),
  );
}

function namespacesOf(cluster: SnapshotCluster): { name: string; labels: Record<string, string> }[] {
  if (cluster.namespaces) return cluster.namespaces;
  const names = new Set([
    ...cluster.serviceAccounts.map((ksa) => ksa.namespace),
    ...cluster.pods.map((pod) => pod.namespace),
  ]);
  return [...names].map((name) => ({ name, labels: { 'kubernetes.io/metadata.name': name } }));
}

function uid(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function statusBody(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function status(code: number, reason: string, message: string): FakeAnswer {
  return { status: code, body: statusBody(code, reason, message) };
}
