import type { WorkloadRef } from '../domain/finding.ts';
import type { SnapshotPod } from '../inventory/snapshot.ts';
import type { ChainFacts, ChainTarget, ClusterFacts, GsaSide } from './facts.ts';
import { judgeChain, workloadsIn } from './judge.ts';
import type { ChainLink } from './link.ts';

/**
 * The chain of one KSA as `diagnose` prints it and `/wi-status NAMESPACE/KSA` renders it: the judged
 * links with what they rest on (the pool, the GSAs, the pods and their node pools).
 */

export interface DiagnosedPod {
  name: string;
  workload: { kind: string; name: string };
  nodePool?: string;
  /** The pool's workload metadata mode (absent: unset, or the pool is unknown). */
  metadataMode?: string;
}

export interface ChainReport {
  target: ChainTarget;
  checkedAt: string;
  /** The cluster's workload pool (absent when it has none, or the cluster could not be read). */
  workloadPool?: string;
  /** The GSAs the KSA acts as: the annotation's, else those whose policy binds it. */
  gsas: string[];
  links: ChainLink[];
  /** Running pods of the KSA, with their node pools. */
  pods: DiagnosedPod[];
  workloads: WorkloadRef[];
  /** Every link ok or not applicable. */
  healthy: boolean;
  /** One line: what a reader needs first. */
  verdict: string;
}

export function reportChain(facts: ChainFacts, checkedAt: string): ChainReport {
  const { links, verdict } = judgeChain(facts);
  const cluster = facts.cluster.ok ? facts.cluster.value : undefined;
  const pods = facts.pods?.ok ? facts.pods.value : [];
  return {
    target: facts.target,
    checkedAt,
    ...(cluster?.workloadPool ? { workloadPool: cluster.workloadPool } : {}),
    gsas: gsasOf(facts.gsa),
    // The list wording is /wi-status's; diagnose prints (and --json shows) the details.
    links: links.map(({ brief: _list, ...link }) => link),
    pods: pods.map((pod) => describePod(pod, cluster)),
    workloads: workloadsIn(facts.target, pods),
    healthy: verdict.healthy,
    verdict: verdict.text,
  };
}

/** The GSAs the KSA names or that bind it, as the facts show them. */
export function gsasOf(gsa: GsaSide): string[] {
  if (gsa.via === 'annotation') return [gsa.email];
  if (gsa.via === 'search' && gsa.search.ok) return gsa.search.value.map((b) => b.gsa.email);
  return [];
}

function describePod(pod: SnapshotPod, cluster: ClusterFacts | undefined): DiagnosedPod {
  const mode = cluster?.nodePools.find((p) => p.name === pod.nodePool)?.workloadMetadataMode;
  return {
    name: pod.name,
    workload: { kind: pod.owner?.kind ?? 'Pod', name: pod.owner?.name ?? pod.name },
    ...(pod.nodePool ? { nodePool: pod.nodePool } : {}),
    ...(mode ? { metadataMode: mode } : {}),
  };
}
