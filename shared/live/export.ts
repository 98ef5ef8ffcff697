import { LookupError } from '../errors.ts';
import { limiter } from '../gcp/live.ts';
import { type GkeCluster, type GsaInfo, IncompleteClusterListError, type LiveState } from '../gcp/ports.ts';
import type {
  IamPolicy,
  Snapshot,
  SnapshotCluster,
  SnapshotGsa,
  SnapshotProject,
} from '../inventory/snapshot.ts';

/**
 * Live state exported as a Snapshot: per project its clusters (with every KSA, running pod,
 * NetworkPolicy and namespace), its GSAs with their policies, and its own policy. Clusters are read
 * in parallel (their reads too), GSA policies likewise, each within a bound. What cannot be read is
 * a problem naming what and why (the missing permission, the timeout) and the rest still completes;
 * a cluster or GSA left partial carries an `incomplete` field saying why, so nobody takes its empty
 * lists for the truth.
 */
export interface ExportProblem {
  project: string;
  /** What could not be read: `clusters`, `cluster europe-west4/core-1 pods`, `service account x@…`. */
  what: string;
  reason: string;
  /** The permission wi-sentinel lacks, when that was the cause. */
  permission?: string;
  retryable: boolean;
}

export interface ExportOptions {
  /** One line per step done (for stderr). */
  onProgress?: (message: string) => void;
  /** Clusters read at once (across projects). */
  concurrency?: number;
  /** GSA policies read at once (across projects). */
  gsaConcurrency?: number;
}

export interface ExportResult {
  snapshot: Snapshot;
  problems: ExportProblem[];
}

export const DEFAULT_CLUSTER_CONCURRENCY = 8;
export const DEFAULT_GSA_CONCURRENCY = 32;

export async function exportSnapshot(
  state: LiveState,
  projects: readonly string[],
  {
    onProgress = () => {},
    concurrency = DEFAULT_CLUSTER_CONCURRENCY,
    gsaConcurrency = DEFAULT_GSA_CONCURRENCY,
  }: ExportOptions = {},
): Promise<ExportResult> {
  const problems: ExportProblem[] = [];
  const clusterSlot = limiter(concurrency);
  const gsaSlot = limiter(gsaConcurrency);
  const exported = await Promise.all(
    projects.map((project) =>
      exportProject(state, project, {
        clusterSlot,
        gsaSlot,
        onProgress,
        problem: (problem) => problems.push(problem),
      }),
    ),
  );
  // In a stable order, whichever read failed first.
  problems.sort((a, b) => a.project.localeCompare(b.project) || a.what.localeCompare(b.what));
  return { snapshot: { projects: exported }, problems };
}

interface ProjectContext {
  clusterSlot: <T>(run: () => Promise<T>) => Promise<T>;
  gsaSlot: <T>(run: () => Promise<T>) => Promise<T>;
  onProgress: (message: string) => void;
  problem: (problem: ExportProblem) => void;
}

/** Says a failed read of `what` in a project, as an ExportProblem. */
export type Report = (what: string, error: unknown) => void;

async function exportProject(
  state: LiveState,
  project: string,
  context: ProjectContext,
): Promise<SnapshotProject> {
  const report: Report = (what, error) => context.problem(problemOf(project, what, error));
  const [clusters, gsas, policy] = await Promise.all([
    state.gke.listClusters(project).catch((error: unknown): GkeCluster[] => {
      report('clusters', error);
      // GKE answered for all zones but some: keep the clusters it did list.
      return error instanceof IncompleteClusterListError ? error.clusters : [];
    }),
    state.iam.listServiceAccounts(project).catch((error: unknown): GsaInfo[] => {
      report('service accounts', error);
      return [];
    }),
    state.iam.getProjectPolicy(project).catch((error: unknown): IamPolicy | undefined => {
      report('project IAM policy', error);
      return undefined;
    }),
  ]);
  context.onProgress(
    `${project}: ${count(clusters.length, 'cluster')}, ${count(gsas.length, 'service account')}`,
  );

  const [exportedClusters, exportedGsas] = await Promise.all([
    Promise.all(
      clusters.map((cluster) => context.clusterSlot(() => exportCluster(state, cluster, context, report))),
    ),
    Promise.all(gsas.map((gsa) => context.gsaSlot(() => exportGsa(state, gsa, report)))).then((done) => {
      if (done.length > 0)
        context.onProgress(
          `${project}: ${count(done.length, 'service account policy', 'service account policies')} read`,
        );
      return done;
    }),
  ]);
  return {
    projectId: project,
    clusters: exportedClusters,
    serviceAccounts: exportedGsas,
    ...(policy ? { iamPolicy: policy } : {}),
  };
}

