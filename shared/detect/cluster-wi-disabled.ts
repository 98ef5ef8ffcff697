import { poolOf } from '../chain/facts.ts';
import { judgeCluster } from '../chain/judge.ts';
import { enableClusterWi } from '../chain/remediation.ts';
import type { Finding } from '../domain/finding.ts';
import { boundByName, findCluster, gsaOf, impactOfCluster } from '../inventory/impact.ts';
import type { Snapshot, SnapshotCluster } from '../inventory/snapshot.ts';
import { by, describeImpact, makeFinding, outageSeverity } from './build.ts';
import type { Detector } from './detector.ts';
import { FOUND_BY_SWEEP } from './scan-support.ts';

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
  /**
   * A cluster without a workload pool whose KSAs expect WI: annotated with a GSA, or bound by name on
   * some GSA in the pool the cluster would have (`PROJECT.svc.id.goog`). A namespace-wide binding
   * alone does not count: it names no KSA of this cluster in particular.
   */
  scan(snapshot) {
    const findings: Finding[] = [];
    for (const project of snapshot.projects) {
      for (const cluster of project.clusters) {
        const ref = { location: cluster.location, name: cluster.name };
        const pool = poolOf(project.projectId, cluster);
        const facts = {
          target: { project: project.projectId, cluster: ref },
          cluster: known(cluster),
          workloadPool: pool,
        };
        if (judgeCluster(facts).kind !== 'cluster-wi-disabled') continue;
        const expecting = expectingWi(snapshot, cluster, pool);
        if (expecting.length === 0) continue;
        const impact = impactOfCluster(snapshot, cluster, pool);
        findings.push(
          makeFinding({
            kind: 'cluster-wi-disabled',
            status: 'firing',
            severity: outageSeverity(impact),
            key: [project.projectId, cluster.location, cluster.name],
            project: project.projectId,
            cluster: ref,
            ksas: impact.ksas,
            workloads: impact.workloads,
            summary: `cluster ${cluster.name} has no workload pool (${FOUND_BY_SWEEP}), yet ${expecting.slice(0, 3).join(', ')}${expecting.length > 3 ? ` and ${expecting.length - 3} more` : ''} ${expecting.length === 1 ? 'expects' : 'expect'} Workload Identity: their pods get no GSA${describeImpact(impact)}`,
            remediation: [enableClusterWi(project.projectId, ref, pool)],
          }),
        );
      }
    }
    return findings;
  },
};

/** `namespace/name` of the cluster's KSAs that are annotated, or bound by name in `pool`. */
function expectingWi(snapshot: Snapshot, cluster: SnapshotCluster, pool: string): string[] {
  return cluster.serviceAccounts
    .filter((ksa) => gsaOf(ksa) !== undefined || boundByName(snapshot, pool, ksa.namespace, ksa.name))
    .map((ksa) => `${ksa.namespace}/${ksa.name}`);
}

function known<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}
