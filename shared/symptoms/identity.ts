import type { ClusterRef } from '../domain/finding.ts';
import type { GkeCluster, LiveState } from '../gcp/ports.ts';
import { findCluster } from '../inventory/impact.ts';
import type { Snapshot } from '../inventory/snapshot.ts';
import type { Symptom } from './classify.ts';
import { type PodIdentity, resolvePod } from './resolve.ts';

/**
 * Who a failing pod is: its KSA (the group key), its workload and the node pool it runs on (what
 * joins it to a node-pool incident). From the last-known inventory first (no I/O); the pool also
 * from the node's name, which GKE derives from it; and, for a pod the inventory cannot place (a
 * workload created since the last sweep), from live state, once per pod and cached: a crash-looping
 * pod costs one lookup, not one per failure.
 */

export interface Identified {
  /** Undefined when nobody could say which KSA the pod runs as (and for the metadata server's own pods). */
  identity?: PodIdentity;
  /** The pod's node pool, when the identity lacks it and the node's name tells. */
  nodePool?: string;
}

export interface IdentifierOptions {
  live?: LiveState;
  now?: () => number;
  /** How long a live lookup (found or not) is reused. */
  cacheMs?: number;
  maxCached?: number;
  /** Told when a live lookup fails (the symptom is still counted, under an unknown KSA). */
  onError?: (message: string) => void;
}

/**
 * The pool a GKE node belongs to, from its name: `gke-CLUSTER-POOL-HASH-SUFFIX`. GKE shortens long
 * cluster and pool names in node names, so a pool whose name appears between dashes is taken when it
 * is the only one.
 */
export function poolOfNode(
  cluster: string,
  pools: readonly string[],
  node: string | undefined,
): string | undefined {
  if (node === undefined) return undefined;
  const prefixed = pools
    .filter((pool) => node.startsWith(`gke-${cluster}-${pool}-`))
    .sort((a, b) => b.length - a.length);
  if (prefixed[0] !== undefined) return prefixed[0];
  const inside = pools.filter((pool) => node.includes(`-${pool}-`));
  return inside.length === 1 ? inside[0] : undefined;
}

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

export function createIdentifier(options: IdentifierOptions = {}) {
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? 5 * 60_000;
  const maxCached = options.maxCached ?? 2_000;
  const clusters = new Map<string, Cached<GkeCluster | undefined>>();
  const pods = new Map<string, Cached<PodIdentity | undefined>>();

  function cached<T>(map: Map<string, Cached<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    if (hit && now() - hit.at < cacheMs) return hit.value;
    const value = load();
    map.delete(key);
    map.set(key, { at: now(), value });
    // Maps iterate in insertion order: the first keys are the oldest.
    for (const old of map.keys()) {
      if (map.size <= maxCached) break;
      map.delete(old);
    }
    return value;
  }

  function clusterOf(live: LiveState, project: string, cluster: ClusterRef) {
    const key = `${project}/${cluster.location}/${cluster.name}`;
    return cached(clusters, key, () => live.gke.getCluster({ project, ...cluster }));
  }

  async function lookUp(live: LiveState, symptom: Symptom): Promise<PodIdentity | undefined> {
    const cluster = await clusterOf(live, symptom.project, symptom.cluster);
    if (cluster === undefined) return undefined;
    const running = await live.kube.listPods(cluster, { namespace: symptom.namespace });
    const pod = running.find((p) => p.name === symptom.pod);
    if (pod === undefined) return undefined;
    return {
      ksa: pod.serviceAccountName,
      ...(cluster.workloadPool ? { workloadPool: cluster.workloadPool } : {}),
      ...(pod.owner ? { owner: { kind: pod.owner.kind, name: pod.owner.name } } : {}),
      ...(pod.nodePool ? { nodePool: pod.nodePool } : {}),
      match: 'pod',
    };
  }

  return async function identify(symptom: Symptom, snapshot: Snapshot | undefined): Promise<Identified> {
    const known = findCluster(snapshot, symptom.project, symptom.cluster);
    const poolNames = (known?.nodePools ?? []).map((p) => p.name);
    const fromNode = () => poolOfNode(symptom.cluster.name, poolNames, symptom.node);
    // The metadata server's own pods serve every KSA of their node: the group is the cluster's.
    if (symptom.library === 'gke-metadata-server') {
      const nodePool = fromNode();
      return nodePool ? { nodePool } : {};
    }
    let identity = snapshot ? resolvePod(snapshot, symptom) : undefined;
    if (identity === undefined && options.live) {
      const live = options.live;
      const key = `${symptom.project}/${symptom.cluster.location}/${symptom.cluster.name}/${symptom.namespace}/${symptom.pod}`;
      identity = await cached(pods, key, () => lookUp(live, symptom)).catch((error: Error) => {
        options.onError?.(`could not look up pod ${symptom.namespace}/${symptom.pod}: ${error.message}`);
        pods.delete(key);
        return undefined;
      });
    }
    if (identity?.nodePool) return { identity };
    const nodePool = fromNode();
    return { ...(identity ? { identity } : {}), ...(nodePool ? { nodePool } : {}) };
  };
}
