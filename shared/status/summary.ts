import { runsGkeMetadata } from '../chain/judge.ts';
import type { FindingSeverity } from '../domain/finding.ts';
import type { Incident } from '../domain/incident.ts';
import { clusterPath } from '../gcp/ports.ts';
import { usesWorkloadIdentity } from '../inventory/impact.ts';
import type { Snapshot, SnapshotCluster } from '../inventory/snapshot.ts';
import { chainState, inventoryChain } from './chain.ts';
import { type DocLine, type DocSection, MARKS, plural, renderDocText, type StatusDoc } from './doc.ts';
import {
  alertLine,
  byRecent,
  clusterSymptoms,
  groupSymptomLine,
  type MetadataServerAlertLine,
  recentTotal,
  type StatusSymptoms,
  SYMPTOM_MARK,
  windowText,
} from './symptoms.ts';

/**
 * "Is Workload Identity healthy?" from stored state: open incidents by severity, and per cluster
 * whether it is joined to a workload pool, its node pools' metadata mode, and how many WI KSAs,
 * workloads and pods it runs. Pure; `/wi-status` and `wi-sentinel status` render it.
 */
export interface ClusterStatus {
  project: string;
  name: string;
  location: string;
  workloadPool?: string;
  pools: { name: string; mode: string; healthy: boolean }[];
  wiKsas: number;
  /** WI KSAs with a broken link in the inventory (see chain.ts). */
  brokenKsas: number;
  /** Distinct workloads (owner kind and name) running as a WI KSA. */
  wiWorkloads: number;
  wiPods: number;
  openIncidents: number;
  /** Of those, the ones above warning (hygiene never makes a cluster unhealthy). */
  openBreaks: number;
  /** Credential failures its workloads logged in the symptom window, and the groups they fall in. */
  failures?: { recent: number; groups: number };
  /** The metadata server's error-rate alert, while Cloud Monitoring holds it open. */
  metadataAlert?: MetadataServerAlertLine;
}

export interface IncidentLine {
  id: string;
  severity: FindingSeverity;
  kind: string;
  summary: string;
  openedAt: string;
  fingerprint: string;
  silencedBy?: string;
  /** The planned change the incident was declared as, while it pages nobody. */
  plannedBy?: string;
}

export interface StatusSummary {
  /** No open incident above warning (hygiene never makes it unhealthy). */
  healthy: boolean;
  open: Record<FindingSeverity, number>;
  incidents: IncidentLine[];
  clusters: ClusterStatus[];
  /** Whether an inventory was given (without one, nothing is known of clusters). */
  inventory: boolean;
  /** Workloads' credential failures and metadata-server alerts, when the symptom groups were read. */
  symptoms?: StatusSymptoms;
}

export const SEVERITIES: FindingSeverity[] = ['critical', 'error', 'warning', 'info'];

export const SEVERITY_MARKS: Record<FindingSeverity, string> = {
  critical: '🔴',
  error: '🟠',
  warning: '🟡',
  info: '🔵',
};

export function summarize(
  incidents: readonly Incident[],
  snapshot: Snapshot | undefined,
  symptoms?: StatusSymptoms,
): StatusSummary {
  const open = openIncidents(incidents);
  const counts = Object.fromEntries(
    SEVERITIES.map((s) => [s, open.filter((i) => i.severity === s).length]),
  ) as Record<FindingSeverity, number>;
  const clusters: ClusterStatus[] = [];
  for (const project of snapshot?.projects ?? []) {
    for (const cluster of project.clusters) {
      const wi = cluster.serviceAccounts.filter((ksa) =>
        usesWorkloadIdentity(snapshot as Snapshot, cluster, ksa),
      );
      const touching = open.filter((i) => touchesCluster(i, project.projectId, cluster));
      const keys = new Set(wi.map((ksa) => `${ksa.namespace}/${ksa.name}`));
      const pods = cluster.pods.filter((pod) => keys.has(`${pod.namespace}/${pod.serviceAccountName}`));
      const workloads = new Set(
        pods.map((pod) => `${pod.namespace}/${pod.owner?.kind ?? 'Pod'}/${pod.owner?.name ?? pod.name}`),
      );
      const felt = symptoms ? clusterSymptoms(symptoms, project.projectId, cluster) : undefined;
      clusters.push({
        project: project.projectId,
        name: cluster.name,
        location: cluster.location,
        ...(cluster.workloadPool ? { workloadPool: cluster.workloadPool } : {}),
        pools: cluster.nodePools.map((pool) => ({
          name: pool.name,
          mode: pool.workloadMetadataMode ?? 'unset',
          healthy: !cluster.workloadPool || runsGkeMetadata(pool),
        })),
        wiKsas: wi.length,
        brokenKsas: wi.filter(
          (ksa) =>
            chainState(inventoryChain(snapshot as Snapshot, project, cluster, ksa.namespace, ksa.name)) ===
            'broken',
        ).length,
        wiWorkloads: workloads.size,
        wiPods: pods.length,
        openIncidents: touching.length,
        openBreaks: touching.filter(isBreak).length,
        ...(felt
          ? {
              failures: {
                recent: recentTotal(felt.counts),
                groups: felt.counts.filter((c) => c.recent > 0).length,
              },
            }
          : {}),
        ...(felt?.alert ? { metadataAlert: felt.alert } : {}),
      });
    }
  }
  return {
    healthy: !open.some(isBreak),
    open: counts,
    incidents: open.map(incidentLine),
    clusters,
    inventory: snapshot !== undefined,
    ...(symptoms ? { symptoms } : {}),
  };
}

