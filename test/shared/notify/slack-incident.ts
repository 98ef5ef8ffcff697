import type { Finding } from '../../../shared/domain/finding.ts';
import type { Incident } from '../../../shared/domain/incident.ts';

/** A bot token that is easy to spot if it ever leaks. */
export const SLACK_TOKEN = 'xoxb-000000000000-slacksecret-tokenDoNotLeak';

/** A node pool taken off the GKE metadata server: cluster, pool, two KSAs, three workloads, two steps. */
export function poolFinding(overrides: Partial<Finding> = {}): Finding {
  return {
    kind: 'nodepool-metadata-disabled',
    status: 'firing',
    severity: 'critical',
    fingerprint: 'nodepool-metadata-disabled/orbit-prod/europe-west4/core-1/general',
    project: 'orbit-prod',
    cluster: { location: 'europe-west4', name: 'core-1' },
    nodePool: 'general',
    ksas: [
      { workloadPool: 'orbit-prod.svc.id.goog', namespace: 'checkout', name: 'cart' },
      { workloadPool: 'orbit-prod.svc.id.goog', namespace: 'search', name: 'indexer' },
    ],
    workloads: [
      {
        cluster: 'core-1',
        namespace: 'checkout',
        kind: 'Deployment',
        name: 'cart',
        nodePool: 'general',
        pods: 3,
      },
      {
        cluster: 'core-1',
        namespace: 'search',
        kind: 'StatefulSet',
        name: 'indexer',
        nodePool: 'general',
        pods: 2,
      },
      { cluster: 'core-1', namespace: 'search', kind: 'CronJob', name: 'reindex', nodePool: 'general' },
    ],
    cause: {
      method: 'google.container.v1.ClusterManager.SetNodePoolManagement',
      actor: 'erin@example.org',
      time: '2026-11-20T09:00:00Z',
      insertId: 'e-1',
    },
    summary:
      'Node pool general of core-1 no longer runs the GKE metadata server: 2 KSAs, 5 pods lose their credentials',
    remediation: [
      {
        title: 'Put general back on the GKE metadata server',
        command:
          'gcloud container node-pools update general --cluster core-1 --location europe-west4 --project orbit-prod --workload-metadata=GKE_METADATA',
      },
      {
        title: 'Restart Deployment checkout/cart',
        command: 'kubectl rollout restart deployment/cart -n checkout',
      },
    ],
    ...overrides,
  };
}

/** An open incident standing for `finding`, as the lifecycle makes it. */
export function openIncident(finding: Finding = poolFinding(), overrides: Partial<Incident> = {}): Incident {
  return {
    id: 'inc-0042',
    fingerprint: finding.fingerprint,
    kind: finding.kind,
    status: 'open',
    severity: finding.severity,
    finding,
    openedAt: '2026-11-20T09:00:04Z',
    updatedAt: '2026-11-20T09:00:04Z',
    seq: 1,
    transitions: [{ seq: 1, type: 'opened', at: '2026-11-20T09:00:04Z', summary: finding.summary }],
    entries: [],
    notifications: {},
    ...overrides,
  };
}

/** The same incident after a second KSA was hit, then repaired by frank. */
export function updatedIncident(base: Incident = openIncident()): Incident {
  return {
    ...base,
    seq: 2,
    updatedAt: '2026-11-20T09:05:00Z',
    transitions: [
      ...base.transitions,
      {
        seq: 2,
        type: 'updated',
        at: '2026-11-20T09:05:00Z',
        summary: 'search/indexer is hit too',
        cause: {
          method: 'google.container.v1.ClusterManager.SetNodePoolManagement',
          actor: 'erin@example.org',
          time: '2026-11-20T09:04:30Z',
        },
      },
    ],
  };
}

export function resolvedIncident(base: Incident = openIncident()): Incident {
  const cause = {
    method: 'google.container.v1.ClusterManager.UpdateNodePool',
    actor: 'frank@example.org',
    time: '2026-11-20T10:00:00Z',
  };
  return {
    ...base,
    status: 'resolved',
    seq: base.seq + 1,
    updatedAt: '2026-11-20T10:00:05Z',
    resolvedAt: '2026-11-20T10:00:05Z',
    resolution: { summary: 'general runs the GKE metadata server again', cause },
    transitions: [
      ...base.transitions,
      {
        seq: base.seq + 1,
        type: 'resolved',
        at: '2026-11-20T10:00:05Z',
        summary: 'general runs the GKE metadata server again',
        cause,
      },
    ],
  };
}
