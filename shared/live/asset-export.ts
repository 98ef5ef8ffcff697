import type { protos } from '@google-cloud/container';
import { LookupError } from '../errors.ts';
import { ASSET_TYPES } from '../gcp/asset.ts';
import { toGkeCluster, toNodePool } from '../gcp/gke.ts';
import { type ServiceAccountResource, toGsaInfo } from '../gcp/iam.ts';
import { limiter } from '../gcp/live.ts';
import {
  type AssetPolicy,
  type AssetPort,
  type AssetResource,
  type ClusterKey,
  clusterPath,
  type GkeCluster,
  type GsaInfo,
  type LiveState,
} from '../gcp/ports.ts';
import { projectOfEmail } from '../inventory/members.ts';
import type { IamPolicy, Snapshot, SnapshotGsa, SnapshotProject } from '../inventory/snapshot.ts';
import {
  count,
  DEFAULT_CLUSTER_CONCURRENCY,
  type ExportOptions,
  type ExportProblem,
  type ExportResult,
  exportCluster,
  exportGsa,
  problemOf,
  type Report,
  reasonOf,
} from './export.ts';

/**
 * Live state exported as a Snapshot with Cloud Asset Inventory as the source of its Google side:
 * per scope, four paged searches (projects; GSAs; clusters and node pools; the policies on GSAs and
 * projects) instead of a list per project and a policy read per GSA. The Kubernetes side is read as
 * the direct export reads it, a few lists per cluster.
 *
 * The index lags live state: "almost all asset updates are available in minutes", with eventual
 * consistency and, rarely, missed updates (https://cloud.google.com/asset-inventory/docs/asset-types).
 * Each resource carries the time it last changed as the index knows it (`updateTime`); policies carry
 * none. `indexed` keeps those times, so that a verdict resting on a record older than the event it
 * would overturn is re-read directly first (rereadDirectly; the rule is shared/reconcile/freshness.ts).
 *
 * A failed search throws an AssetInventoryError (the caller falls back to direct reads); a failed
 * Kubernetes or GKE read is a problem, as in the direct export.
 */
export interface IndexTimes {
  /** By GSA email: when its resource last changed, ms since the epoch. */
  gsas: ReadonlyMap<string, number>;
  /** By clusterPath: when the cluster last changed. */
  clusters: ReadonlyMap<string, number>;
  /** By `clusterPath/pool`: when the node pool last changed. */
  pools: ReadonlyMap<string, number>;
}

export interface AssetExportResult extends ExportResult {
  /** The projects the scopes hold (active ones), sorted. */
  projects: string[];
  indexed: IndexTimes;
}

/** A search of Cloud Asset Inventory failed: the export cannot rest on it. */
export class AssetInventoryError extends Error {
  /** The failed search's error: its status and the permission it needed. */
  readonly lookup: LookupError;
  constructor(lookup: LookupError) {
    super(lookup.message, { cause: lookup });
    this.name = 'AssetInventoryError';
    this.lookup = lookup;
  }
}

type Cluster = protos.google.container.v1.ICluster;
type NodePool = protos.google.container.v1.INodePool;

