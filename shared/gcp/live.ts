import type { Config } from '../config.ts';
import { createAssetPort } from './asset.ts';
import { type TokenSource, tokenSourceFromConfig } from './auth.ts';
import { createGkePort } from './gke.ts';
import { createGoogleHttp } from './http.ts';
import { createIamPort } from './iam.ts';
import { createKubePort } from './kube.ts';
import {
  type AssetPort,
  type ClusterKey,
  clusterPath,
  type GkePort,
  type IamPort,
  type KubePort,
  type LiveState,
  type ProjectsPort,
} from './ports.ts';
import { createProjectsPort } from './projects.ts';
import type { RetryHooks, RetryPolicy } from './retry.ts';

/**
 * The live-state ports as one instance holds them: the adapters, a short-lived cache per read (a
 * burst of findings about the same GSA or cluster reads it once; concurrent identical reads share one
 * request) and a bound on requests in flight per API and per control plane. Importing this module
 * loads no client library: each adapter loads its own on first use.
 *
 * Cached answers are shared between callers: treat them as read-only.
 */
export interface LiveStateOptions {
  tokens: TokenSource;
  gkeUrl?: string;
  iamUrl?: string;
  resourceManagerUrl?: string;
  /** Per request to a Google API, ms. */
  timeoutMs?: number;
  /** Per request to a cluster's control plane, ms. */
  kubeTimeoutMs?: number;
  retry?: RetryPolicy;
  hooks?: RetryHooks;
  /** How long an answer is reused, ms; 0 caches nothing. */
  ttlMs?: number;
  /** Reads in flight per Google API (GKE, IAM); IAM's default read quota is 6,000 a minute. */
  concurrency?: number;
  /** Reads in flight per cluster control plane. */
  kubeConcurrency?: number;
  /** Objects per Kubernetes list page. */
  kubePageSize?: number;
  now?: () => number;
}

export const DEFAULT_TTL_MS = 30_000;
export const DEFAULT_CONCURRENCY = 32;
const MAX_ENTRIES = 20_000;

