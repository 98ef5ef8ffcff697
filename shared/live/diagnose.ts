import type { BoundGsa, ChainFacts, ChainTarget, Known } from '../chain/facts.ts';
import { poolOf } from '../chain/facts.ts';
import { bindingMember } from '../chain/judge.ts';
import { type ChainReport, reportChain } from '../chain/report.ts';
import { LookupError } from '../errors.ts';
import type { GsaInfo, LiveState } from '../gcp/ports.ts';
import { directGrantRoles, gsaOf } from '../inventory/impact.ts';

/**
 * `diagnose`: every link of the Workload Identity chain (domain.md) for one KSA, read from live state
 * and judged by the chain (shared/chain/judge.ts), as the sweep and `/wi-status` judge it.
 * Reads go out in three rounds, each issued in parallel: the cluster (with, speculatively, the project's
 * GSAs and policy, needed only when the KSA names no GSA), then the KSA, its pods and the namespace's
 * NetworkPolicies, then the GSA and its policy. A read that fails makes its link `unknown`, never `ok`.
 */

export type DiagnoseTarget = ChainTarget;

/** What each read needs, to name the permission when a 401/403 does not say it. */
const PERMISSIONS = {
  'gke.getCluster': 'container.clusters.get',
  'iam.getServiceAccount': 'iam.serviceAccounts.get',
  'iam.getServiceAccountPolicy': 'iam.serviceAccounts.getIamPolicy',
  'iam.listServiceAccounts': 'iam.serviceAccounts.list',
  'iam.getProjectPolicy': 'resourcemanager.projects.getIamPolicy',
  'kube.getServiceAccount': 'container.serviceAccounts.get',
  'kube.listPods': 'container.pods.list',
  'kube.listNetworkPolicies': 'container.networkPolicies.list',
} as const;
type Read = keyof typeof PERMISSIONS;

const API_NAMES: Record<string, string> = {
  container: 'the GKE API',
  gke: 'the GKE API',
  iam: 'the IAM API',
  kubernetes: "the cluster's Kubernetes API",
  cloudresourcemanager: 'the Resource Manager API',
  oauth2: "Google's token endpoint",
};

/** Concurrent IAM policy reads when searching the project's GSAs (a project may hold hundreds). */
const SEARCH_CONCURRENCY = 8;

async function attempt<T>(read: Read, call: () => Promise<T>): Promise<Known<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return {
      ok: false,
      reason: couldNotCheck(read, error),
      ...(error instanceof LookupError && error.status !== undefined ? { status: error.status } : {}),
    };
  }
}

/** The line a failed read leaves on its link: a missing permission named, an outage to retry. */
export function couldNotCheck(read: Read, error: unknown): string {
  if (!(error instanceof LookupError)) return `could not check: ${(error as Error).message}`;
  if (error.status === 401 || error.status === 403 || error.permission !== undefined) {
    const refused = error.status === 401 ? ' (its credentials were refused: 401)' : '';
    return `could not check: wi-sentinel lacks ${error.permission ?? PERMISSIONS[read]}${refused}`;
  }
  if (error.retryable) {
    const status = error.status === undefined ? '' : ` (${error.status})`;
    return `could not check: ${API_NAMES[error.api] ?? error.api} unavailable${status}, retry`;
  }
  return `could not check: ${error.message}`;
}

export async function diagnose(
  state: LiveState,
  target: DiagnoseTarget,
  options: { now?: () => Date } = {},
): Promise<ChainReport> {
  const checkedAt = (options.now ?? (() => new Date()))().toISOString();
  return reportChain(await gatherLive(state, target), checkedAt);
}

/** The facts of the KSA's chain, read from live state in three rounds. */
export async function gatherLive(state: LiveState, target: DiagnoseTarget): Promise<ChainFacts> {
  const { project, namespace, name } = target;
  // Round 1. The project's GSAs and policy matter only for a KSA that names no GSA; asked for now so
  // that finding who binds it costs no fourth round. attempt() never rejects: nothing goes unhandled.
  const gsasOfProject = attempt('iam.listServiceAccounts', () => state.iam.listServiceAccounts(project));
  const projectPolicy = attempt('iam.getProjectPolicy', () => state.iam.getProjectPolicy(project));
  const cluster = await attempt('gke.getCluster', () => state.gke.getCluster({ project, ...target.cluster }));
  const workloadPool = poolOf(project, cluster.ok ? cluster.value : undefined);
  const facts: ChainFacts = { target, cluster, workloadPool, gsa: { via: 'unread' } };
  if (!cluster.ok || cluster.value === undefined) return facts;
  const found = cluster.value;
  // Round 2: the Kubernetes side.
  const [ksa, pods, policies] = await Promise.all([
    attempt('kube.getServiceAccount', () => state.kube.getServiceAccount(found, namespace, name)),
    attempt('kube.listPods', () => state.kube.listPods(found, { namespace, serviceAccountName: name })),
    attempt('kube.listNetworkPolicies', () => state.kube.listNetworkPolicies(found, namespace)),
  ]);
  Object.assign(facts, { ksa, pods, policies });
  if (!ksa.ok) return facts;
  // Round 3: the GSA side.
  const email = ksa.value ? gsaOf(ksa.value) : undefined;
  if (email !== undefined) {
    const [info, policy] = await Promise.all([
      attempt('iam.getServiceAccount', () => state.iam.getServiceAccount(email)),
      attempt('iam.getServiceAccountPolicy', () => state.iam.getServiceAccountPolicy(email)),
    ]);
    facts.gsa = { via: 'annotation', email, info, policy };
  } else {
    const [search, grants] = await Promise.all([
      searchBindings(state, await gsasOfProject, workloadPool, namespace, name),
      projectPolicy,
    ]);
    const directGrants: Known<string[]> = grants.ok
      ? { ok: true, value: directGrantRoles(grants.value, workloadPool, namespace, name) }
      : grants;
    facts.gsa = { via: 'search', search, directGrants };
  }
  return facts;
}

/** The project's GSAs whose policy lets the KSA act as them, in any member form. */
async function searchBindings(
  state: LiveState,
  listed: Known<GsaInfo[]>,
  workloadPool: string,
  namespace: string,
  name: string,
): Promise<Known<BoundGsa[]>> {
  if (!listed.ok) return listed;
  const candidates = listed.value;
  const policies = await mapLimited(candidates, SEARCH_CONCURRENCY, (gsa) =>
    attempt('iam.getServiceAccountPolicy', () => state.iam.getServiceAccountPolicy(gsa.email)),
  );
  const bound: BoundGsa[] = [];
  let failure: Known<never> | undefined;
  for (const [index, info] of candidates.entries()) {
    const policy = policies[index];
    if (policy === undefined) continue;
    // A GSA deleted between the listing and the read binds nobody.
    if (!policy.ok) {
      if (policy.status !== 404) failure ??= policy;
      continue;
    }
    const member = bindingMember(policy.value, workloadPool, namespace, name);
    if (member !== undefined) bound.push({ gsa: info, member });
  }
  // A GSA found is an answer even when other policies could not be read; none found is not, then.
  if (bound.length === 0 && failure !== undefined) return failure;
  return { ok: true, value: bound };
}

async function mapLimited<T, R>(items: readonly T[], limit: number, map: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
