import { gsaState, servesKsas } from '../chain/judge.ts';
import { gsaInfoOf } from '../chain/snapshot-facts.ts';
import { DETECTORS, scanAll } from '../detect/index.ts';
import type { Finding, FindingKind, KsaRef } from '../domain/finding.ts';
import type { Incident } from '../domain/incident.ts';
import type { ClusterKey } from '../gcp/ports.ts';
import { clustersInPool, findGsa } from '../inventory/impact.ts';
import { poolProject, projectOfEmail } from '../inventory/members.ts';
import type { Snapshot } from '../inventory/snapshot.ts';

/**
 * The sweep, pure: every broken link the whole inventory shows (the same findings, by fingerprint,
 * as the event path), and which open incidents it finds healthy. It judges only what it could read:
 * a finding or incident that rests on an unreachable cluster or an unreadable GSA is neither fired
 * nor resolved, and incidents of projects not swept are left alone.
 */

/**
 * What the sweep could not read. Every verdict that rests on one of these is withheld. Clusters and
 * GSAs an export marks `incomplete` (a read of theirs failed) count as unreadable without being listed.
 */
export interface Unreachable {
  /** Clusters whose Kubernetes API did not answer: their KSAs, pods and policies are unknown. */
  clusters?: readonly ClusterKey[];
  /**
   * Where GKE did not list clusters (its missingZones, or a failed list: no location): a cluster
   * there that the inventory lacks may exist. Clusters the inventory holds were read.
   */
  unlisted?: readonly { project: string; location?: string }[];
  /** GSAs IAM would not show (403, 5xx): their state and policy are unknown. */
  gsas?: readonly string[];
  /** Projects whose IAM could not be read at all: their GSAs and their own policy are unknown. */
  iamProjects?: readonly string[];
}

export interface SweepScope {
  /** The projects swept: findings and incidents of any other project are not the sweep's to judge. */
  projects: readonly string[];
  unreachable?: Unreachable;
}

/** Every firing finding of the swept projects that rests only on what the sweep could read. */
export function sweep(snapshot: Snapshot, scope: SweepScope): Finding[] {
  const view = viewOf(snapshot, scope);
  return scanAll(snapshot).filter(
    (finding) => view.swept.has(finding.project) && !restsOnUnread(finding, view),
  );
}

/**
 * The sweep's verdict on the incidents open before it: the firing findings as they are, plus a
 * `resolved` finding for each open incident of the swept scope that no longer fires. Resolutions
 * carry no cause (no one acted); their summary says the sweep found the link healthy, and when.
 */
export function settle(
  firing: readonly Finding[],
  open: readonly Incident[],
  scope: SweepScope & { snapshot: Snapshot; at: Date },
): Finding[] {
  const view = viewOf(scope.snapshot, scope);
  const fires = new Set(firing.map((finding) => finding.fingerprint));
  const resolved = open
    .filter((incident) => incident.status === 'open' && !fires.has(incident.fingerprint))
    .filter((incident) => canJudge(incident.finding, view) && !brokenStill(incident.finding, view))
    .map((incident) => resolution(incident, scope.at));
  const opened = open.filter((incident) => incident.status === 'open');
  return [...firing.filter((finding) => !partOfOpenOutage(finding, opened)), ...resolved];
}

/**
 * A binding-missing finding for a KSA that an open gsa-missing incident of the same GSA names: the
 * GSA was re-created without its bindings (brokenStill). That incident already pages for those
 * bindings, and it resolves when they are bound again, so a second incident for them would page twice
 * for one outage. A KSA the incident does not name (annotated since) is reported as usual, and so is
 * a binding-missing incident that is already open (its confirmation pages nobody).
 */
function partOfOpenOutage(finding: Finding, open: readonly Incident[]): boolean {
  const subject = bindingSubjectOf(finding);
  if (subject === undefined || open.some((incident) => incident.fingerprint === finding.fingerprint))
    return false;
  return open.some(
    (incident) =>
      incident.kind === 'gsa-missing' &&
      incident.finding.gsa === finding.gsa &&
      incident.finding.ksas.some(
        (ksa) =>
          ksa.workloadPool === subject.workloadPool &&
          ksa.namespace === subject.namespace &&
          ksa.name === subject.name,
      ),
  );
}

