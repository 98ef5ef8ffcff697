/**
 * The fake live-state APIs started together from one Snapshot, wired as Google's are: GKE's
 * clusters point at the Kubernetes fake (HTTPS, its test CA as each cluster's CA), IAM and Resource
 * Manager share a server, Cloud Asset Inventory indexes the same organization (its projects under
 * one organization unless `hierarchy` says otherwise). For tests of verification, impact, diagnose,
 * the sweep and the commands.
 *
 *   const fakes = await startLiveFakes(loadSnapshot());
 *   const state = fakes.liveState();                 // the real adapters (createLiveState), no cache
 *   const assets = fakes.assetPort();                // the Asset Inventory adapter, likewise
 *   runCli(['snapshot', '--project', 'orbit-prod'], '', fakes.env);
 *   fakes.calls()                                    // every request to any of them, in order
 *   fakes.kubernetes.fault({ match: '/clusters/orbit-prod/us-east1-b/edge-1/', hang: true });
 *   await fakes.stop();
 */

import { createAssetPort } from '../../shared/gcp/asset.ts';
import { createGoogleHttp } from '../../shared/gcp/http.ts';
import { createLiveState, type LiveStateOptions } from '../../shared/gcp/live.ts';
import type { AssetPort, LiveState, ProjectsPort } from '../../shared/gcp/ports.ts';
import { createProjectsPort } from '../../shared/gcp/projects.ts';
import type { RetryPolicy } from '../../shared/gcp/retry.ts';
import type { Snapshot } from '../../shared/inventory/snapshot.ts';
import { type FakeAssets, startFakeAssets } from '../fakes/asset.ts';
import type { FakeCall } from '../fakes/fake-server.ts';
import { type FakeGke, type FakeGkeOptions, startFakeGke } from '../fakes/gke.ts';
import type { Hierarchy } from '../fakes/hierarchy.ts';
import { type FakeIam, startFakeIam } from '../fakes/iam.ts';
import { type FakeKubernetes, startFakeKubernetes } from '../fakes/kubernetes.ts';

/** Not a real credential: what the fakes expect as bearer token. */
export const FAKE_TOKEN = 'ya29.fake-token-for-tests-only';

export interface LiveFakesOptions {
  /** Added to every call of every fake, ms. */
  latencyMs?: number;
  /** Caps list pages (Kubernetes lists and IAM's serviceAccounts.list), to make clients page. */
  maxPageSize?: number;
  token?: string;
  missingZones?: FakeGkeOptions['missingZones'];
  /** See FakeKubernetesOptions.memoize (benchmarks). */
  memoize?: boolean;
  decorate?: FakeGkeOptions['decorate'];
  /** Where the projects sit (Asset Inventory scopes, Resource Manager lists). */
  hierarchy?: Hierarchy;
  /** Caps Asset Inventory's search pages (the API's cap is 500). */
  assetPageSize?: number;
}

export interface LiveFakes {
  gke: FakeGke;
  iam: FakeIam;
  kubernetes: FakeKubernetes;
  assets: FakeAssets;
  token: string;
  /** The environment a wi-sentinel process needs to read the fakes: API URLs and the token. */
  env: Record<string, string>;
  /** Every call to any of the fakes, in order of arrival. */
  calls(): FakeCall[];
  /** How many calls of each kind (`gke.listClusters`, `kubernetes.listPods`, …). */
  countByKind(): Record<string, number>;
  /** Forget the calls recorded so far. */
  clearCalls(): void;
  clearFaults(): void;
  /** Serve another organization from now on. */
  setSnapshot(snapshot: Snapshot): void;
  /** The real adapters pointed at the fakes; no cache and quick retries unless options say otherwise. */
  liveState(options?: Partial<LiveStateOptions>): LiveState;
  /** The Asset Inventory adapter pointed at its fake, quick retries. */
  assetPort(retry?: RetryPolicy): AssetPort;
  /** The Resource Manager projects adapter pointed at the IAM fake. */
  projectsPort(): ProjectsPort;
  stop(): Promise<void>;
}

export async function startLiveFakes(snapshot: Snapshot, options: LiveFakesOptions = {}): Promise<LiveFakes> {
  const token = options.token ?? FAKE_TOKEN;
  const latency = options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs };
  const paging = options.maxPageSize === undefined ? {} : { maxPageSize: options.maxPageSize };
  const hierarchy = options.hierarchy === undefined ? {} : { hierarchy: options.hierarchy };
  const kubernetes = await startFakeKubernetes({
    snapshot,
    token,
    ...latency,
    ...paging,
    ...(options.memoize ? { memoize: true } : {}),
  });
  const kubernetesInfo = { endpoint: kubernetes.endpoint, caPem: kubernetes.caPem };
  const [gke, iam, assets] = await Promise.all([
    startFakeGke({
      snapshot,
      token,
      ...latency,
      kubernetes: kubernetesInfo,
      ...(options.missingZones ? { missingZones: options.missingZones } : {}),
      ...(options.decorate ? { decorate: options.decorate } : {}),
    }),
    startFakeIam({ snapshot, token, ...latency, ...paging, ...hierarchy }),
    startFakeAssets({
      snapshot,
      token,
      ...latency,
      ...hierarchy,
      kubernetes: kubernetesInfo,
      ...(options.decorate ? { decorate: options.decorate } : {}),
      ...(options.assetPageSize === undefined ? {} : { maxPageSize: options.assetPageSize }),
    }),
  ]);
  const servers = [gke, iam, kubernetes, assets];
  const quick: RetryPolicy = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50, deadlineMs: 5_000 };
  return {
    gke,
    iam,
    kubernetes,
    assets,
    token,
    env: {
      GKE_API_URL: gke.url,
      IAM_API_URL: iam.url,
      RESOURCE_MANAGER_API_URL: iam.url,
      CLOUD_ASSET_API_URL: assets.url,
      GOOGLE_OAUTH_ACCESS_TOKEN: token,
    },
    calls: () => servers.flatMap((server) => server.calls).sort((a, b) => a.at - b.at),
    countByKind() {
      const counts: Record<string, number> = {};
      for (const call of servers.flatMap((server) => server.calls))
        counts[call.kind] = (counts[call.kind] ?? 0) + 1;
      return counts;
    },
    clearCalls() {
      for (const server of servers) server.calls.length = 0;
    },
    clearFaults() {
      for (const server of servers) server.clearFaults();
    },
    setSnapshot(next) {
      for (const server of servers) server.setSnapshot(next);
    },
    liveState: (overrides = {}) =>
      createLiveState({
        tokens: async () => token,
        gkeUrl: gke.url,
        iamUrl: iam.url,
        resourceManagerUrl: iam.url,
        ttlMs: 0,
        retry: quick,
        ...overrides,
      }),
    assetPort: (retry = quick) =>
      createAssetPort({ http: createGoogleHttp({ tokens: async () => token, retry }), assetUrl: assets.url }),
    projectsPort: () =>
      createProjectsPort({
        http: createGoogleHttp({ tokens: async () => token, retry: quick }),
        resourceManagerUrl: iam.url,
      }),
    async stop() {
      await Promise.all(servers.map((server) => server.stop()));
    },
  };
}