export async function exportFromAssets(
  state: LiveState,
  assets: AssetPort,
  scopes: readonly string[],
  { onProgress = () => {}, concurrency = DEFAULT_CLUSTER_CONCURRENCY }: ExportOptions = {},
): Promise<AssetExportResult> {
  // The clusters' Kubernetes reads start as soon as projects and clusters are found, while the
  // longer searches (every GSA, every policy) page on.
  const search = searchAll(assets, scopes);
  const [projectRecords, clusterAndPoolRecords] = await Promise.all([search.projects, search.clusters]);
  const readAt = Date.now();
  const problems: ExportProblem[] = [];
  const gsaTimes = new Map<string, number>();
  const clusterTimes = new Map<string, number>();
  const poolTimes = new Map<string, number>();

  // Projects: ids by number (resource names use one or the other).
  const ids = new Map<string, string>();
  const projects = new Map<string, SnapshotProject>();
  const projectOf = (id: string): SnapshotProject => {
    let project = projects.get(id);
    if (!project) {
      project = { projectId: id, clusters: [], serviceAccounts: [] };
      projects.set(id, project);
    }
    return project;
  };
  for (const record of projectRecords) {
    const data = record.resource ?? {};
    const id = text(data.projectId);
    const number = text(data.projectNumber) ?? record.name.split('/').at(-1);
    const state = text(data.lifecycleState) ?? text(data.state) ?? record.state;
    if (id === undefined || (state !== undefined && state !== 'ACTIVE')) continue;
    if (number) ids.set(number, id);
    projectOf(id);
  }
  const idOf = (segment: string) => ids.get(segment) ?? segment;

  const reportIn = reporterInto(problems);
  // Clusters, with the node pools the index holds apart (each dated on its own).
  const pools = new Map<string, { record: AssetResource; pool: ReturnType<typeof toNodePool> }[]>();
  const clusterRecords: { key: ClusterKey; record: AssetResource }[] = [];
  for (const record of clusterAndPoolRecords) {
    const match =
      /\/projects\/([^/]+)\/(?:locations|zones)\/([^/]+)\/clusters\/([^/]+)(?:\/nodePools\/([^/]+))?$/.exec(
        record.name,
      );
    if (!match) continue;
    const [, project = '', location = '', name = '', pool] = match;
    const key = { project: idOf(project), location, name };
    if (pool === undefined) clusterRecords.push({ key, record });
    else if (record.resource) {
      const list = pools.get(clusterPath(key)) ?? [];
      list.push({ record, pool: toNodePool(record.resource as NodePool) });
      pools.set(clusterPath(key), list);
    }
  }
  const clusterSlot = limiter(concurrency);
  const exporting = Promise.all(
    clusterRecords.map(({ key, record }) =>
      clusterSlot(async () => {
        const report = reportIn(key.project);
        let cluster = record.resource ? toGkeCluster(key.project, record.resource as Cluster) : undefined;
        clusterTimes.set(clusterPath(key), timeOf(record));
        if (cluster === undefined || !reachable(cluster, record.resource as Cluster)) {
          // The index may strip what reaches the cluster (its endpoint, its CA): GKE gives them.
          try {
            cluster = await state.gke.getCluster(key);
          } catch (error) {
            report(`cluster ${key.location}/${key.name}`, error);
            cluster = undefined;
          }
          if (cluster === undefined) return undefined;
          clusterTimes.set(clusterPath(key), readAt);
        } else {
          cluster = { ...cluster, nodePools: poolsOf(cluster, pools.get(clusterPath(key)) ?? [], poolTimes) };
        }
        return { project: key.project, cluster: await exportCluster(state, cluster, { onProgress }, report) };
      }),
    ),
  );
  let gsaRecords: AssetResource[];
  let policies: AssetPolicy[];
  try {
    [gsaRecords, policies] = await Promise.all([search.gsas, search.policies]);
  } catch (error) {
    // Let the clusters' reads end before the caller reads everything again.
    await exporting.catch(() => undefined);
    throw error;
  }
  const clusterCount = clusterAndPoolRecords.filter(
    (record) => record.assetType === ASSET_TYPES.cluster,
  ).length;
  onProgress(
    `Cloud Asset Inventory (${scopes.join(', ')}): ${count(projectRecords.length, 'project')}, ${count(gsaRecords.length, 'service account')}, ${count(clusterCount, 'cluster')} (${count(clusterAndPoolRecords.length - clusterCount, 'node pool')}), ${count(policies.length, 'IAM policy', 'IAM policies')}`,
  );
  // GSAs, and their emails by unique id (policy results name GSAs by unique id).
  const emails = new Map<string, string>();
  const gsas: GsaInfo[] = [];
  const unreadGsas: { id: string; project: string }[] = [];
  for (const record of gsaRecords) {
    const [, project = '', last = ''] =
      /\/projects\/([^/]+)\/serviceAccounts\/([^/]+)$/.exec(record.name) ?? [];
    const account = record.resource as ServiceAccountResource | undefined;
    const email = account?.email ?? (last.includes('@') ? last : undefined);
    if (account === undefined || email === undefined) {
      // The record lacks the account itself: IAM answers for it by unique id or email.
      unreadGsas.push({ id: last, project: idOf(project) });
      continue;
    }
    const info = toGsaInfo(account, email, idOf(project));
    gsas.push(info);
    if (info.uniqueId) emails.set(info.uniqueId, email);
    gsaTimes.set(email, timeOf(record));
  }
  await Promise.all(
    unreadGsas.map(async ({ id, project }) => {
      try {
        const info = await state.iam.getServiceAccount(id);
        if (!info) return;
        gsas.push(info);
        if (info.uniqueId) emails.set(info.uniqueId, info.email);
        gsaTimes.set(info.email, readAt);
      } catch (error) {
        reportIn(project)(`service account ${id}`, error);
      }
    }),
  );

  // Policies: on GSAs (by unique id or email) and on projects (by number or id).
  const gsaPolicies = new Map<string, IamPolicy>();
  const projectPolicies = new Map<string, IamPolicy>();
  for (const { resource, assetType, policy } of policies) {
    const last = resource.split('/').at(-1) ?? '';
    if (assetType === ASSET_TYPES.serviceAccount) gsaPolicies.set(emails.get(last) ?? last, policy);
    else if (assetType === ASSET_TYPES.project) projectPolicies.set(idOf(last), policy);
  }
  for (const gsa of gsas) {
    const exported: SnapshotGsa = {
      email: gsa.email,
      ...(gsa.uniqueId ? { uniqueId: gsa.uniqueId } : {}),
      disabled: gsa.disabled,
      // No policy in the index: none is set on the account.
      iamPolicy: gsaPolicies.get(gsa.email) ?? { bindings: [] },
    };
    projectOf(gsa.project).serviceAccounts.push(exported);
  }
  const exported = await exporting;
  for (const done of exported) if (done) projectOf(done.project).clusters.push(done.cluster);
  for (const project of projects.values())
    project.iamPolicy = projectPolicies.get(project.projectId) ?? { bindings: [] };

  const sorted = [...projects.values()].sort((a, b) => a.projectId.localeCompare(b.projectId));
  for (const project of sorted) {
    project.clusters.sort((a, b) => a.location.localeCompare(b.location) || a.name.localeCompare(b.name));
    project.serviceAccounts.sort((a, b) => a.email.localeCompare(b.email));
  }
  problems.sort((a, b) => a.project.localeCompare(b.project) || a.what.localeCompare(b.what));
  return {
    snapshot: { projects: sorted },
    problems,
    projects: sorted.map((project) => project.projectId),
    indexed: { gsas: gsaTimes, clusters: clusterTimes, pools: poolTimes },
  };
}