/** The KSA a binding-missing finding is about, from its fingerprint (…/pool/namespace/name). */
function bindingSubjectOf(finding: Finding): KsaRef | undefined {
  if (finding.kind !== 'binding-missing') return undefined;
  const [workloadPool, namespace, name] = finding.fingerprint.split('/').slice(-3);
  return workloadPool && namespace && name ? { workloadPool, namespace, name } : undefined;
}

/** Why the sweep cannot judge an open incident, or undefined when it can. For logs and reports. */
export function blindSpot(finding: Finding, scope: SweepScope & { snapshot: Snapshot }): string | undefined {
  return blindReason(finding, viewOf(scope.snapshot, scope));
}

/**
 * The open incidents the verdict neither fires nor resolves, each with why (its blind spot), judged
 * on one view of the inventory. Left out: those the sweep judged still broken though no scan fires
 * their fingerprint (a GSA re-created under the email of a deleted one that does not bind the KSAs it
 * served, brokenStill): settle keeps those open on purpose.
 */
export function untouchedIncidents(
  verdict: readonly Finding[],
  open: readonly Incident[],
  scope: SweepScope & { snapshot: Snapshot },
): { fingerprint: string; reason: string }[] {
  const view = viewOf(scope.snapshot, scope);
  const judged = new Set(verdict.map((finding) => finding.fingerprint));
  return open
    .filter((incident) => incident.status === 'open' && !judged.has(incident.fingerprint))
    .flatMap((incident) => {
      const blind = blindReason(incident.finding, view);
      if (blind === undefined && brokenStill(incident.finding, view)) return [];
      return [{ fingerprint: incident.fingerprint, reason: blind ?? 'not judged' }];
    });
}

interface View {
  snapshot: Snapshot;
  swept: Set<string>;
  clusters: Set<string>;
  unlisted: readonly { project: string; location?: string }[];
  gsas: Set<string>;
  iamProjects: Set<string>;
  /** Workload pools with an unreachable (or unlisted) cluster in them. */
  blindPools: Set<string>;
}

const clusterId = (project: string, location: string, name: string) => `${project}/${location}/${name}`;

function viewOf(snapshot: Snapshot, scope: SweepScope): View {
  const marked = unreadableIn(snapshot);
  const unreachable = scope.unreachable ?? {};
  const clusterKeys = [...(unreachable.clusters ?? []), ...(marked.clusters ?? [])];
  const clusters = new Set(clusterKeys.map((c) => clusterId(c.project, c.location, c.name)));
  const unlisted = unreachable.unlisted ?? [];
  const blindPools = new Set<string>();
  for (const key of clusterKeys) {
    const known = findClusterIn(snapshot, key.project, key);
    // A cluster not read at all may be in any pool; its project's own is the likely one.
    blindPools.add(known?.workloadPool || `${key.project}.svc.id.goog`);
  }
  for (const { project } of unlisted) blindPools.add(`${project}.svc.id.goog`);
  return {
    snapshot,
    swept: new Set(scope.projects),
    clusters,
    unlisted,
    gsas: new Set([...(unreachable.gsas ?? []), ...(marked.gsas ?? [])]),
    iamProjects: new Set(unreachable.iamProjects ?? []),
    blindPools,
  };
}

function clusterBlind(view: View, project: string, cluster: { location: string; name: string }): boolean {
  if (view.clusters.has(clusterId(project, cluster.location, cluster.name))) return true;
  if (findClusterIn(view.snapshot, project, cluster)) return false;
  // Absent from the inventory: deleted, or in a zone GKE did not list (a zone hides its zonal
  // clusters and may hide the regional ones of its region).
  return view.unlisted.some(
    (u) =>
      u.project === project &&
      (u.location === undefined ||
        u.location === cluster.location ||
        u.location.startsWith(`${cluster.location}-`)),
  );
}

function findClusterIn(snapshot: Snapshot, project: string, ref: { location: string; name: string }) {
  return snapshot.projects
    .find((p) => p.projectId === project)
    ?.clusters.find((c) => c.name === ref.name && c.location === ref.location);
}

