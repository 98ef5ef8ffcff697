import { allowMetadataEgress, getCredentials } from '../chain/remediation.ts';
import type { Finding } from '../domain/finding.ts';
import type { NetworkPolicyChange } from '../events/change-event.ts';
import { findCluster, type Impact, impactOfPolicies } from '../inventory/impact.ts';
import { judgeMetadataEgress, restrictsEgress } from '../inventory/network-policy.ts';
import type { NetworkPolicy } from '../inventory/network-policy-schema.ts';
import { by, describeImpact, makeFinding, outageSeverity, PAST_TENSE } from './build.ts';
import type { Detector } from './detector.ts';
import { FOUND_BY_SWEEP, wiClusters } from './scan-support.ts';

/**
 * NetworkPolicies cut WI pods off from the GKE metadata server (169.254.169.254, TCP 80 and 988).
 * Policies are additive, so with an inventory the namespace's policies are judged together, the
 * changed one replaced by its new version; without one, the changed policy is judged alone.
 */
export const metadataEgressBlocked: Detector = {
  kind: 'metadata-egress-blocked',
  severity: 'critical',
  title: 'NetworkPolicies block Workload Identity pods from the GKE metadata server',
  detect(event, snapshot) {
    if (event.type !== 'k8s-networkpolicy') return [];
    const cluster = findCluster(snapshot, event.project, event.cluster);
    if (snapshot === undefined || cluster === undefined) return judgeAlone(event);
    if (!cluster.workloadPool) return [];
    // The namespace's policies before the change, and after it (the changed one replaced or gone).
    const before = cluster.networkPolicies.filter(
      (p) => (p.metadata.namespace ?? event.namespace) === event.namespace,
    );
    const after = [
      ...before.filter((p) => p.metadata.name !== event.name),
      ...(event.policy ? [event.policy] : []),
    ];
    const blocked = impactOfPolicies(snapshot, cluster, event.namespace, after);
    if (blocked.ksas.length > 0) return [firing(event, blocked, blocked.policies)];
    const wasBlocked = impactOfPolicies(snapshot, cluster, event.namespace, before);
    return wasBlocked.ksas.length > 0 ? [resolved(event)] : [];
  },
  /** Each namespace of a WI cluster whose NetworkPolicies, judged together, cut WI pods off. */
  scan(snapshot) {
    const findings: Finding[] = [];
    for (const { project, cluster } of wiClusters(snapshot)) {
      // Pods by namespace, once per cluster (not every pod once per namespace).
      const podsIn = Map.groupBy(cluster.pods, (pod) => pod.namespace);
      for (const [namespace, pods] of podsIn) {
        const policies = cluster.networkPolicies.filter(
          (p) => (p.metadata.namespace ?? namespace) === namespace,
        );
        // Judging a pod is cheap, finding which KSAs use WI is not: only where some pod is cut off.
        if (!pods.some((pod) => judgeMetadataEgress(policies, pod).blockedPorts.length > 0)) continue;
        const blocked = impactOfPolicies(snapshot, cluster, namespace, policies);
        if (blocked.ksas.length === 0) continue;
        const ref = { location: cluster.location, name: cluster.name };
        const names = blocked.policies.map((name) => `${namespace}/${name}`).join(', ');
        findings.push(
          makeFinding({
            kind: 'metadata-egress-blocked',
            status: 'firing',
            severity: outageSeverity(blocked),
            key: [project.projectId, cluster.location, cluster.name, namespace],
            project: project.projectId,
            cluster: ref,
            ksas: blocked.ksas,
            workloads: blocked.workloads,
            summary: `NetworkPolicy ${names} in ${cluster.name} ${blocked.policies.length === 1 ? 'blocks' : 'block'} egress to the GKE metadata server (${FOUND_BY_SWEEP}): WI pods in ${namespace} get no token${describeImpact(blocked)}`,
            remediation: [getCredentials(project.projectId, ref), allowMetadataEgress(namespace)],
          }),
        );
      }
    }
    return findings;
  },
};

function judgeAlone(event: NetworkPolicyChange): Finding[] {
  if (event.policy === undefined) return [resolved(event)];
  if (blocksAlone(event.policy)) return [firing(event, undefined, [event.name])];
  return event.action === 'create' ? [] : [resolved(event)];
}

/** Whether the policy restricts egress without allowing both metadata-server ports. */
function blocksAlone(policy: NetworkPolicy): boolean {
  if (!restrictsEgress(policy)) return false;
  // Judge it for a pod it selects: an empty label set stands for "whatever it selects".
  const verdict = judgeMetadataEgress([{ ...policy, spec: { ...policy.spec, podSelector: {} } }], {
    namespace: policy.metadata.namespace ?? '',
    labels: {},
  });
  return verdict.blockedPorts.length > 0;
}

function base(event: NetworkPolicyChange) {
  return {
    kind: 'metadata-egress-blocked' as const,
    key: [event.project, event.cluster.location, event.cluster.name, event.namespace],
    project: event.project,
    cluster: event.cluster,
    source: event.source,
  };
}

function firing(event: NetworkPolicyChange, impact: Impact | undefined, policies: string[]): Finding {
  const names = policies.map((name) => `${event.namespace}/${name}`).join(', ');
  return makeFinding({
    ...base(event),
    status: 'firing',
    severity: outageSeverity(impact),
    ksas: impact?.ksas ?? [],
    ...(impact ? { workloads: impact.workloads } : {}),
    summary: `NetworkPolicy ${names} (${PAST_TENSE[event.action]}${by(event.source)}) blocks egress to the GKE metadata server: WI pods in ${event.namespace} get no token${describeImpact(impact)}`,
    remediation: [getCredentials(event.project, event.cluster), allowMetadataEgress(event.namespace)],
  });
}

function resolved(event: NetworkPolicyChange): Finding {
  return makeFinding({
    ...base(event),
    status: 'resolved',
    severity: 'critical',
    summary: `pods in ${event.namespace} reach the GKE metadata server again (NetworkPolicy ${event.name} ${PAST_TENSE[event.action]}${by(event.source)})`,
  });
}