/**
 * One cluster of the Snapshot: GKE's view of it with every KSA, running pod, NetworkPolicy and
 * namespace its Kubernetes API gives (four reads in parallel). A failed read leaves it `incomplete`.
 */
export async function exportCluster(
  state: LiveState,
  cluster: GkeCluster,
  context: Pick<ProjectContext, 'onProgress'>,
  report: Report,
): Promise<SnapshotCluster> {
  const name = `${cluster.location}/${cluster.name}`;
  const failures: string[] = [];
  const read = async <T>(what: string, run: () => Promise<T[]>): Promise<T[]> => {
    try {
      return await run();
    } catch (error) {
      report(`cluster ${name} ${what}`, error);
      failures.push(`${what}: ${reasonOf(error)}`);
      return [];
    }
  };
  const [serviceAccounts, pods, networkPolicies, namespaces] = await Promise.all([
    read('service accounts', () => state.kube.listServiceAccounts(cluster)),
    read('pods', () => state.kube.listPods(cluster)),
    read('NetworkPolicies', () => state.kube.listNetworkPolicies(cluster)),
    read('namespaces', () => state.kube.listNamespaces(cluster)),
  ]);
  context.onProgress(
    failures.length > 0
      ? `${cluster.project}/${name}: incomplete (${failures.join('; ')})`
      : `${cluster.project}/${name}: ${count(serviceAccounts.length, 'KSA')}, ${count(pods.length, 'running pod')}, ${count(networkPolicies.length, 'NetworkPolicy', 'NetworkPolicies')}`,
  );
  return {
    name: cluster.name,
    location: cluster.location,
    ...(cluster.workloadPool ? { workloadPool: cluster.workloadPool } : {}),
    nodePools: cluster.nodePools,
    serviceAccounts,
    pods,
    networkPolicies,
    // Namespaces unread are unknown (absent), not "none".
    ...(failures.some((failure) => failure.startsWith('namespaces')) ? {} : { namespaces }),
    ...(failures.length > 0 ? { incomplete: failures.join('; ') } : {}),
  };
}

/** One GSA of the Snapshot with the policy on it; a policy not read leaves it `incomplete`. */
export async function exportGsa(state: LiveState, gsa: GsaInfo, report: Report): Promise<SnapshotGsa> {
  const base = {
    email: gsa.email,
    ...(gsa.uniqueId ? { uniqueId: gsa.uniqueId } : {}),
    disabled: gsa.disabled,
  };
  try {
    return { ...base, iamPolicy: await state.iam.getServiceAccountPolicy(gsa.email) };
  } catch (error) {
    report(`service account ${gsa.email}`, error);
    // The Snapshot needs a policy; `incomplete` says this empty one was not read.
    return { ...base, iamPolicy: { bindings: [] }, incomplete: `IAM policy: ${reasonOf(error)}` };
  }
}

export function problemOf(project: string, what: string, error: unknown): ExportProblem {
  return {
    project,
    what,
    reason: reasonOf(error),
    ...(error instanceof LookupError && error.permission ? { permission: error.permission } : {}),
    retryable: error instanceof LookupError ? error.retryable : false,
  };
}

export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
