import { runsGkeMetadata } from '../chain/judge.ts';
import { poolBackToGkeMetadata } from '../chain/remediation.ts';
import type { ClusterRef, Finding } from '../domain/finding.ts';
import type { ClusterChange, EventSource, NodePoolChange } from '../events/change-event.ts';
import { findCluster, type Impact, impactOfNodePool } from '../inventory/impact.ts';
import type { Snapshot, SnapshotCluster } from '../inventory/snapshot.ts';
import { by, describeImpact, makeFinding, outageSeverity } from './build.ts';
import type { Detector } from './detector.ts';
import { FOUND_BY_SWEEP, wiClusters } from './scan-support.ts';

/**
 * A node pool of a WI cluster does not run the GKE metadata server: its pods silently get the
 * node's service account instead of their GSA. Only pods scheduled on that pool fail, which looks
 * intermittent. In a cluster without WI, GCE_METADATA is the normal state and nothing is reported.
 */
export const nodepoolMetadataDisabled: Detector = {
  kind: 'nodepool-metadata-disabled',
  severity: 'critical',
  title: 'A node pool of a Workload Identity cluster does not run the GKE metadata server',
  detect(event, snapshot) {
    if (event.type === 'nodepool') return fromNodePool(event, snapshot);
    if (event.type === 'cluster') return fromCluster(event, snapshot);
    return [];
  },
  /** Every pool of a WI cluster not on GKE_METADATA: left on GCE_METADATA when WI was turned on, say. */
  scan(snapshot) {
    return wiClusters(snapshot).flatMap(({ project, cluster }) =>
      cluster.nodePools
        .filter((pool) => !runsGkeMetadata(pool))
        .map((pool) =>
          firing(
            { project: project.projectId },
            { location: cluster.location, name: cluster.name },
            pool.name,
            impactOfNodePool(snapshot, cluster, pool.name),
            `node pool ${pool.name} of Workload Identity cluster ${cluster.name} ${pool.workloadMetadataMode ? `is on ${pool.workloadMetadataMode}` : 'sets no metadata mode, so runs GCE_METADATA'} (${FOUND_BY_SWEEP})`,
          ),
        ),
    );
  },
};

function fromNodePool(event: NodePoolChange, snapshot: Snapshot | undefined): Finding[] {
  const cluster = findCluster(snapshot, event.project, event.cluster);
  if (cluster !== undefined && !cluster.workloadPool) return [];
  if (event.action === 'delete') {
    const known = cluster?.nodePools.find((pool) => pool.name === event.nodePool);
    if (known && runsGkeMetadata(known)) return [];
    return [resolved(event, event.nodePool, `node pool ${event.nodePool} was deleted${by(event.source)}`)];
  }
  if (event.metadataServer === undefined) return [];
  if (event.metadataServer) {
    return [
      resolved(
        event,
        event.nodePool,
        `node pool ${event.nodePool} runs the GKE metadata server again (set${by(event.source)})`,
      ),
    ];
  }
  const impact = snapshot && cluster ? impactOfNodePool(snapshot, cluster, event.nodePool) : undefined;
  // The classifier may know only that the server is off, not how the request spelled the mode.
  const mode = event.metadataMode ?? 'GCE_METADATA';
  const change = event.action === 'create' ? `created on ${mode}` : `switched to ${mode}`;
  return [
    firing(
      event,
      event.cluster,
      event.nodePool,
      impact,
      `node pool ${event.nodePool} was ${change}${by(event.source)}`,
    ),
  ];
}

function fromCluster(event: ClusterChange, snapshot: Snapshot | undefined): Finding[] {
  if (event.action === 'create' && event.workloadPool) {
    return (event.nodePools ?? [])
      .filter((pool) => pool.metadataServer === false)
      .map((pool) =>
        firing(
          event,
          event.cluster,
          pool.name,
          { ksas: [], workloads: [] },
          `cluster ${event.cluster.name} was created${by(event.source)} with node pool ${pool.name} on ${pool.metadataMode ?? 'GCE_METADATA'}`,
        ),
      );
  }
  const cluster = findCluster(snapshot, event.project, event.cluster);
  if (snapshot === undefined || cluster === undefined) return [];
  const unserved = cluster.nodePools.filter((pool) => !runsGkeMetadata(pool));
  // Turning WI on leaves existing pools as they were: those not on GKE_METADATA are broken from now on.
  if (event.action === 'update' && typeof event.workloadPool === 'string' && !cluster.workloadPool) {
    const joined: SnapshotCluster = { ...cluster, workloadPool: event.workloadPool };
    return unserved.map((pool) =>
      firing(
        event,
        event.cluster,
        pool.name,
        impactOfNodePool(snapshot, joined, pool.name),
        `Workload Identity was turned on for ${cluster.name}${by(event.source)}, but node pool ${pool.name} is left on ${pool.workloadMetadataMode ?? 'its default (GCE_METADATA)'}`,
      ),
    );
  }
  if (event.action === 'delete' && cluster.workloadPool) {
    return unserved.map((pool) =>
      resolved(event, pool.name, `cluster ${cluster.name} was deleted${by(event.source)}`),
    );
  }
  return [];
}

function firing(
  event: { project: string; source?: EventSource },
  cluster: ClusterRef,
  nodePool: string,
  impact: Impact | undefined,
  what: string,
): Finding {
  return makeFinding({
    kind: 'nodepool-metadata-disabled',
    status: 'firing',
    severity: outageSeverity(impact),
    key: [event.project, cluster.location, cluster.name, nodePool],
    project: event.project,
    cluster,
    nodePool,
    ksas: impact?.ksas ?? [],
    ...(impact ? { workloads: impact.workloads } : {}),
    ...(event.source ? { source: event.source } : {}),
    summary: `${what}: its pods act as the node's service account, not their GSA${describeImpact(impact)}`,
    remediation: [poolBackToGkeMetadata(event.project, cluster, nodePool)],
  });
}

function resolved(
  event: { project: string; cluster: ClusterRef; source: EventSource },
  nodePool: string,
  summary: string,
): Finding {
  return makeFinding({
    kind: 'nodepool-metadata-disabled',
    status: 'resolved',
    severity: 'critical',
    key: [event.project, event.cluster.location, event.cluster.name, nodePool],
    project: event.project,
    cluster: event.cluster,
    nodePool,
    source: event.source,
    summary,
  });
}