/** Critical and error incidents are breaks; warnings and info are hygiene. */
function isBreak(incident: Incident): boolean {
  return incident.severity === 'critical' || incident.severity === 'error';
}

/** Open incidents, most severe first, then oldest first. */
export function openIncidents<T extends Incident>(incidents: readonly T[]): T[] {
  return incidents
    .filter((incident) => incident.status === 'open')
    .sort(
      (a, b) =>
        SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
        a.openedAt.localeCompare(b.openedAt),
    );
}

export function incidentLine(incident: Incident): IncidentLine {
  return {
    id: incident.id,
    severity: incident.severity,
    kind: incident.kind,
    summary: incident.finding.summary,
    openedAt: incident.openedAt,
    fingerprint: incident.fingerprint,
    ...(incident.silencedBy ? { silencedBy: incident.silencedBy } : {}),
    ...(incident.planned && !incident.planned.breach ? { plannedBy: incident.planned.id } : {}),
  };
}

/** Whether the incident names the cluster, or a workload in it (workloads name clusters only). */
export function touchesCluster(incident: Incident, project: string, cluster: SnapshotCluster): boolean {
  const f = incident.finding;
  if (f.cluster) return f.cluster.name === cluster.name && f.cluster.location === cluster.location;
  return f.project === project && (f.workloads ?? []).some((w) => w.cluster === cluster.name);
}

/** What the inventory shows broken in the cluster, incidents aside. */
function inventoryHealthy(cluster: ClusterStatus): boolean {
  return cluster.brokenKsas === 0 && cluster.pools.every((p) => p.healthy);
}

/** What its workloads feel: credential failures in the window, or the metadata server's alert. */
function clusterFeelsWell(cluster: ClusterStatus): boolean {
  return (cluster.failures?.recent ?? 0) === 0 && cluster.metadataAlert === undefined;
}

function clusterHealthy(cluster: ClusterStatus): boolean {
  return cluster.openBreaks === 0 && inventoryHealthy(cluster) && clusterFeelsWell(cluster);
}

/** How the reader asks for more: `/wi-status` in Slack, `wi-sentinel status` in a terminal. */
export interface DocOptions {
  command?: string;
  /** Why the incidents could not be read (the store failed or was too slow): never "healthy" then. */
  incidentsUnavailable?: string;
  /** Why the inventory could not be read: clusters unknown. */
  inventoryUnavailable?: string;
  /** Clusters listed before the rest are counted. */
  maxClusters?: number;
  maxIncidents?: number;
  /** Symptom groups listed, most recent failures first. */
  maxFailures?: number;
  /** Why the symptom groups could not be read: failures unknown. */
  symptomsUnavailable?: string;
}

export function summaryTitle(summary: StatusSummary, incidentsUnavailable?: string): string {
  if (incidentsUnavailable !== undefined)
    return `${MARKS.warning} Workload Identity status unknown: ${incidentsUnavailable}`;
  const total = SEVERITIES.reduce((sum, s) => sum + summary.open[s], 0);
  if (!summary.healthy) {
    const counts = SEVERITIES.filter((s) => summary.open[s] > 0).map((s) => `${summary.open[s]} ${s}`);
    return `${MARKS.unhealthy} Workload Identity is broken: ${counts.join(', ')} open`;
  }
  const felt = feltText(summary);
  if (felt !== undefined) return `${MARKS.warning} No open incident, but ${felt}`;
  const drift = summary.clusters.filter((c) => !inventoryHealthy(c)).length;
  if (drift > 0)
    return `${MARKS.warning} No open incident, but the last inventory shows broken links in ${plural(drift, 'cluster')}`;
  return `${MARKS.healthy} Workload Identity is healthy${total > 0 ? ` (${plural(total, 'open hygiene warning')})` : ''}`;
}

/** "12 credential failures in the last 15 min, and the metadata server errs in 1 cluster" */
function feltText(summary: StatusSummary): string | undefined {
  const symptoms = summary.symptoms;
  if (symptoms === undefined) return undefined;
  const recent = recentTotal(symptoms.counts);
  const parts = [
    recent > 0 ? `workloads logged ${plural(recent, 'credential failure')} ${windowText(symptoms)}` : '',
    symptoms.alerts.length > 0
      ? `the GKE metadata server errs in ${plural(symptoms.alerts.length, 'cluster')}`
      : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', and ') : undefined;
}

