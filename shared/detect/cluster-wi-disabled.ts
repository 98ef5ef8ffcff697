import { findCluster, impactOfCluster } from '../inventory/impact.ts';
import { by, describeImpact, makeFinding, outageSeverity } from './build.ts';
import type { Detector } from './detector.ts';
import { enableClusterWi } from './remediation.ts';

/** The cluster left its workload pool: every WI workload in it loses its GSA at once. */
export const clusterWiDisabled: Detector = {
  kind: 'cluster-wi-disabled',
  severity: 'critical',
  title: 'A cluster left its Workload Identity pool',
  detect(event, snapshot) {
    if (event.type !== 'cluster' || event.action === 'create') return [];
    const cluster = findCluster(snapshot, event.project, event.cluster);
    const base = {
      kind: 'cluster-wi-disabled' as const,
      key: [event.project, event.cluster.location, event.cluster.name],
      project: event.project,
      cluster: event.cluster,
      source: event.source,
    };
    if (event.action === 'delete' || typeof event.workloadPool === 'string') {
      if (event.action === 'delete' && cluster?.workloadPool) return [];
      const summary =
        event.action === 'delete'
          ? `cluster ${event.cluster.name} was deleted${by(event.source)}`
          : `cluster ${event.cluster.name} joined ${event.workloadPool} again${by(event.source)}`;
      return [makeFinding({ ...base, status: 'resolved', severity: 'critical', summary })];
    }
    if (event.workloadPool !== null) return [];
    // A cluster the inventory knows without WI had no workload to lose.
    if (cluster !== undefined && !cluster.workloadPool) return [];
    const pool = cluster?.workloadPool || `${event.project}.svc.id.goog`;
    const impact = snapshot && cluster ? impactOfCluster(snapshot, cluster, pool) : undefined;
    return [
      makeFinding({
        ...base,
        status: 'firing',
        severity: outageSeverity(impact),
        ksas: impact?.ksas ?? [],
        ...(impact ? { workloads: impact.workloads } : {}),
        summary: `Workload Identity was turned off for cluster ${event.cluster.name}${by(event.source)}: every WI workload in it lost its GSA${describeImpact(impact)}`,
        remediation: [enableClusterWi(event.project, event.cluster, pool)],
      }),
    ];
  },
};
