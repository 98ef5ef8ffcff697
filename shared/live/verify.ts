import { gsaState, runsGkeMetadata } from '../chain/judge.ts';
import { withImpact } from '../detect/build.ts';
import type { Finding, FindingKind } from '../domain/finding.ts';
import { LookupError } from '../errors.ts';
import type { GkeCluster, LiveState } from '../gcp/ports.ts';
import {
  gsaOf,
  type Impact,
  impactOfCluster,
  impactOfGsa,
  impactOfNodePool,
  impactOfPolicies,
  impactOfSubject,
  policyBinds,
  unboundKsas,
  workloadsOf,
} from '../inventory/impact.ts';
import { poolProject } from '../inventory/members.ts';
import type { NetworkPolicy } from '../inventory/network-policy-schema.ts';
import type { Snapshot, SnapshotCluster, SnapshotKsa, SnapshotPod } from '../inventory/snapshot.ts';

/**
 * Before a finding pages, live state must agree with it: the binding really is absent now, the pool
 * really is off GKE_METADATA once its operation completed, the KSA really lacks its annotation. And
 * who is hit is read from live state, in every cluster of the pool. A change undone before it is
 * verified pages nobody: its firing finding is refuted, and turned into a resolution so an incident
 * opened earlier for the same link closes (live state is healthy). A repair that live state does not
 * show yet is refuted and dropped: the incident stays open.
 *
 * Reads are issued in parallel per step; no kind needs more than two sequential round trips (a
 * cluster's endpoint from GKE, then its Kubernetes objects).
 */
export type Outcome = 'confirmed' | 'refuted' | 'unverified';

export interface Verdict {
  outcome: Outcome;
  /** The finding to act on: impact from live state when confirmed; a resolution when a firing one is refuted. */
  finding: Finding;
  /** Why, in one line with real names (logged). */
  reason: string;
}

export interface VerifyOptions {
  /** The last-known organization: GSA policies that bind KSAs without an annotation count them as WI. */
  inventory?: Snapshot;
  now?: () => Date;
  /**
   * Transient failures (429, 5xx, timeouts) make the delivery fail so Pub/Sub redelivers it; once the
   * change is this old, the finding goes out unverified instead of waiting any longer.
   */
  giveUpAfterMs?: number;
}

const GIVE_UP_AFTER_MS = 10 * 60 * 1000;

/** What a check found: whether the link is broken now, and how to read who is hit (firing only). */
interface Check {
  broken: boolean;
  reason: string;
  impact?: () => Promise<Impact>;
}

type Checker = (
  parts: string[],
  state: LiveState,
  finding: Finding,
  options: VerifyOptions,
) => Promise<Check>;

export async function verify(
  findings: readonly Finding[],
  state: LiveState,
  options: VerifyOptions = {},
): Promise<Verdict[]> {
  return Promise.all(findings.map((finding) => verifyOne(finding, state, options)));
}

async function verifyOne(finding: Finding, state: LiveState, options: VerifyOptions): Promise<Verdict> {
  const checker = CHECKERS[finding.kind];
  if (checker === undefined) return { outcome: 'confirmed', finding, reason: 'not a live-state link' };
  let check: Check;
  try {
    check = await checker(fingerprintParts(finding), state, finding, options);
  } catch (error) {
    return unverified(finding, error, options);
  }
  const firing = finding.status === 'firing';
  if (firing !== check.broken) {
    return {
      outcome: 'refuted',
      finding: firing ? undone(finding, check.reason) : finding,
      reason: check.reason,
    };
  }
  if (!firing || check.impact === undefined) return { outcome: 'confirmed', finding, reason: check.reason };
  try {
    return { outcome: 'confirmed', finding: withImpact(finding, await check.impact()), reason: check.reason };
  } catch (error) {
    // The link is confirmed broken: page with the impact the event gave, and say why it is not live.
    const verdict = unverified(finding, error, options);
    return {
      outcome: 'confirmed',
      finding: {
        ...finding,
        summary: `${finding.summary} (who is hit could not be read: ${explain(error)})`,
      },
      reason: `${check.reason}; ${verdict.reason}`,
    };
  }
}

/**
 * A permission problem cannot be cured by waiting: the finding goes out, saying what was not
 * checked. A transient one is retried (thrown) until the change is too old to hold back any longer.
 */
