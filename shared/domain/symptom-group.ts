import type { ClusterRef } from './finding.ts';

/**
 * A symptom group: the credential failures of one KSA's pods (or of a namespace's pods whose KSA is
 * unknown, or of a cluster's metadata server) aggregated over a sliding window, as the symptom path
 * records it (shared/symptoms/window.ts, group.ts), the store keeps it (one document per key) and
 * `/wi-status` counts it. Plain bounded JSON: no nested arrays (Firestore refuses them), no Dates, no
 * undefined values. Kinds and libraries are the signatures' names (shared/symptoms/signatures.ts),
 * kept as strings: a stored group may name one this version does not know.
 */

export interface WindowOptions {
  /** How far back `recent` counts and `ratePerMinute` look. */
  windowMs: number;
  /** Bucket width of the sliding window. */
  bucketMs: number;
  /** A group with no failure for this long is resolved. */
  quietMs: number;
  maxSamples: number;
  maxPods: number;
  /** Insert ids remembered per group, so a redelivered entry is not counted twice. */
  maxRecentIds: number;
  maxListed: number;
  /** Groups kept in one WindowState; the longest-quiet ones are dropped first. */
  maxGroups: number;
}

export const DEFAULT_WINDOW: WindowOptions = {
  windowMs: 15 * 60_000,
  bucketMs: 60_000,
  quietMs: 15 * 60_000,
  maxSamples: 5,
  maxPods: 20,
  maxRecentIds: 64,
  maxListed: 10,
  maxGroups: 1_000,
};

export interface SymptomSample {
  time: string;
  pod: string;
  container: string;
  kind: string;
  library: string;
  message: string;
}

export interface SymptomGroup {
  /** `project/location/cluster/namespace/ksa` (`*` when the KSA is unknown). */
  key: string;
  project: string;
  cluster: ClusterRef;
  namespace: string;
  /** Absent when the pod could not be resolved to its KSA, and for gke-metadata-server's own errors. */
  ksa?: string;
  gsa?: string;
  /** The cluster's workload pool, when the inventory knew the pod (KSA members are named in it). */
  workloadPool?: string;
  firstSeen: string;
  lastSeen: string;
  /** Every failure since the group opened. */
  count: number;
  /** Failures per bucket (start in ms since the epoch), ascending, covering one window before lastSeen. */
  buckets: { start: number; count: number }[];
  kinds: Partial<Record<string, number>>;
  libraries: Partial<Record<string, number>>;
  /** Distinct pods seen failing (at most maxPods; `podsCapped` says some were not listed). */
  pods: string[];
  podsCapped?: boolean;
  nodePools: string[];
  /** Owning workloads, `Kind/name`. */
  workloads: string[];
  /** The first failure, then the latest distinct messages. */
  samples: SymptomSample[];
  recentIds: string[];
}

export interface WindowState {
  groups: Record<string, SymptomGroup>;
}

/** `ksa`: one KSA's pods; `namespace`: pods whose KSA is unknown; `cluster`: the metadata server itself. */
export type GroupScope = 'ksa' | 'namespace' | 'cluster';

/** An incident the group was attached to as evidence. */
export interface SymptomLink {
  fingerprint: string;
  /** The incident's id when it was linked (a fingerprint that fires again gets a new incident). */
  incident: string;
  /** When the group's evidence was last pushed to it (the per-link throttle). */
  pushedAt?: string;
  /** When the incident resolved: failures after that are no longer explained by it. */
  resolvedAt?: string;
}

export interface AlertState {
  incidentId: string;
  state: 'open' | 'closed';
  policy: string;
  observedValue?: string;
  thresholdValue?: string;
  url?: string;
  startedAt: string;
  endedAt?: string;
}

export interface SymptomGroupRecord extends SymptomGroup {
  scope: GroupScope;
  /**
   * Until when the group counts as active (RFC 3339): its last failure plus the quiet window, or, for
   * an open Monitoring alert, until Monitoring closes it. Stores list and expire groups by it.
   */
  activeUntil: string;
  updatedAt: string;
  links: SymptomLink[];
  alert?: AlertState;
}

/** Failures within the window ending at `now`. */
export function recentCount(
  group: SymptomGroup,
  now: number,
  options: WindowOptions = DEFAULT_WINDOW,
): number {
  const from = now - options.windowMs;
  let count = 0;
  for (const bucket of group.buckets) {
    if (bucket.start + options.bucketMs > from && bucket.start <= now) count += bucket.count;
  }
  return count;
}

/** Failures per minute over the window ending at `now` (over the group's age when it is younger). */
export function ratePerMinute(
  group: SymptomGroup,
  now: number,
  options: WindowOptions = DEFAULT_WINDOW,
): number {
  const age = Math.max(now - Date.parse(group.firstSeen), options.bucketMs);
  const span = Math.min(options.windowMs, age);
  return recentCount(group, now, options) / (span / 60_000);
}

export interface SymptomCount {
  key: string;
  project: string;
  cluster: ClusterRef;
  namespace: string;
  ksa?: string;
  count: number;
  recent: number;
  ratePerMinute: number;
  firstSeen: string;
  lastSeen: string;
}

/** What `/wi-status` and `wi-sentinel status` show beside each KSA. */
export function symptomCounts(
  state: WindowState,
  now: number,
  options: WindowOptions = DEFAULT_WINDOW,
): SymptomCount[] {
  return Object.values(state.groups)
    .map((group) => ({
      key: group.key,
      project: group.project,
      cluster: group.cluster,
      namespace: group.namespace,
      ...(group.ksa ? { ksa: group.ksa } : {}),
      count: group.count,
      recent: recentCount(group, now, options),
      ratePerMinute: Math.round(ratePerMinute(group, now, options) * 100) / 100,
      firstSeen: group.firstSeen,
      lastSeen: group.lastSeen,
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}
