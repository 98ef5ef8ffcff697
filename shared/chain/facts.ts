import type { ClusterRef } from '../domain/finding.ts';
import type { NetworkPolicy } from '../inventory/network-policy-schema.ts';
import type { IamPolicy, SnapshotKsa, SnapshotNodePool, SnapshotPod } from '../inventory/snapshot.ts';

/**
 * What the chain of one KSA is judged from. Two gatherers fill it: from a Snapshot (snapshot-facts.ts:
 * the sweep, `/wi-status`) and from live state over the ports (shared/live/diagnose.ts). A read that
 * failed is kept with its reason, so the links resting on it are `unknown`, never `ok`.
 */

export type Known<T> = { ok: true; value: T } | { ok: false; reason: string; status?: number };

export interface ChainTarget {
  project: string;
  cluster: ClusterRef;
  namespace: string;
  name: string;
}

/** The cluster as GKE describes it. */
export interface ClusterFacts {
  /** Absent or empty: Workload Identity is off. */
  workloadPool?: string | undefined;
  nodePools: SnapshotNodePool[];
}

/** A GSA as IAM describes it (shared/gcp/ports.ts GsaInfo fits). */
export interface GsaFacts {
  email: string;
  disabled: boolean;
  /** Deleted, still in the 30-day undelete window: the last inventory keeps it, IAM answers 404. */
  deleted?: boolean;
}

/** A GSA whose policy lets the KSA act as it although the KSA names none, with the member that does. */
export interface BoundGsa {
  gsa: GsaFacts;
  member: string;
}

/** The GSA side of the chain, once the KSA is known. */
export type GsaSide =
  /** The KSA (or its cluster) could not be read. */
  | { via: 'unread' }
  /** The annotation names `email`. `info` undefined: it does not exist. */
  | { via: 'annotation'; email: string; info: Known<GsaFacts | undefined>; policy: Known<IamPolicy> }
  /** The KSA names no GSA (or does not exist): the GSAs that bind it, and the roles granted to it directly. */
  | { via: 'search'; search: Known<BoundGsa[]>; directGrants: Known<string[]> };

export interface ChainFacts {
  target: ChainTarget;
  /** `undefined`: the cluster does not exist. */
  cluster: Known<ClusterFacts | undefined>;
  /** The pool the KSA's members name: the cluster's, else the one it would rejoin. */
  workloadPool: string;
  /** Absent: not read (the cluster could not be read, or does not exist). `undefined`: no such KSA. */
  ksa?: Known<SnapshotKsa | undefined>;
  /** Running pods of the KSA, each with its node pool (absent: not scheduled yet). */
  pods?: Known<SnapshotPod[]>;
  /** The NetworkPolicies of the KSA's namespace. */
  policies?: Known<NetworkPolicy[]>;
  gsa: GsaSide;
}

/** The pool a cluster's KSAs are named in: its own, else `PROJECT.svc.id.goog`, which it would rejoin. */
export function poolOf(project: string, cluster: ClusterFacts | undefined): string {
  return cluster?.workloadPool || `${project}.svc.id.goog`;
}