/** Objects to read directly before a verdict rests on them (shared/reconcile/freshness.ts). */
export interface Reread {
  gsas: string[];
  clusters: ClusterKey[];
  /** Projects whose own IAM policy to read. */
  projects: string[];
}

/**
 * The inventory with these objects read directly (IAM for a GSA and the policy on it, GKE for a
 * cluster's workload pool and node pools, Resource Manager for a project's policy) in place of what
 * the index said. A GSA or cluster gone is removed; one that cannot be read is marked `incomplete`
 * (no verdict rests on it), a project policy not read is left out. The snapshot given is not changed.
 */
export async function rereadDirectly(
  state: LiveState,
  snapshot: Snapshot,
  targets: Reread,
): Promise<ExportResult> {
  const problems: ExportProblem[] = [];
  const reportIn = reporterInto(problems);
  const projects = snapshot.projects.map((project) => ({
    ...project,
    clusters: [...project.clusters],
    serviceAccounts: [...project.serviceAccounts],
  }));
  const projectNamed = (id: string) => {
    let project = projects.find((p) => p.projectId === id);
    if (!project) {
      project = { projectId: id, clusters: [], serviceAccounts: [] };
      projects.push(project);
    }
    return project;
  };
  await Promise.all([
    ...targets.gsas.map(async (email) => {
      const owner = projects.find((p) => p.serviceAccounts.some((g) => g.email === email));
      const project = owner?.projectId ?? projectOfEmail(email) ?? '';
      const replace = (gsa: SnapshotGsa | undefined, into = project) => {
        if (owner) owner.serviceAccounts = owner.serviceAccounts.filter((g) => g.email !== email);
        if (gsa) projectNamed(into).serviceAccounts.push(gsa);
      };
      let info: GsaInfo | undefined;
      try {
        info = await state.iam.getServiceAccount(email);
      } catch (error) {
        reportIn(project)(`service account ${email}`, error);
        const known = owner?.serviceAccounts.find((g) => g.email === email);
        replace(known && { ...known, incomplete: `direct read: ${reasonOf(error)}` });
        return;
      }
      // Gone from IAM: gone from the inventory, as a direct export would not list it.
      if (info === undefined) replace(undefined);
      else replace(await exportGsa(state, info, reportIn(info.project)), info.project || project);
    }),
    ...targets.clusters.map(async (key) => {
      const project = projects.find((p) => p.projectId === key.project);
      const find = () =>
        project?.clusters.findIndex((c) => c.location === key.location && c.name === key.name) ?? -1;
      if (!project || find() === -1) return;
      let cluster: GkeCluster | undefined;
      try {
        cluster = await state.gke.getCluster(key);
      } catch (error) {
        reportIn(key.project)(`cluster ${key.location}/${key.name}`, error);
        const at = find();
        const known = project.clusters[at];
        if (known) project.clusters[at] = { ...known, incomplete: `direct read: ${reasonOf(error)}` };
        return;
      }
      const at = find();
      const known = project.clusters[at];
      if (!known) return;
      if (cluster === undefined) {
        project.clusters.splice(at, 1);
        return;
      }
      // GKE's side read again; the Kubernetes side was read directly already.
      const { workloadPool: _, ...kept } = known;
      project.clusters[at] = {
        ...kept,
        ...(cluster.workloadPool ? { workloadPool: cluster.workloadPool } : {}),
        nodePools: cluster.nodePools,
      };
    }),
    ...targets.projects.map(async (id) => {
      const project = projects.find((p) => p.projectId === id);
      if (!project) return;
      try {
        project.iamPolicy = await state.iam.getProjectPolicy(id);
      } catch (error) {
        reportIn(id)('project IAM policy', error);
        delete project.iamPolicy;
      }
    }),
  ]);
  return { snapshot: { ...snapshot, projects }, problems };
}