function unverified(finding: Finding, error: unknown, options: VerifyOptions): Verdict {
  // Anything but a transient lookup failure: the finding goes out unconfirmed, never dropped.
  if (error instanceof LookupError && error.retryable && !tooOld(finding, options)) throw error;
  const reason = `not confirmed against live state: ${explain(error)}`;
  return {
    outcome: 'unverified',
    finding: { ...finding, summary: `${finding.summary} (${reason})` },
    reason,
  };
}

function explain(error: unknown): string {
  if (!(error instanceof LookupError)) return `live state could not be read (${(error as Error).message})`;
  if (error instanceof LookupError && error.permission) return `wi-sentinel lacks ${error.permission}`;
  if (error instanceof LookupError && error.retryable) return `the ${error.api} API is unavailable`;
  return (error as Error).message;
}

function tooOld(finding: Finding, options: VerifyOptions): boolean {
  const time = Date.parse(finding.cause?.time ?? '');
  if (Number.isNaN(time)) return false;
  const now = (options.now ?? (() => new Date()))().getTime();
  return now - time > (options.giveUpAfterMs ?? GIVE_UP_AFTER_MS);
}

/** A firing finding live state contradicts: the link is healthy now, which resolves any open incident. */
function undone(finding: Finding, reason: string): Finding {
  const { remediation: _none, remediationWarning: _no, workloads: _hit, ...rest } = finding;
  return { ...rest, status: 'resolved', summary: `${reason} (${finding.summary})` };
}

/** The parts after the kind: the fingerprint names the link (see makeFinding's `key`). */
function fingerprintParts(finding: Finding): string[] {
  return finding.fingerprint.split('/').slice(1);
}

