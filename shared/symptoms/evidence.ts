import { type Finding, type FindingKind, isPagingKind, SYMPTOM_FINDING_KINDS } from '../domain/finding.ts';
import type { SymptomEvidence } from '../domain/incident.ts';
import type { SymptomGroupRecord } from '../domain/symptom-group.ts';
import { redact } from './redact.ts';

/**
 * Symptoms joined to their causes, pure: which open incident explains a symptom group (its KSA, the
 * node pool its pods run on, its cluster), the evidence an incident carries for a group, and the
 * timeline people read (its words: shared/notify/evidence-render.ts).
 */

/** Kinds that never explain failures: wi-sentinel's own, and the symptom incidents themselves. */
const NEVER_EXPLAIN: ReadonlySet<FindingKind> = new Set<FindingKind>([
  'sentinel-degraded',
  ...SYMPTOM_FINDING_KINDS,
]);

/**
 * Breaks after which the metadata server asks IAM for a token and answers its refusal (a pool off
 * GKE_METADATA bypasses it instead; a NetworkPolicy stops requests before they reach it).
 */
const REFUSES_TOKENS: ReadonlySet<FindingKind> = new Set<FindingKind>([
  'binding-missing',
  'gsa-missing',
  'gsa-disabled',
]);

type GroupLike = Pick<
  SymptomGroupRecord,
  'project' | 'cluster' | 'namespace' | 'ksa' | 'workloadPool' | 'nodePools' | 'workloads' | 'scope'
>;

/** The pool KSA members name: the cluster's, else its project's default one. */
export function poolOf(group: Pick<SymptomGroupRecord, 'project' | 'workloadPool'>): string {
  return group.workloadPool ?? `${group.project}.svc.id.goog`;
}

function sameCluster(finding: Finding, group: GroupLike): boolean {
  return (
    finding.cluster !== undefined &&
    finding.project === group.project &&
    finding.cluster.location === group.cluster.location &&
    finding.cluster.name === group.cluster.name
  );
}

/**
 * Whether an (open) incident's finding explains the group's failures: it hits the group's KSA (in
 * the same workload pool, and in the same cluster when the finding names one), or the node pool its
 * pods run on, or the whole cluster; for pods whose KSA is unknown, one of their workloads. The
 * metadata server's own errors (and its error-rate alert) are explained by node-pool and cluster
 * incidents of that cluster, and by a break that refuses tokens to workloads running there.
 */
export function explains(finding: Finding, group: GroupLike): boolean {
  if (!isPagingKind(finding.kind) || NEVER_EXPLAIN.has(finding.kind)) return false;
  const inCluster = sameCluster(finding, group);
  const clusterWide = inCluster && finding.kind === 'cluster-wi-disabled';
  const onPool = inCluster && finding.nodePool !== undefined && group.nodePools.includes(finding.nodePool);
  if (group.scope === 'cluster') {
    // An alert that names no pool is explained by any pool of its cluster that stopped serving.
    const anyPool = inCluster && finding.nodePool !== undefined && group.nodePools.length === 0;
    // The metadata server answers IAM's refusals as errors too: a break that refuses tokens to
    // workloads running in the cluster raises its error rate.
    const refusesHere =
      REFUSES_TOKENS.has(finding.kind) &&
      finding.project === group.project &&
      (finding.workloads ?? []).some((w) => w.cluster === group.cluster.name);
    return clusterWide || onPool || anyPool || refusesHere;
  }
  if (clusterWide || onPool) return true;
  if (finding.cluster !== undefined && !inCluster) return false;
  if (group.ksa !== undefined) {
    const pool = poolOf(group);
    if (
      finding.ksas.some(
        (k) => k.workloadPool === pool && k.namespace === group.namespace && k.name === group.ksa,
      )
    )
      return true;
  }
  return (finding.workloads ?? []).some(
    (w) =>
      w.cluster === group.cluster.name &&
      w.namespace === group.namespace &&
      group.workloads.includes(`${w.kind}/${w.name}`) &&
      (w.nodePool === undefined || group.nodePools.length === 0 || group.nodePools.includes(w.nodePool)),
  );
}

/** What an incident keeps of a group: counts, times, at most two redacted samples. */
export function evidenceOf(group: SymptomGroupRecord, at: Date): SymptomEvidence {
  const first = group.samples[0];
  const last = group.samples.length > 1 ? group.samples.at(-1) : undefined;
  const samples = [first, last]
    .filter((s) => s !== undefined)
    // Redacted when classified; again here, as this is what leaves for Slack and PagerDuty.
    .map((s) => ({ time: s.time, pod: s.pod, kind: s.kind, library: s.library, message: redact(s.message) }));
  return {
    key: group.key,
    scope: group.scope,
    project: group.project,
    cluster: { ...group.cluster },
    ...(group.namespace ? { namespace: group.namespace } : {}),
    ...(group.ksa ? { ksa: group.ksa } : {}),
    ...(group.gsa ? { gsa: group.gsa } : {}),
    count: group.count,
    firstSeen: group.firstSeen,
    lastSeen: group.lastSeen,
    kinds: Object.fromEntries(Object.entries(group.kinds).filter(([, n]) => (n ?? 0) > 0)) as Record<
      string,
      number
    >,
    pods: group.pods.length,
    ...(group.podsCapped ? { podsCapped: true } : {}),
    ...(first ? { firstPod: first.pod } : {}),
    nodePools: [...group.nodePools],
    workloads: [...group.workloads],
    samples,
    ...(group.alert
      ? {
          alert: {
            state: group.alert.state,
            incidentId: group.alert.incidentId,
            ...(group.alert.observedValue ? { observedValue: group.alert.observedValue } : {}),
            ...(group.alert.thresholdValue ? { thresholdValue: group.alert.thresholdValue } : {}),
            ...(group.alert.url ? { url: group.alert.url } : {}),
            startedAt: group.alert.startedAt,
            ...(group.alert.endedAt ? { endedAt: group.alert.endedAt } : {}),
          },
        }
      : {}),
    at: at.toISOString(),
  };
}

/** Whether `next` tells people anything `previous` did not (a refresh with the same numbers does not). */
export function evidenceChanged(previous: SymptomEvidence | undefined, next: SymptomEvidence): boolean {
  if (previous === undefined) return true;
  return (
    previous.count !== next.count ||
    previous.lastSeen !== next.lastSeen ||
    previous.alert?.state !== next.alert?.state ||
    previous.alert?.observedValue !== next.alert?.observedValue
  );
}
