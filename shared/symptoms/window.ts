import {
  DEFAULT_WINDOW,
  type SymptomGroup,
  type SymptomSample,
  type WindowOptions,
  type WindowState,
} from '../domain/symptom-group.ts';
import type { Symptom } from './classify.ts';
import type { PodIdentity } from './resolve.ts';

/**
 * Sliding-window aggregation of symptoms per cluster / namespace / KSA, so a crash-looping pod
 * makes one group (and later one incident), not thousands of messages. Pure: state in, state out.
 *
 * A group is plain JSON of bounded size (every list is capped, the per-minute buckets cover one
 * window), so it can be stored as one Firestore document per group key: no nested arrays (Firestore
 * refuses them), no Dates, no undefined values.
 */

export function emptyWindow(): WindowState {
  return { groups: {} };
}

export function groupKey(symptom: Pick<Symptom, 'project' | 'cluster' | 'namespace'>, ksa?: string): string {
  return [
    symptom.project,
    symptom.cluster.location,
    symptom.cluster.name,
    symptom.namespace,
    ksa ?? '*',
  ].join('/');
}

/** The list with `value` added, unless it holds it already or is full (the same list then). */
export function addCapped(list: string[], value: string, max: number): string[] {
  if (list.includes(value) || list.length >= max) return list;
  return [...list, value];
}

function bump<K extends string>(counts: Partial<Record<K, number>>, key: K): Partial<Record<K, number>> {
  return { ...counts, [key]: (counts[key] ?? 0) + 1 };
}

function addToBuckets(
  buckets: SymptomGroup['buckets'],
  at: number,
  lastSeen: number,
  options: WindowOptions,
): SymptomGroup['buckets'] {
  const start = at - (at % options.bucketMs);
  const from = lastSeen - options.windowMs;
  const kept = buckets.filter((bucket) => bucket.start + options.bucketMs > from);
  if (start + options.bucketMs <= from) return kept;
  const index = kept.findIndex((bucket) => bucket.start >= start);
  const existing = kept[index];
  if (existing?.start === start) {
    return kept.map((bucket, i) => (i === index ? { start, count: bucket.count + 1 } : bucket));
  }
  const insertAt = index === -1 ? kept.length : index;
  return [...kept.slice(0, insertAt), { start, count: 1 }, ...kept.slice(insertAt)];
}

/**
 * Samples: the first failure stays (it anchors the timeline), then the latest distinct messages;
 * a message already kept is not kept twice, so a loop of one error leaves room for a second one.
 */
function addSample(samples: SymptomSample[], next: SymptomSample, max: number): SymptomSample[] {
  if (samples.some((s) => s.message === next.message && s.kind === next.kind)) return samples;
  const sorted = [...samples, next].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  if (sorted.length <= max) return sorted;
  // Drop the oldest after the first.
  return [sorted[0] as SymptomSample, ...sorted.slice(sorted.length - (max - 1))];
}

function newGroup(key: string, symptom: Symptom, identity: PodIdentity | undefined): SymptomGroup {
  return {
    key,
    project: symptom.project,
    cluster: { ...symptom.cluster },
    namespace: symptom.namespace,
    ...(identity ? { ksa: identity.ksa } : {}),
    ...(identity?.gsa ? { gsa: identity.gsa } : {}),
    ...(identity?.workloadPool ? { workloadPool: identity.workloadPool } : {}),
    firstSeen: symptom.time,
    lastSeen: symptom.time,
    count: 0,
    buckets: [],
    kinds: {},
    libraries: {},
    pods: [],
    nodePools: [],
    workloads: [],
    samples: [],
    recentIds: [],
  };
}

export interface Applied {
  group: SymptomGroup;
  /** False when the entry was already counted (a redelivery). */
  added: boolean;
  /** True when this symptom opened the group. */
  opened: boolean;
}

/**
 * Adds one symptom to its group (or opens the group). `identity` is what resolve.ts found for the
 * pod; the group key uses its KSA. Entries arrive late and out of order: the window is anchored on
 * the latest failure seen, and a failure older than one window still counts in `count`.
 */
export function applySymptom(
  group: SymptomGroup | undefined,
  symptom: Symptom,
  identity: PodIdentity | undefined,
  options: WindowOptions = DEFAULT_WINDOW,
): Applied {
  const key = groupKey(symptom, identity?.ksa);
  if (group !== undefined && group.key !== key) {
    throw new Error(`symptom for ${key} applied to the group ${group.key}`);
  }
  const id = symptom.insertId;
  if (group !== undefined && id !== undefined && group.recentIds.includes(id)) {
    return { group, added: false, opened: false };
  }
  const base = group ?? newGroup(key, symptom, identity);
  const at = Date.parse(symptom.time);
  const lastSeenMs = Math.max(Date.parse(base.lastSeen), at);
  const firstSeen = at < Date.parse(base.firstSeen) ? symptom.time : base.firstSeen;
  const lastSeen = at > Date.parse(base.lastSeen) ? symptom.time : base.lastSeen;
  const owner = identity?.owner ? `${identity.owner.kind}/${identity.owner.name}` : undefined;
  const pods = addCapped(base.pods, symptom.pod, options.maxPods);
  const podsCapped =
    base.podsCapped === true || (!pods.includes(symptom.pod) && pods.length >= options.maxPods);
  const next: SymptomGroup = {
    ...base,
    ...(identity?.gsa && base.gsa === undefined ? { gsa: identity.gsa } : {}),
    firstSeen,
    lastSeen,
    count: base.count + 1,
    buckets: addToBuckets(base.buckets, at, lastSeenMs, options),
    kinds: bump(base.kinds, symptom.kind),
    libraries: bump(base.libraries, symptom.library),
    pods,
    ...(podsCapped ? { podsCapped: true } : {}),
    nodePools: identity?.nodePool
      ? addCapped(base.nodePools, identity.nodePool, options.maxListed)
      : base.nodePools,
    workloads: owner ? addCapped(base.workloads, owner, options.maxListed) : base.workloads,
    samples: addSample(
      base.samples,
      {
        time: symptom.time,
        pod: symptom.pod,
        container: symptom.container,
        kind: symptom.kind,
        library: symptom.library,
        message: symptom.message,
      },
      options.maxSamples,
    ),
    recentIds: id === undefined ? base.recentIds : [...base.recentIds, id].slice(-options.maxRecentIds),
  };
  return { group: next, added: true, opened: group === undefined };
}

export interface Observed {
  state: WindowState;
  applied: Applied;
}

/** applySymptom on a WindowState (memory store, replay, the bench); bounded to maxGroups. */
export function observe(
  state: WindowState,
  symptom: Symptom,
  identity: PodIdentity | undefined,
  options: WindowOptions = DEFAULT_WINDOW,
): Observed {
  const key = groupKey(symptom, identity?.ksa);
  const applied = applySymptom(state.groups[key], symptom, identity, options);
  if (!applied.added) return { state, applied };
  let groups = { ...state.groups, [key]: applied.group };
  const keys = Object.keys(groups);
  if (keys.length > options.maxGroups) {
    const quietest = keys
      .filter((k) => k !== key)
      .sort((a, b) => Date.parse(groups[a]?.lastSeen ?? '') - Date.parse(groups[b]?.lastSeen ?? ''))
      .slice(0, keys.length - options.maxGroups);
    groups = Object.fromEntries(Object.entries(groups).filter(([k]) => !quietest.includes(k)));
  }
  return { state: { groups }, applied };
}