/** The clusters and GSAs an export marked `incomplete`: some read of theirs failed. */
export function unreadableIn(snapshot: Snapshot): Unreachable {
  const clusters: ClusterKey[] = [];
  const gsas: string[] = [];
  for (const project of snapshot.projects) {
    for (const cluster of project.clusters) {
      if (cluster.incomplete)
        clusters.push({ project: project.projectId, location: cluster.location, name: cluster.name });
    }
    for (const gsa of project.serviceAccounts) if (gsa.incomplete) gsas.push(gsa.email);
  }
  return { clusters, gsas };
}

function gsaBlind(view: View, email: string): boolean {
  if (view.gsas.has(email)) return true;
  const owner = projectOfEmail(email) ?? ownerProject(view.snapshot, email);
  return owner !== undefined && view.iamProjects.has(owner);
}

function ownerProject(snapshot: Snapshot, email: string): string | undefined {
  return snapshot.projects.find((p) => p.serviceAccounts.some((g) => g.email === email))?.projectId;
}

/** The kinds the sweep judges: incidents of any other kind (wi-sentinel's own) are not its to resolve. */
const SWEPT_KINDS: ReadonlySet<FindingKind> = new Set(
  DETECTORS.filter((detector) => detector.scan).map((detector) => detector.kind),
);

/** Kinds proved by an absence anywhere in a workload pool: a KSA that exists in none of its clusters. */
const POOL_WIDE: readonly FindingKind[] = ['binding-orphaned'];

/** Kinds whose KSAs may live in any cluster: a GSA's users are found by scanning them all. */
const GSA_WIDE: readonly FindingKind[] = ['gsa-missing', 'gsa-disabled', 'gsa-shared', 'gsa-broad-role'];

/** A firing finding whose verdict rests on something the sweep could not read. */
function restsOnUnread(finding: Finding, view: View): boolean {
  if (finding.cluster && clusterBlind(view, finding.project, finding.cluster)) return true;
  if (finding.gsa && gsaBlind(view, finding.gsa)) return true;
  if (finding.kind === 'gsa-broad-role' && view.iamProjects.has(finding.project)) return true;
  return POOL_WIDE.includes(finding.kind) && finding.ksas.some((k) => view.blindPools.has(k.workloadPool));
}

/**
 * An open incident no scan fires whose link the inventory still shows broken: a GSA back under the
 * email of a deleted one but not serving the KSAs the incident names. Re-created, it is another
 * principal with an empty policy, which the scans cannot tell from one never bound (they report its
 * KSAs as binding-missing, folded into this incident: partOfOpenOutage): the incident stays open
 * until they are bound again.
 */
function brokenStill(finding: Finding, view: View): boolean {
  if (finding.kind !== 'gsa-missing' || finding.gsa === undefined) return false;
  const gsa = findGsa(view.snapshot, finding.gsa);
  // It exists again (not deleted), yet does not serve the KSAs: re-created without their bindings.
  return gsa !== undefined && gsa.deleted !== true && !servesKsas(gsa, finding.ksas);
}

function canJudge(finding: Finding, view: View): boolean {
  return blindReason(finding, view) === undefined;
}

/**
 * Why an open incident cannot be judged healthy by this sweep. A repair the sweep can see for itself
 * (the GSA back, the binding back, the role gone) counts whatever else it could not read.
 */
function blindReason(finding: Finding, view: View): string | undefined {
  if (!SWEPT_KINDS.has(finding.kind)) return `the sweep does not judge ${finding.kind}`;
  if (!view.swept.has(finding.project)) return `project ${finding.project} was not swept`;
  if (repairedVisibly(finding, view)) return undefined;
  if (finding.cluster && clusterBlind(view, finding.project, finding.cluster))
    return `cluster ${finding.cluster.name} could not be read`;
  if (finding.gsa) {
    if (gsaBlind(view, finding.gsa)) return `${finding.gsa} could not be read`;
    const owner = projectOfEmail(finding.gsa);
    if (owner !== undefined && !view.swept.has(owner) && findGsa(view.snapshot, finding.gsa) === undefined)
      return `${finding.gsa} belongs to project ${owner}, which was not swept`;
  }
  // A link with no cluster in its name (a binding, a GSA) may be broken in any cluster of its pools.
  for (const { workloadPool } of finding.cluster ? [] : finding.ksas) {
    if (view.blindPools.has(workloadPool)) return `a cluster of ${workloadPool} could not be read`;
    if (
      !view.swept.has(poolProject(workloadPool)) &&
      clustersInPool(view.snapshot, workloadPool).length === 0
    )
      return `no swept cluster belongs to ${workloadPool}`;
  }
  if (GSA_WIDE.includes(finding.kind) && (view.clusters.size > 0 || view.unlisted.length > 0))
    return 'some cluster could not be read, and any cluster may hold a KSA that uses the GSA';
  if (finding.kind === 'gsa-broad-role') {
    const project = view.snapshot.projects.find((p) => p.projectId === finding.project);
    if (view.iamProjects.has(finding.project) || project?.iamPolicy === undefined)
      return `the IAM policy of ${finding.project} was not read`;
  }
  return undefined;
}

