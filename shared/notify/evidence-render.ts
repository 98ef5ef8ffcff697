import type { Finding } from '../domain/finding.ts';
import type { Incident, SymptomEvidence } from '../domain/incident.ts';

/**
 * What workloads feel, in words, for every destination (Slack, PagerDuty, the terminal, the
 * `wi-auth-failures` summary): one sentence per symptom group and the timeline people read, change →
 * first failure → repair → last failure. Pure; the evidence itself is taken in shared/symptoms/evidence.ts.
 */

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
function changeWords(finding: Finding): string {
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
