import type { ClusterRef } from '../domain/finding.ts';
import {
  DEFAULT_WINDOW,
  type SymptomCount,
  type SymptomGroup,
  symptomCounts,
  type WindowOptions,
} from '../domain/symptom-group.ts';
import { ago, type DocLine, MARKS, plural, span, utc } from './doc.ts';

/**
 * What `/wi-status` and `wi-sentinel status` show of what workloads feel: credential failures
 * counted per cluster / namespace / KSA (symptomCounts of the stored groups), and the metadata
 * server's error-rate alerts that Cloud Monitoring holds open. Pure: the time is given.
 */

export const SYMPTOM_MARK = '🔥';

/** A stored symptom group: the window's aggregate and, for a Monitoring alert, its state. */
export type StatusGroup = SymptomGroup & {
  alert?: {
    state: 'open' | 'closed';
    startedAt: string;
    observedValue?: string;
    thresholdValue?: string;
    url?: string;
  };
};

export interface MetadataServerAlertLine {
  project: string;
  cluster: ClusterRef;
  startedAt: string;
  observedValue?: string;
  thresholdValue?: string;
  url?: string;
}

export interface StatusSymptoms {
  /** Groups with failures, by key. */
  counts: SymptomCount[];
  /** Metadata-server error-rate alerts open in Cloud Monitoring. */
  alerts: MetadataServerAlertLine[];
  /** When the counts were taken (RFC 3339): `recent` counts the window ending then. */
  at: string;
  windowMs: number;
}

/** The counts and open alerts of the stored groups at `now`. */
export function statusSymptoms(
  groups: readonly StatusGroup[],
  now: Date,
  options: WindowOptions = DEFAULT_WINDOW,
): StatusSymptoms {
  const failing = groups.filter((group) => group.alert === undefined && group.count > 0);
  const state = { groups: Object.fromEntries(failing.map((group) => [group.key, group])) };
  const alerts = groups.flatMap((group): MetadataServerAlertLine[] =>
    group.alert?.state === 'open'
      ? [
          {
            project: group.project,
            cluster: group.cluster,
            startedAt: group.alert.startedAt,
            ...(group.alert.observedValue ? { observedValue: group.alert.observedValue } : {}),
            ...(group.alert.thresholdValue ? { thresholdValue: group.alert.thresholdValue } : {}),
            ...(group.alert.url ? { url: group.alert.url } : {}),
          },
        ]
      : [],
  );
  return {
    counts: symptomCounts(state, now.getTime(), options),
    alerts,
    at: now.toISOString(),
    windowMs: options.windowMs,
  };
}

const inCluster =
  (project: string, cluster: ClusterRef) =>
  (item: { project: string; cluster: ClusterRef }): boolean =>
    item.project === project &&
    item.cluster.location === cluster.location &&
    item.cluster.name === cluster.name;

/** One cluster's counts (most recent failures first) and its open alert. */
export function clusterSymptoms(
  symptoms: StatusSymptoms,
  project: string,
  cluster: ClusterRef,
): { counts: SymptomCount[]; alert?: MetadataServerAlertLine } {
  const alert = symptoms.alerts.find(inCluster(project, cluster));
  return {
    counts: symptoms.counts.filter(inCluster(project, cluster)).sort(byRecent),
    ...(alert ? { alert } : {}),
  };
}

/** The count of one KSA in one cluster. */
export function ksaSymptoms(
  symptoms: StatusSymptoms,
  project: string,
  cluster: ClusterRef,
  namespace: string,
  ksa: string,
): SymptomCount | undefined {
  return symptoms.counts.find(
    (count) => inCluster(project, cluster)(count) && count.namespace === namespace && count.ksa === ksa,
  );
}

/** Most failures in the window first, then most failures in all, then by key. */
export function byRecent(a: SymptomCount, b: SymptomCount): number {
  return b.recent - a.recent || b.count - a.count || a.key.localeCompare(b.key);
}

/** Failures in the window, summed. */
export function recentTotal(counts: readonly SymptomCount[]): number {
  return counts.reduce((sum, count) => sum + count.recent, 0);
}

/** "in the last 15 min" */
export function windowText(symptoms: Pick<StatusSymptoms, 'windowMs'>): string {
  return `in the last ${span(symptoms.windowMs)}`;
}

/** Who failed: `namespace/ksa`, or what stands for an unknown KSA or the metadata server itself. */
function whoText(count: SymptomCount): string {
  if (count.ksa !== undefined) return `${count.namespace}/${count.ksa}`;
  if (count.namespace === 'kube-system') return 'the GKE metadata server (kube-system)';
  return `${count.namespace}/* (pods of an unknown KSA)`;
}

/**
 * "12 in the last 15 min (0.8/min), 37 since 10:02 UTC, last 2 min ago"; a group quiet for the
 * whole window says since when it has been quiet.
 */
export function countText(count: SymptomCount, symptoms: StatusSymptoms): string {
  const now = new Date(symptoms.at);
  const since = `${count.count} since ${utc(count.firstSeen)}`;
  if (count.recent === 0) return `${since}, quiet since ${utc(count.lastSeen)} (${ago(count.lastSeen, now)})`;
  return `${count.recent} ${windowText(symptoms)} (${count.ratePerMinute}/min), ${since}, last ${ago(count.lastSeen, now)}`;
}

/** A line beside a KSA: the mark, how many failed, and when. */
export function ksaSymptomLine(count: SymptomCount, symptoms: StatusSymptoms): DocLine {
  return {
    indent: true,
    mark: SYMPTOM_MARK,
    lead: plural(count.count, 'credential failure'),
    text: `: ${countText(count, symptoms)}`,
  };
}

/** A line naming the group: cluster lists and the summary's list. */
export function groupSymptomLine(
  count: SymptomCount,
  symptoms: StatusSymptoms,
  withCluster: boolean,
): DocLine {
  const where = withCluster ? `${count.cluster.name} ` : '';
  return {
    mark: SYMPTOM_MARK,
    lead: `${where}${whoText(count)}`,
    text: `: ${countText(count, symptoms)}`,
  };
}

export function alertLine(
  alert: MetadataServerAlertLine,
  symptoms: StatusSymptoms,
  withCluster: boolean,
): DocLine {
  const where = withCluster ? ` of ${alert.cluster.name}` : '';
  const value =
    alert.observedValue !== undefined
      ? ` (${alert.observedValue}${alert.thresholdValue !== undefined ? ` > ${alert.thresholdValue}` : ''})`
      : '';
  return {
    mark: MARKS.warning,
    lead: `The GKE metadata server${where} errs`,
    text: `: more than 1% of its answers were errors${value}, open in Cloud Monitoring since ${utc(alert.startedAt)} (${ago(
      alert.startedAt,
      new Date(symptoms.at),
    )})`,
  };
}
