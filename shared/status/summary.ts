import type { FindingSeverity } from '../detect/finding.ts';
import type { Incident } from '../incidents/incident.ts';
import { usesWorkloadIdentity } from '../inventory/impact.ts';
import type { Snapshot } from '../inventory/snapshot.ts';

/**
 * "Is Workload Identity healthy?" from stored state: open incidents by severity, and per cluster
 * whether it is joined to a workload pool, its node pools' metadata mode, and how many WI KSAs and
 * pods it runs. Pure; `/wi-status` and `wi-sentinel status` render it.
 */
export interface ClusterStatus {
  project: string;
  name: string;
  location: string;
  workloadPool?: string;
  pools: { name: string; mode: string; healthy: boolean }[];
  wiKsas: number;
  wiPods: number;
  openIncidents: number;
}

export interface StatusSummary {
  healthy: boolean;
  open: Record<FindingSeverity, number>;
  incidents: { severity: FindingSeverity; kind: string; summary: string; openedAt: string }[];
  clusters: ClusterStatus[];
}

const SEVERITIES: FindingSeverity[] = ['critical', 'error', 'warning', 'info'];

export function summarize(incidents: readonly Incident[], snapshot: Snapshot | undefined): StatusSummary {
  const open = incidents.filter((incident) => incident.status === 'open');
  const counts = Object.fromEntries(
    SEVERITIES.map((s) => [s, open.filter((i) => i.severity === s).length]),
  ) as Record<FindingSeverity, number>;
  const clusters: ClusterStatus[] = [];
  for (const project of snapshot?.projects ?? []) {
    for (const cluster of project.clusters) {
      const wi = cluster.serviceAccounts.filter((ksa) =>
        usesWorkloadIdentity(snapshot as Snapshot, cluster, ksa),
      );
      const keys = new Set(wi.map((ksa) => `${ksa.namespace}/${ksa.name}`));
      clusters.push({
        project: project.projectId,
        name: cluster.name,
        location: cluster.location,
        ...(cluster.workloadPool ? { workloadPool: cluster.workloadPool } : {}),
        pools: cluster.nodePools.map((pool) => ({
          name: pool.name,
          mode: pool.workloadMetadataMode ?? 'unset',
          healthy: !cluster.workloadPool || pool.workloadMetadataMode === 'GKE_METADATA',
        })),
        wiKsas: wi.length,
        wiPods: cluster.pods.filter((pod) => keys.has(`${pod.namespace}/${pod.serviceAccountName}`)).length,
        openIncidents: open.filter(
          (i) =>
            (i.finding.cluster?.name === cluster.name && i.finding.cluster.location === cluster.location) ||
            (i.finding.workloads ?? []).some((w) => w.cluster === cluster.name),
        ).length,
      });
    }
  }
  return {
    healthy: open.every((i) => i.severity === 'info' || i.severity === 'warning'),
    open: counts,
    incidents: open
      .sort(
        (a, b) =>
          SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
          a.openedAt.localeCompare(b.openedAt),
      )
      .map((i) => ({ severity: i.severity, kind: i.kind, summary: i.finding.summary, openedAt: i.openedAt })),
    clusters,
  };
}

export function renderSummaryText(summary: StatusSummary): string {
  const lines: string[] = [];
  const total = SEVERITIES.reduce((sum, s) => sum + summary.open[s], 0);
  lines.push(
    summary.healthy
      ? `✅ Workload Identity is healthy${total > 0 ? ` (${total} open hygiene warning${total === 1 ? '' : 's'})` : ''}`
      : `❌ Workload Identity is broken: ${SEVERITIES.filter((s) => summary.open[s] > 0)
          .map((s) => `${summary.open[s]} ${s}`)
          .join(', ')} open`,
  );
  for (const incident of summary.incidents)
    lines.push(`   • [${incident.severity}] ${incident.kind}: ${incident.summary}`);
  for (const cluster of summary.clusters) {
    const wi = cluster.workloadPool ? `WI on (${cluster.workloadPool})` : 'WI off';
    lines.push(
      `${cluster.openIncidents > 0 ? '✗' : '✓'} ${cluster.project}/${cluster.location}/${cluster.name}: ${wi}; ${cluster.wiKsas} WI KSAs, ${cluster.wiPods} pods`,
    );
    for (const pool of cluster.pools)
      lines.push(`     ${pool.healthy ? '✓' : '✗'} pool ${pool.name}: ${pool.mode}`);
  }
  return lines.join('\n');
}
