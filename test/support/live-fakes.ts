/**
 * The three fake live-state APIs started together from one Snapshot, wired as Google's are: GKE's
 * clusters point at the Kubernetes fake (HTTPS, its test CA as each cluster's CA), IAM and Resource
 * Manager share a server. For tests of verification, impact, diagnose, the sweep and the commands.
 *
 *   const fakes = await startLiveFakes(loadSnapshot());
 *   const state = fakes.liveState();                 // the real adapters (createLiveState), no cache
 *   runCli(['snapshot', '--project', 'orbit-prod'], '', fakes.env);
 *   fakes.calls()                                    // every request to any of them, in order
 *   fakes.kubernetes.fault({ match: '/clusters/orbit-prod/us-east1-b/edge-1/', hang: true });
 *   await fakes.stop();
 */

import { createLiveState, type LiveStateOptions } from '../../shared/gcp/live.ts';
import type { LiveState } from '../../shared/gcp/ports.ts';
import type { Snapshot } from '../../shared/inventory/snapshot.ts';
import type { FakeCall } from '../fakes/fake-server.ts';
import { type FakeGke, type FakeGkeOptions, startFakeGke } from '../fakes/gke.ts';
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
}

export interface LiveFakes {
  gke: FakeGke;
  iam: FakeIam;
  kubernetes: FakeKubernetes;
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
  stop(): Promise<void>;
}

export async function startLiveFakes(snapshot: Snapshot, options: LiveFakesOptions = {}): Promise<LiveFakes> {
  const token = options.token ?? FAKE_TOKEN;
  const latency = options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs };
  const paging = options.maxPageSize === undefined ? {} : { maxPageSize: options.maxPageSize };
  const kubernetes = await startFakeKubernetes({
    snapshot,
    token,
    ...latency,
    ...paging,
    ...(options.memoize ? { memoize: true } : {}),
  });
  const [gke, iam] = await Promise.all([
    startFakeGke({
      snapshot,
      token,
      ...latency,
      kubernetes: { endpoint: kubernetes.endpoint, caPem: kubernetes.caPem },
      ...(options.missingZones ? { missingZones: options.missingZones } : {}),
      ...(options.decorate ? { decorate: options.decorate } : {}),
    }),
    startFakeIam({ snapshot, token, ...latency, ...paging }),
  ]);
  const servers = [gke, iam, kubernetes];
  return {
    gke,
    iam,
    kubernetes,
    token,
    env: {
      GKE_API_URL: gke.url,
      IAM_API_URL: iam.url,
      RESOURCE_MANAGER_API_URL: iam.url,
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
        retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50, deadlineMs: 5_000 },
        ...overrides,
      }),
    async stop() {
      await Promise.all(servers.map((server) => server.stop()));
    },
  };
}