/** Healthy by what IAM showed the sweep, however much of the clusters it could read. */
function repairedVisibly(finding: Finding, view: View): boolean {
  if (finding.gsa === undefined || gsaBlind(view, finding.gsa)) return false;
  const gsa = findGsa(view.snapshot, finding.gsa);
  switch (finding.kind) {
    case 'gsa-missing':
      return gsaState(gsaInfoOf(view.snapshot, finding.gsa)) !== 'unknown' && servesKsas(gsa, finding.ksas);
    case 'gsa-disabled':
      return gsaState(gsaInfoOf(view.snapshot, finding.gsa)) === 'ok';
    case 'binding-missing': {
      const ksa = bindingSubjectOf(finding);
      return ksa !== undefined && servesKsas(gsa, [ksa]);
    }
    case 'gsa-broad-role': {
      if (view.iamProjects.has(finding.project)) return false;
      const policy = view.snapshot.projects.find((p) => p.projectId === finding.project)?.iamPolicy;
      const role = finding.fingerprint.split('/').slice(-2).join('/');
      const member = `serviceAccount:${finding.gsa}`;
      return (
        policy !== undefined && !policy.bindings.some((b) => b.role === role && b.members.includes(member))
      );
    }
    default:
      return false;
  }
}

/** The resolved finding for an incident the sweep found healthy. */
function resolution(incident: Incident, at: Date): Finding {
  const { finding } = incident;
  return {
    kind: finding.kind,
    status: 'resolved',
    severity: incident.severity,
    fingerprint: incident.fingerprint,
    project: finding.project,
    ...(finding.cluster ? { cluster: finding.cluster } : {}),
    ...(finding.nodePool ? { nodePool: finding.nodePool } : {}),
    ...(finding.gsa ? { gsa: finding.gsa } : {}),
    ksas: finding.ksas,
    summary: `the sweep of ${at.toISOString()} found ${linkOf(finding)} healthy`,
  };
}

/** The link a finding is about, in words, from its fingerprint (what names it). */
export function linkOf(finding: Finding): string {
  const parts = finding.fingerprint.split('/').slice(1);
  const cluster = finding.cluster?.name ?? parts[2] ?? '?';
  const ksa = `${parts.at(-2)}/${parts.at(-1)}`;
  switch (finding.kind) {
    case 'cluster-wi-disabled':
      return `Workload Identity on cluster ${cluster}`;
    case 'nodepool-metadata-disabled':
      return `node pool ${finding.nodePool ?? parts.at(-1)} of ${cluster}`;
    case 'binding-missing':
      return `the binding of ${ksa} on ${finding.gsa}`;
    case 'annotation-missing':
      return `the annotation of ${ksa} in ${cluster}`;
    case 'gsa-missing':
    case 'gsa-disabled':
      return `${finding.gsa}`;
    case 'metadata-egress-blocked':
      return `egress to the GKE metadata server from ${parts.at(-1)} in ${cluster}`;
    case 'key-file-override':
      return `${parts.at(-2)} ${parts.at(-3)}/${parts.at(-1)} in ${cluster} (no key file)`;
    case 'gsa-shared':
      return `${finding.gsa} (used from one namespace)`;
    case 'gsa-broad-role':
      return `${finding.gsa} (no longer ${parts.slice(-2).join('/')} on ${finding.project})`;
    case 'binding-orphaned':
      return `the binding of ${finding.gsa} to ${ksa}`;
    default:
      return finding.fingerprint;
  }
}