interface Searches {
  projects: Promise<AssetResource[]>;
  gsas: Promise<AssetResource[]>;
  /** Clusters and node pools. */
  clusters: Promise<AssetResource[]>;
  policies: Promise<AssetPolicy[]>;
}

/**
 * The four searches of every scope, started at once, each awaited when needed; records found by two
 * scopes are kept once. A failed search rejects as an AssetInventoryError.
 */
function searchAll(assets: AssetPort, scopes: readonly string[]): Searches {
  const each = <T>(search: (scope: string) => Promise<T[]>, key: (item: T) => string): Promise<T[]> => {
    const all = Promise.all(scopes.map(search)).then(
      (lists) => [...new Map(lists.flat().map((item) => [key(item), item])).values()],
      (error: unknown) => {
        throw error instanceof LookupError ? new AssetInventoryError(error) : error;
      },
    );
    // Awaited later, maybe after another search failed: never an unhandled rejection.
    all.catch(() => undefined);
    return all;
  };
  const byName = (resource: AssetResource) => resource.name;
  return {
    projects: each((scope) => assets.searchResources(scope, [ASSET_TYPES.project]), byName),
    gsas: each((scope) => assets.searchResources(scope, [ASSET_TYPES.serviceAccount]), byName),
    clusters: each(
      (scope) => assets.searchResources(scope, [ASSET_TYPES.cluster, ASSET_TYPES.nodePool]),
      byName,
    ),
    policies: each(
      (scope) => assets.searchPolicies(scope, [ASSET_TYPES.serviceAccount, ASSET_TYPES.project]),
      (policy) => policy.resource,
    ),
  };
}

/**
 * The cluster's pools: those of its own record, each replaced by the pool's record when the index
 * holds one (a pool's record may be newer than its cluster's), then pools only the index lists.
 */
function poolsOf(
  cluster: GkeCluster,
  records: readonly { record: AssetResource; pool: ReturnType<typeof toNodePool> }[],
  times: Map<string, number>,
): GkeCluster['nodePools'] {
  const byName = new Map(records.map((entry) => [entry.pool.name, entry]));
  const path = clusterPath(cluster);
  const pools = cluster.nodePools.map((pool) => byName.get(pool.name)?.pool ?? pool);
  for (const { pool } of records) if (!pools.some((p) => p.name === pool.name)) pools.push(pool);
  for (const { record, pool } of records) times.set(`${path}/${pool.name}`, timeOf(record));
  return pools;
}

/** Whether the record says how to reach the cluster's Kubernetes API: an endpoint, and its CA unless DNS. */
function reachable(cluster: GkeCluster, resource: Cluster): boolean {
  if (!cluster.endpoint) return false;
  return cluster.caCertificate !== undefined || cluster.endpoint !== resource.endpoint;
}

/** A Report per project that adds each failure to `problems`. */
function reporterInto(problems: ExportProblem[]): (project: string) => Report {
  return (project) => (what, error) => problems.push(problemOf(project, what, error));
}

function timeOf(record: AssetResource): number {
  const time = record.updateTime ? Date.parse(record.updateTime) : Number.NaN;
  // No date: as old as can be, so nothing resolves on it unread.
  return Number.isNaN(time) ? 0 : time;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