const CHECKERS: Partial<Record<FindingKind, Checker>> = {
  'binding-missing': async ([, gsa = '', pool = '', namespace = '', name = ''], state, _f, options) => {
    const [policy, clusters] = await Promise.all([policyOrGone(state, gsa), clustersInPool(state, pool)]);
    const bound = policy !== undefined && policyBinds(policy, pool, namespace, name);
    const ksa = `${namespace}/${name}`;
    return {
      broken: !bound,
      reason: bound
        ? `the policy of ${gsa} lets ${ksa} act as it now`
        : policy === undefined
          ? `${gsa} no longer exists`
          : `the policy of ${gsa} does not let ${ksa} act as it`,
      impact: async () => {
        const subject = { workloadPool: pool, namespace, ...(name === '*' ? {} : { name }) };
        const views = await Promise.all(
          clusters.map((cluster) =>
            name === '*'
              ? clusterView(state, cluster, { namespace })
              : clusterView(state, cluster, { namespace, serviceAccountName: name }),
          ),
        );
        return impactOfSubject(viewOf(views, options), subject, gsa);
      },
    };
  },

  'nodepool-metadata-disabled': async (
    [project = '', location = '', name = '', pool = ''],
    state,
    _f,
    options,
  ) => {
    const cluster = await state.gke.getCluster({ project, location, name });
    const found = cluster?.nodePools.find((candidate) => candidate.name === pool);
    if (cluster === undefined || found === undefined) {
      return { broken: false, reason: `node pool ${pool} of ${name} no longer exists` };
    }
    if (!cluster.workloadPool) {
      return {
        broken: false,
        reason: `cluster ${name} runs without Workload Identity now (its own finding)`,
      };
    }
    const mode = found.workloadMetadataMode ?? 'unset';
    const broken = !runsGkeMetadata(found);
    return {
      broken,
      reason: broken
        ? `node pool ${pool} of ${name} is on ${mode}`
        : `node pool ${pool} of ${name} is on GKE_METADATA now`,
      impact: async () => {
        const view = await clusterView(state, cluster, {});
        return impactOfNodePool(viewOf([view], options), view, pool);
      },
    };
  },

  'cluster-wi-disabled': async ([project = '', location = '', name = ''], state, finding, options) => {
    const cluster = await state.gke.getCluster({ project, location, name });
    if (cluster === undefined) return { broken: false, reason: `cluster ${name} no longer exists` };
    const broken = !cluster.workloadPool;
    return {
      broken,
      reason: broken
        ? `cluster ${name} has no workload pool`
        : `cluster ${name} is joined to ${cluster.workloadPool} now`,
      impact: async () => {
        const view = await clusterView(state, cluster, {});
        const pool = finding.ksas[0]?.workloadPool || `${project}.svc.id.goog`;
        return impactOfCluster(viewOf([view], options), view, pool);
      },
    };
  },

  'annotation-missing': async (
    [project = '', location = '', name = '', namespace = '', ksaName = ''],
    state,
  ) => {
    const cluster = await state.gke.getCluster({ project, location, name });
    if (cluster === undefined) return { broken: false, reason: `cluster ${name} no longer exists` };
    const [ksa, pods] = await Promise.all([
      state.kube.getServiceAccount(cluster, namespace, ksaName),
      state.kube.listPods(cluster, { namespace, serviceAccountName: ksaName }),
    ]);
    const gsa = ksa ? gsaOf(ksa) : undefined;
    const subject = `${namespace}/${ksaName}`;
    return {
      broken: gsa === undefined,
      reason:
        gsa !== undefined
          ? `${subject} names ${gsa} now`
          : ksa === undefined
            ? `${subject} does not exist in ${name}`
            : `${subject} has no iam.gke.io/gcp-service-account annotation`,
      impact: async () => ({
        ksas: [{ workloadPool: cluster.workloadPool ?? `${project}.svc.id.goog`, namespace, name: ksaName }],
        workloads: workloadsOf(toSnapshotCluster(cluster, { pods }), pods),
      }),
    };
  },

  /**
   * Repaired when the KSAs it served may act as it again: undeleted (the same principal), or bound
   * again. A GSA that merely exists again under the email (re-created: a new principal, an empty
   * policy) leaves them without a token, so it is still broken.
   */
  'gsa-missing': async ([project = '', gsa = ''], state, finding, options) => {
    const impact = async () => gsaImpact(state, await clustersUsing(state, project, finding), gsa, options);
    const info = await state.iam.getServiceAccount(gsa);
    if (gsaState({ ok: true, value: info }) === 'missing')
      return { broken: true, reason: `${gsa} does not exist`, impact };
    // No KSA named (an undelete's resolution: the same principal, whole again): existing is enough.
    if (finding.ksas.length === 0) return { broken: false, reason: `${gsa} exists now`, impact };
    const unbound = unboundKsas(await policyOrGone(state, gsa), finding.ksas);
    const names = unbound.map((ksa) => `${ksa.namespace}/${ksa.name}`);
    return {
      broken: unbound.length > 0,
      reason:
        unbound.length > 0
          ? `${gsa} exists, but its policy does not let ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''} act as it`
          : `${gsa} exists and lets every KSA it served act as it`,
      impact,
    };
  },

  'gsa-disabled': async ([project = '', gsa = ''], state, finding, options) => {
    const [info, clusters] = await Promise.all([
      state.iam.getServiceAccount(gsa),
      clustersUsing(state, project, finding),
    ]);
    const broken = gsaState({ ok: true, value: info }) !== 'ok';
    return {
      broken,
      reason:
        info === undefined
          ? `${gsa} does not exist`
          : broken
            ? `${gsa} is disabled`
            : `${gsa} is enabled now`,
      impact: () => gsaImpact(state, clusters, gsa, options),
    };
  },

  'metadata-egress-blocked': async (
    [project = '', location = '', name = '', namespace = ''],
    state,
    _f,
    options,
  ) => {
    const cluster = await state.gke.getCluster({ project, location, name });
    if (cluster === undefined) return { broken: false, reason: `cluster ${name} no longer exists` };
    const view = await clusterView(state, cluster, { namespace, networkPolicies: true });
    const blocked = impactOfPolicies(viewOf([view], options), view, namespace, view.networkPolicies);
    const broken = blocked.ksas.length > 0;
    return {
      broken,
      reason: broken
        ? `NetworkPolicies ${blocked.policies.map((p) => `${namespace}/${p}`).join(', ')} block the metadata server`
        : `the NetworkPolicies of ${namespace} let its WI pods reach the metadata server now`,
      impact: async () => ({ ksas: blocked.ksas, workloads: blocked.workloads }),
    };
  },
};