export function createLiveState(options: LiveStateOptions): LiveState {
  const {
    tokens,
    ttlMs = DEFAULT_TTL_MS,
    concurrency = DEFAULT_CONCURRENCY,
    kubeConcurrency = 4,
    now = Date.now,
  } = options;
  const common = {
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
  };
  const gke = createGkePort({
    tokens,
    ...common,
    ...(options.gkeUrl ? { apiUrl: options.gkeUrl } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  const iam = createIamPort({
    http: createGoogleHttp({
      tokens,
      ...common,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    }),
    ...(options.iamUrl ? { iamUrl: options.iamUrl } : {}),
    ...(options.resourceManagerUrl ? { resourceManagerUrl: options.resourceManagerUrl } : {}),
  });
  const kube = createKubePort({
    tokens,
    ...common,
    ...(options.kubeTimeoutMs ? { timeoutMs: options.kubeTimeoutMs } : {}),
    ...(options.kubePageSize ? { pageSize: options.kubePageSize } : {}),
  });
  return cachedLiveState({ gke, iam, kube }, { ttlMs, concurrency, kubeConcurrency, now });
}

/** The adapters configured from the environment (API URLs, GOOGLE_OAUTH_ACCESS_TOKEN or ADC). */
export function liveStateFromConfig(config: Config, overrides: Partial<LiveStateOptions> = {}): LiveState {
  return createLiveState({
    tokens: tokenSourceFromConfig(config),
    gkeUrl: config.GKE_API_URL,
    iamUrl: config.IAM_API_URL,
    resourceManagerUrl: config.RESOURCE_MANAGER_API_URL,
    ...overrides,
  });
}

/**
 * What the sweep reads a scope through beside live state: Cloud Asset Inventory's searches, and
 * Resource Manager's project lists for a scope read directly. Not cached: the sweep reads each once.
 */
export function scopeReadersFromConfig(
  config: Config,
  overrides: Pick<LiveStateOptions, 'retry' | 'hooks' | 'timeoutMs'> = {},
): { assets: AssetPort; projects: ProjectsPort } {
  const http = createGoogleHttp({ tokens: tokenSourceFromConfig(config), ...overrides });
  return {
    assets: createAssetPort({ http, assetUrl: config.CLOUD_ASSET_API_URL }),
    projects: createProjectsPort({ http, resourceManagerUrl: config.RESOURCE_MANAGER_API_URL }),
  };
}

/** Any LiveState, with a TTL cache per read and bounded concurrency. */
export function cachedLiveState(
  state: LiveState,
  {
    ttlMs = DEFAULT_TTL_MS,
    concurrency = DEFAULT_CONCURRENCY,
    kubeConcurrency = 4,
    now = Date.now,
  }: { ttlMs?: number; concurrency?: number; kubeConcurrency?: number; now?: () => number } = {},
): LiveState {
  const cache = new TtlCache(ttlMs, now);
  const gkeLimit = limiter(concurrency);
  const iamLimit = limiter(concurrency);
  const kubeLimits = new Map<string, <T>(run: () => Promise<T>) => Promise<T>>();
  const kubeLimit = (cluster: ClusterKey) => {
    const key = clusterPath(cluster);
    let limit = kubeLimits.get(key);
    if (!limit) {
      limit = limiter(kubeConcurrency);
      kubeLimits.set(key, limit);
    }
    return limit;
  };

  const gke: GkePort = {
    listClusters: (project) =>
      cache.get(`gke.listClusters|${project}`, async () => {
        const clusters = await gkeLimit(() => state.gke.listClusters(project));
        // A listed cluster answers getCluster for as long as the list is fresh.
        for (const cluster of clusters)
          cache.set(`gke.getCluster|${clusterPath(cluster)}`, Promise.resolve(cluster));
        return clusters;
      }),
    getCluster: (key) =>
      cache.get(`gke.getCluster|${clusterPath(key)}`, () => gkeLimit(() => state.gke.getCluster(key))),
  };
  const iam: IamPort = {
    getServiceAccount: (email) =>
      cache.get(`iam.getServiceAccount|${email}`, () => iamLimit(() => state.iam.getServiceAccount(email))),
    getServiceAccountPolicy: (email) =>
      cache.get(`iam.getServiceAccountPolicy|${email}`, () =>
        iamLimit(() => state.iam.getServiceAccountPolicy(email)),
      ),
    listServiceAccounts: (project) =>
      cache.get(`iam.listServiceAccounts|${project}`, () =>
        iamLimit(() => state.iam.listServiceAccounts(project)),
      ),
    getProjectPolicy: (project) =>
      cache.get(`iam.getProjectPolicy|${project}`, () => iamLimit(() => state.iam.getProjectPolicy(project))),
  };
  const kube: KubePort = {
    listServiceAccounts: (cluster, namespace) =>
      cache.get(`kube.listServiceAccounts|${clusterPath(cluster)}|${namespace ?? ''}`, () =>
        kubeLimit(cluster)(() => state.kube.listServiceAccounts(cluster, namespace)),
      ),
    getServiceAccount: (cluster, namespace, name) =>
      cache.get(`kube.getServiceAccount|${clusterPath(cluster)}|${namespace}/${name}`, () =>
        kubeLimit(cluster)(() => state.kube.getServiceAccount(cluster, namespace, name)),
      ),
    listPods: (cluster, filter = {}) =>
      cache.get(
        `kube.listPods|${clusterPath(cluster)}|${filter.namespace ?? ''}|${filter.serviceAccountName ?? ''}`,
        () => kubeLimit(cluster)(() => state.kube.listPods(cluster, filter)),
      ),
    listNetworkPolicies: (cluster, namespace) =>
      cache.get(`kube.listNetworkPolicies|${clusterPath(cluster)}|${namespace ?? ''}`, () =>
        kubeLimit(cluster)(() => state.kube.listNetworkPolicies(cluster, namespace)),
      ),
    listNamespaces: (cluster) =>
      cache.get(`kube.listNamespaces|${clusterPath(cluster)}`, () =>
        kubeLimit(cluster)(() => state.kube.listNamespaces(cluster)),
      ),
  };
  return { gke, iam, kube, uncached: () => state };
}

/** Promises by key for `ttlMs`; a rejected one is forgotten at once so the next read tries again. */
export class TtlCache {
  readonly #entries = new Map<string, { value: Promise<unknown>; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #now: () => number;
  constructor(ttlMs: number, now: () => number = Date.now) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (this.#ttlMs <= 0) return load();
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt > this.#now()) return entry.value as Promise<T>;
    const value = load();
    this.set(key, value);
    return value;
  }

  set(key: string, value: Promise<unknown>): void {
    if (this.#ttlMs <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.#now() + this.#ttlMs });
    value.catch(() => {
      if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
    });
    // Oldest first out: Map keeps insertion order and set() re-inserts.
    while (this.#entries.size > MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}

/** At most `max` of the given tasks run at once; the rest wait in order. */
export function limiter(max: number): <T>(run: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (run) => {
    // A finishing task hands its slot to the first waiter, so nobody can slip in between.
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else active += 1;
    try {
      return await run();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    }
  };
}
