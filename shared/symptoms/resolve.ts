import type { Snapshot, SnapshotCluster, SnapshotPod, SnapshotProject } from '../inventory/snapshot.ts';
import { WI_ANNOTATION } from '../inventory/snapshot.ts';
import type { Symptom } from './classify.ts';

/**
 * Who a failing pod is, from an inventory: the log entry names the pod, the incident needs its
 * Kubernetes service account (and the GSA it names), its workload and its node pool.
 *
 * The inventory lags behind the cluster: a crash-looping Deployment's pods get new names faster
 * than any sweep. A pod not in the snapshot is resolved through a sibling of the same ReplicaSet,
 * StatefulSet, Job or DaemonSet (the same name without its last `-suffix`), then through its owner
 * (the name without two suffixes: Deployment ← ReplicaSet ← pod, CronJob ← Job ← pod). When the
 * candidates disagree on the KSA, nothing is claimed.
 */
export interface PodIdentity {
  /** The pod's `serviceAccountName`. */
  ksa: string;
  /** The GSA the KSA's `iam.gke.io/gcp-service-account` annotation names. */
  gsa?: string;
  workloadPool?: string;
  owner?: { kind: string; name: string };
  /** The pod's node pool: only for the pod itself, as a new pod of a workload may run anywhere. */
  nodePool?: string;
  /** How the pod was found: itself, a sibling, or its owning workload. */
  match: 'pod' | 'sibling' | 'owner';
}

type PodRef = Pick<Symptom, 'project' | 'cluster' | 'namespace' | 'pod'>;

interface Found {
  project: SnapshotProject;
  cluster: SnapshotCluster;
  pods: SnapshotPod[];
}

const indexes = new WeakMap<Snapshot, Map<string, Found>>();

function keyOf(project: string, location: string, cluster: string, namespace: string): string {
  return `${project}\u0000${location}\u0000${cluster}\u0000${namespace}`;
}

/** Pods by project / location / cluster / namespace, built once per snapshot. */
function indexOf(snapshot: Snapshot): Map<string, Found> {
  const cached = indexes.get(snapshot);
  if (cached) return cached;
  const index = new Map<string, Found>();
  for (const project of snapshot.projects) {
    for (const cluster of project.clusters) {
      for (const pod of cluster.pods) {
        const key = keyOf(project.projectId, cluster.location, cluster.name, pod.namespace);
        const found = index.get(key) ?? { project, cluster, pods: [] };
        found.pods.push(pod);
        index.set(key, found);
      }
    }
  }
  indexes.set(snapshot, index);
  return index;
}

/** `name` without its last `count` `-suffix`es, or undefined when it has fewer. */
function stripSuffixes(name: string, count: number): string | undefined {
  let end = name.length;
  for (let i = 0; i < count; i += 1) {
    end = name.lastIndexOf('-', end - 1);
    if (end <= 0) return undefined;
  }
  return name.slice(0, end);
}

function candidates(pods: SnapshotPod[], name: string): { pods: SnapshotPod[]; match: PodIdentity['match'] } {
  const exact = pods.filter((pod) => pod.name === name);
  if (exact.length > 0) return { pods: exact, match: 'pod' };
  const parent = stripSuffixes(name, 1);
  if (parent !== undefined) {
    const siblings = pods.filter((pod) => stripSuffixes(pod.name, 1) === parent);
    if (siblings.length > 0) return { pods: siblings, match: 'sibling' };
  }
  const owners = [parent, stripSuffixes(name, 2)].filter((owner) => owner !== undefined);
  const owned = pods.filter((pod) => pod.owner !== undefined && owners.includes(pod.owner.name));
  return { pods: owned, match: 'owner' };
}

export function resolvePod(snapshot: Snapshot, ref: PodRef): PodIdentity | undefined {
  const found = indexOf(snapshot).get(
    keyOf(ref.project, ref.cluster.location, ref.cluster.name, ref.namespace),
  );
  if (found === undefined) return undefined;
  const { pods, match } = candidates(found.pods, ref.pod);
  const first = pods[0];
  if (first === undefined) return undefined;
  if (pods.some((pod) => pod.serviceAccountName !== first.serviceAccountName)) return undefined;
  const ksa = found.cluster.serviceAccounts.find(
    (account) => account.namespace === ref.namespace && account.name === first.serviceAccountName,
  );
  const gsa = ksa?.annotations[WI_ANNOTATION];
  return {
    ksa: first.serviceAccountName,
    ...(gsa ? { gsa } : {}),
    ...(found.cluster.workloadPool ? { workloadPool: found.cluster.workloadPool } : {}),
    ...(first.owner ? { owner: { kind: first.owner.kind, name: first.owner.name } } : {}),
    ...(match === 'pod' && first.nodePool ? { nodePool: first.nodePool } : {}),
    match,
  };
}