async function policyOrGone(state: LiveState, gsa: string) {
  try {
    return await state.iam.getServiceAccountPolicy(gsa);
  } catch (error) {
    if (error instanceof LookupError && error.status === 404) return undefined;
    throw error;
  }
}

/** The clusters of the pool's own project that are joined to it (a pool is per project). */
async function clustersInPool(state: LiveState, pool: string): Promise<GkeCluster[]> {
  const clusters = await state.gke.listClusters(poolProject(pool));
  return clusters.filter((cluster) => cluster.workloadPool === pool);
}

/** Where KSAs annotated with a GSA may run: the WI clusters of its project and of its KSAs' pools. */
async function clustersUsing(state: LiveState, project: string, finding: Finding): Promise<GkeCluster[]> {
  const projects = new Set([project, ...finding.ksas.map((ksa) => poolProject(ksa.workloadPool))]);
  const lists = await Promise.all([...projects].map((p) => state.gke.listClusters(p)));
  return lists.flat().filter((cluster) => cluster.workloadPool);
}

async function gsaImpact(state: LiveState, clusters: GkeCluster[], gsa: string, options: VerifyOptions) {
  const views = await Promise.all(clusters.map((cluster) => clusterView(state, cluster, {})));
  return impactOfGsa(viewOf(views, options), gsa);
}

interface ViewScope {
  namespace?: string;
  serviceAccountName?: string;
  networkPolicies?: boolean;
}

type ViewCluster = SnapshotCluster & { project: string };

/** The Kubernetes objects of one cluster that the impact needs, read in parallel. */
async function clusterView(state: LiveState, cluster: GkeCluster, scope: ViewScope): Promise<ViewCluster> {
  const { namespace, serviceAccountName } = scope;
  const [serviceAccounts, pods, networkPolicies, namespaces] = await Promise.all([
    serviceAccountName !== undefined && namespace !== undefined
      ? state.kube.getServiceAccount(cluster, namespace, serviceAccountName).then((ksa) => (ksa ? [ksa] : []))
      : state.kube.listServiceAccounts(cluster, namespace),
    state.kube.listPods(cluster, {
      ...(namespace !== undefined ? { namespace } : {}),
      ...(serviceAccountName !== undefined ? { serviceAccountName } : {}),
    }),
    scope.networkPolicies ? state.kube.listNetworkPolicies(cluster, namespace) : Promise.resolve([]),
    scope.networkPolicies ? state.kube.listNamespaces(cluster) : Promise.resolve(undefined),
  ]);
  return toSnapshotCluster(cluster, { serviceAccounts, pods, networkPolicies, namespaces });
}

function toSnapshotCluster(
  cluster: GkeCluster,
  objects: {
    serviceAccounts?: SnapshotKsa[];
    pods?: SnapshotPod[];
    networkPolicies?: NetworkPolicy[];
    namespaces?: { name: string; labels: Record<string, string> }[] | undefined;
  },
): ViewCluster {
  return {
    project: cluster.project,
    name: cluster.name,
    location: cluster.location,
    ...(cluster.workloadPool ? { workloadPool: cluster.workloadPool } : {}),
    nodePools: cluster.nodePools,
    serviceAccounts: objects.serviceAccounts ?? [],
    pods: objects.pods ?? [],
    networkPolicies: objects.networkPolicies ?? [],
    ...(objects.namespaces ? { namespaces: objects.namespaces } : {}),
  };
}

/**
 * A Snapshot of just what was read, for the impact functions. The inventory's GSA policies come
 * along: a KSA bound as a principal without an annotation still counts as a WI KSA.
 */
function viewOf(clusters: ViewCluster[], options: VerifyOptions): Snapshot {
  const projects = new Map<string, Snapshot['projects'][number]>();
  const project = (projectId: string) => {
    let found = projects.get(projectId);
    if (found === undefined) {
      found = { projectId, clusters: [], serviceAccounts: [] };
      projects.set(projectId, found);
    }
    return found;
  };
  for (const cluster of clusters) project(cluster.project).clusters.push(cluster);
  for (const known of options.inventory?.projects ?? []) {
    project(known.projectId).serviceAccounts.push(...known.serviceAccounts);
  }
  return { projects: [...projects.values()] };
}
