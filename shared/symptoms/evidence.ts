import { type Finding, type FindingKind, isPagingKind, SYMPTOM_FINDING_KINDS } from '../domain/finding.ts';
import type { Incident, SymptomEvidence } from '../incidents/incident.ts';
import type { SymptomGroupRecord } from './group.ts';
import { redact } from './redact.ts';

/**
 * Symptoms joined to their causes, pure: which open incident explains a symptom group (its KSA, the
 * node pool its pods run on, its cluster), the evidence an incident carries for a group, and the
 * timeline people read: change → first failure → repair → last failure.
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

// ---- words ----------------------------------------------------------------------------------------

/** "40 s", "3 min", "2 h 5 min". */
export function duration(ms: number): string {
  const seconds = Math.round(Math.abs(ms) / 1000);
  if (seconds < 90) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** What the change did, in a few words after its actor: "put pool-c on GCE_METADATA". */
export function changeWords(finding: Finding): string {
  const ksa =
    finding.ksas.length === 1 ? `${finding.ksas[0]?.namespace}/${finding.ksas[0]?.name}` : undefined;
  const method = finding.cause?.method ?? '';
  switch (finding.kind) {
    case 'nodepool-metadata-disabled':
      return `${/CreateNodePool/.test(method) ? 'created' : 'put'} ${finding.nodePool ?? 'a node pool'} on GCE_METADATA`;
    case 'cluster-wi-disabled':
      return `turned Workload Identity off on ${finding.cluster?.name ?? 'the cluster'}`;
    case 'binding-missing':
      return `removed ${ksa ? `${ksa}'s` : plural(finding.ksas.length, "KSA's", "KSAs'")} workloadIdentityUser binding on ${finding.gsa ?? 'its GSA'}`;
    case 'annotation-missing':
      return /\.delete$/.test(method)
        ? `deleted ${ksa ?? 'the KSA'}`
        : `removed the annotation of ${ksa ?? plural(finding.ksas.length, 'KSA')}`;
    case 'gsa-missing':
      return `deleted ${finding.gsa ?? 'the GSA'}`;
    case 'gsa-disabled':
      return `disabled ${finding.gsa ?? 'the GSA'}`;
    case 'metadata-egress-blocked':
      return 'applied a NetworkPolicy that cuts pods off from the metadata server';
    case 'key-file-override':
      return 'set GOOGLE_APPLICATION_CREDENTIALS';
    default:
      return 'made the change';
  }
}

/** Who failed, for the sentence: a KSA, a namespace's pods, or a cluster's metadata server. */
function subject(e: SymptomEvidence): string {
  if (e.scope === 'cluster') return `the metadata server of ${e.cluster.name}`;
  if (e.ksa) return `${e.namespace}/${e.ksa}`;
  const workloads = e.workloads.length > 0 ? ` (${e.workloads.slice(0, 2).join(', ')})` : '';
  return `pods of ${e.namespace}${workloads}`;
}

/** Failures, in words: "has failed 37 token requests", "answered 27.4% of requests with errors". */
function failed(e: SymptomEvidence): string {
  if (e.alert) {
    const observed = percent(e.alert.observedValue);
    const threshold = percent(e.alert.thresholdValue);
    return `answered ${observed ?? 'too many'} of its requests with errors${threshold ? ` (alert above ${threshold})` : ''}`;
  }
  if (e.scope === 'cluster') return `has logged ${plural(e.count, 'error')}`;
  return `${e.ksa ? 'has' : 'have'} failed ${plural(e.count, 'token request')}`;
}

function percent(value: string | undefined): string | undefined {
  const n = value === undefined ? Number.NaN : Number(value);
  if (!Number.isFinite(n)) return undefined;
  return `${Math.round(n * 1000) / 10}%`;
}

/**
 * One sentence per group: "payments/api has failed 37 token requests since 10:02, 40 s after
 * carol@example.com put pool-c on GCE_METADATA". `time` renders a time for the destination.
 */
export function evidenceSentence(
  incident: Incident,
  e: SymptomEvidence,
  time: (iso: string) => string,
): string {
  const cause = incident.kind === 'wi-auth-failures' ? undefined : incident.finding.cause;
  let after = '';
  if (cause?.time !== undefined && !Number.isNaN(Date.parse(cause.time))) {
    const delta = Date.parse(e.firstSeen) - Date.parse(cause.time);
    const who = cause.actor ?? 'someone';
    after = `, ${duration(delta)} ${delta >= 0 ? 'after' : 'before'} ${who} ${changeWords(incident.finding)}`;
  }
  return `${subject(e)} ${failed(e)} since ${time(e.firstSeen)}${after}`;
}

export type TimelineLabel = 'change' | 'first failure' | 'repair' | 'resolved' | 'last failure';

export interface TimelineEntry {
  at: string;
  label: TimelineLabel;
  /** Plain words (escape for the destination). */
  text: string;
}

const KIND_WORDS: Record<string, string> = {
  'token-denied': 'token refused (403)',
  'metadata-unreachable': 'metadata server unreachable',
  'invalid-grant': 'invalid_grant',
  'no-credentials': 'no credentials found',
  'metadata-server-error': 'metadata server error',
};

export function kindWords(kinds: Record<string, number>): string {
  return Object.entries(kinds)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${KIND_WORDS[kind] ?? kind} ×${n}`)
    .join(', ');
}

/**
 * change (cause time, actor) → first failure → repair → last failure, over all the incident's
 * evidence, in time order. Empty without evidence.
 */
export function timelineOf(incident: Incident): TimelineEntry[] {
  const evidence = incident.evidence ?? [];
  if (evidence.length === 0) return [];
  const entries: TimelineEntry[] = [];
  const f = incident.finding;
  if (incident.kind !== 'wi-auth-failures' && f.cause?.time !== undefined) {
    entries.push({
      at: f.cause.time,
      label: 'change',
      text: `${f.cause.actor ?? 'someone'} ${changeWords(f)} (${f.cause.method})`,
    });
  }
  const first = [...evidence].sort(
    (a, b) => Date.parse(a.firstSeen) - Date.parse(b.firstSeen),
  )[0] as SymptomEvidence;
  const last = [...evidence].sort(
    (a, b) => Date.parse(b.lastSeen) - Date.parse(a.lastSeen),
  )[0] as SymptomEvidence;
  const firstSample = first.samples[0];
  entries.push({
    at: first.firstSeen,
    label: 'first failure',
    text: first.alert
      ? `Cloud Monitoring opened incident ${first.alert.incidentId} for ${subject(first)}`
      : `${first.firstPod ?? subject(first)}${firstSample ? ` (${firstSample.library}: ${KIND_WORDS[firstSample.kind] ?? firstSample.kind})` : ''}`,
  });
  if (incident.status === 'resolved' && incident.resolvedAt) {
    const cause = incident.resolution?.cause;
    entries.push({
      at: cause?.time ?? incident.resolvedAt,
      label: cause ? 'repair' : 'resolved',
      text: cause
        ? `${cause.actor ?? 'someone'}: ${incident.resolution?.summary ?? 'repaired'}`
        : (incident.resolution?.summary ?? 'resolved'),
    });
  }
  const total = evidence.reduce((sum, e) => sum + e.count, 0);
  const pods = evidence.reduce((sum, e) => sum + e.pods, 0);
  const alertOnly = evidence.every((e) => e.alert !== undefined);
  entries.push({
    at: last.lastSeen,
    label: 'last failure',
    text: alertOnly
      ? last.alert?.state === 'closed'
        ? 'Cloud Monitoring closed its incident'
        : 'the error rate is still above the threshold'
      : `${plural(total, 'failure')} in all from ${plural(pods, 'pod')}${evidence.length > 1 ? ` of ${plural(evidence.length, 'group')}` : ''}`,
  });
  return entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}