function clusterLines(cluster: ClusterStatus, symptoms: StatusSymptoms | undefined): DocLine[] {
  const facts = [
    cluster.workloadPool ? 'WI on' : 'WI off',
    plural(cluster.wiKsas, 'WI KSA'),
    `${plural(cluster.wiWorkloads, 'workload')} (${plural(cluster.wiPods, 'pod')})`,
  ];
  if (cluster.brokenKsas > 0) facts.push(`${cluster.brokenKsas} broken`);
  if (cluster.openIncidents > 0) facts.push(plural(cluster.openIncidents, 'open incident'));
  if (symptoms && cluster.failures && cluster.failures.recent > 0)
    facts.push(
      `${SYMPTOM_MARK} ${plural(cluster.failures.recent, 'credential failure')} ${windowText(symptoms)}`,
    );
  if (cluster.metadataAlert) facts.push(`${MARKS.warning} metadata server errors`);
  const pools = cluster.pools
    .map((p) => `${cluster.workloadPool ? `${p.healthy ? MARKS.ok : MARKS.broken} ` : ''}${p.name} ${p.mode}`)
    .join(', ');
  return [
    {
      mark: clusterHealthy(cluster) ? MARKS.ok : MARKS.broken,
      lead: clusterPath(cluster),
      text: `: ${facts.join(' · ')}`,
    },
    { indent: true, text: cluster.pools.length > 0 ? `pools: ${pools}` : 'no node pool in the inventory' },
  ];
}

export function incidentDocLine(incident: IncidentLine): DocLine {
  return {
    mark: incident.silencedBy
      ? MARKS.silenced
      : incident.plannedBy
        ? MARKS.planned
        : SEVERITY_MARKS[incident.severity],
    lead: incident.kind,
    text: `: ${incident.summary.length > 200 ? `${incident.summary.slice(0, 199)}…` : incident.summary}`,
  };
}

/** The answer to `/wi-status` with no argument. */
export function summaryDoc(summary: StatusSummary, options: DocOptions = {}): StatusDoc {
  const {
    command = '/wi-status',
    incidentsUnavailable,
    maxClusters = 15,
    maxIncidents = 5,
    maxFailures = 5,
  } = options;
  const sections: DocSection[] = [];
  if (incidentsUnavailable === undefined && summary.incidents.length > 0) {
    sections.push({
      heading: `Open incidents (${summary.incidents.length})`,
      lines: summary.incidents.slice(0, maxIncidents).map(incidentDocLine),
      more: { count: Math.max(0, summary.incidents.length - maxIncidents), what: 'incidents' },
    });
  }
  const felt = summary.symptoms ? failuresSection(summary.symptoms, maxFailures) : undefined;
  if (felt) sections.push(felt);
  // Clusters with something wrong first, each group in inventory order.
  const ordered = [
    ...summary.clusters.filter((c) => !clusterHealthy(c)),
    ...summary.clusters.filter(clusterHealthy),
  ];
  const shown = ordered.slice(0, maxClusters);
  const hidden = ordered.slice(maxClusters);
  if (shown.length > 0) {
    sections.push({
      lines: shown.flatMap((cluster) => clusterLines(cluster, summary.symptoms)),
      more: {
        count: hidden.length,
        what: hidden.every(clusterHealthy) ? 'clusters, all healthy' : 'clusters',
      },
    });
  }
  const notes: string[] = [];
  if (options.symptomsUnavailable !== undefined)
    notes.push(`${MARKS.warning} Credential failures not shown: ${options.symptomsUnavailable}.`);
  if (options.inventoryUnavailable !== undefined)
    notes.push(`${MARKS.warning} Clusters not shown: ${options.inventoryUnavailable}.`);
  else if (!summary.inventory) notes.push('No inventory: nothing is known of clusters yet.');
  else if (summary.clusters.length === 0) notes.push('The inventory holds no cluster.');
  notes.push(
    summary.symptoms
      ? 'From stored state: open incidents, workloads’ credential failures and the last inventory.'
      : 'From stored state: open incidents and the last inventory.',
  );
  notes.push(
    `\`${command} CLUSTER\` · \`${command} NAMESPACE/KSA\` · \`${command} incidents\` · \`${command} help\``,
  );
  return { title: summaryTitle(summary, incidentsUnavailable), sections, notes };
}

/** Workloads' credential failures, most recent first, and the metadata server's open alerts. */
function failuresSection(symptoms: StatusSymptoms, max: number): DocSection | undefined {
  const counts = [...symptoms.counts].sort(byRecent);
  if (counts.length === 0 && symptoms.alerts.length === 0) return undefined;
  const recent = recentTotal(counts);
  return {
    heading: `Credential failures (${recent} ${windowText(symptoms)})`,
    lines: [
      ...symptoms.alerts.map((alert) => alertLine(alert, symptoms, true)),
      ...counts.slice(0, max).map((count) => groupSymptomLine(count, symptoms, true)),
    ],
    more: { count: Math.max(0, counts.length - max), what: 'groups' },
  };
}

export function renderSummaryText(summary: StatusSummary, options: DocOptions = {}): string {
  return renderDocText(summaryDoc(summary, { command: 'wi-sentinel status', ...options }));
}
