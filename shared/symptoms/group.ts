import type { ClusterRef } from '../domain/finding.ts';
import {
  DEFAULT_WINDOW,
  type GroupScope,
  type SymptomGroup,
  type SymptomGroupRecord,
  type SymptomLink,
  type WindowOptions,
} from '../domain/symptom-group.ts';
import type { MetadataServerAlert } from '../events/monitoring.ts';
import type { Symptom } from './classify.ts';
import type { PodIdentity } from './resolve.ts';
import { addCapped, applySymptom } from './window.ts';

/**
 * A symptom group as the store keeps it: the window's aggregate (window.ts) plus what the symptom
 * path needs across deliveries and instances: how long the group stays active, the incidents it was
 * attached to (so failures after a repair still reach the repaired incident's message), and, for the
 * metadata-server error rate, the Cloud Monitoring alert's state. Plain bounded JSON, one Firestore
 * document per key. Pure functions only.
 */

export interface SymptomOptions {
  window: WindowOptions;
  /**
   * An unexplained group opens `wi-auth-failures` only once its failures span this long (log time):
   * the audit entry of the change behind them usually arrives within this, and a single blip pages
   * nobody.
   */
  graceMs: number;
  /** …and only with at least this many failures. */
  minFailures: number;
  /** At most one evidence refresh per incident (and per group and incident) this often. */
  evidenceEveryMs: number;
  /** Failures after a repair keep refreshing the repaired incident's message this long. */
  afterRepairMs: number;
  /** How long an instance reuses its list of open incidents (the incident side catches up anyway). */
  openCacheMs: number;
  /** Incidents remembered per group. */
  maxLinks: number;
  /** Groups shown per incident. */
  maxEvidence: number;
}

export const DEFAULT_SYMPTOM_OPTIONS: SymptomOptions = {
  window: DEFAULT_WINDOW,
  graceMs: 2 * 60_000,
  minFailures: 3,
  evidenceEveryMs: 60_000,
  afterRepairMs: DEFAULT_WINDOW.quietMs,
  openCacheMs: 15_000,
  maxLinks: 10,
  maxEvidence: 10,
};

/** An open Monitoring alert is active this long at most, if its closing notification never comes. */
const ALERT_MAX_OPEN_MS = 7 * 24 * 60 * 60_000;

/** The metadata server's own pods (kube-system) speak for the whole cluster, not for one KSA. */
export function scopeOf(group: Pick<SymptomGroup, 'ksa' | 'libraries'> & { alert?: unknown }): GroupScope {
  if (group.alert !== undefined) return 'cluster';
  if (group.ksa !== undefined) return 'ksa';
  return (group.libraries['gke-metadata-server'] ?? 0) > 0 ? 'cluster' : 'namespace';
}

export function isActive(group: Pick<SymptomGroupRecord, 'activeUntil'>, at: number): boolean {
  return Date.parse(group.activeUntil) > at;
}

function later(a: string, b: string): string {
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

export interface Recorded {
  record: SymptomGroupRecord;
  /** False when the entry was already counted (a redelivery). */
  added: boolean;
  /** True when this symptom opened the group (first failure, or the first after a quiet window). */
  opened: boolean;
}

/**
 * Adds one symptom to its stored group. A group quiet for the whole window starts over: its incident
 * resolved (or will), and new failures are a new episode. `nodePool` is the pool the entry's node
 * belongs to, when the identity lacks it.
 */
export function recordSymptom(
  current: SymptomGroupRecord | undefined,
  symptom: Symptom,
  identity: PodIdentity | undefined,
  at: Date,
  { nodePool, options = DEFAULT_SYMPTOM_OPTIONS }: { nodePool?: string; options?: SymptomOptions } = {},
): Recorded {
  const base = current !== undefined && isActive(current, Date.parse(symptom.time)) ? current : undefined;
  const applied = applySymptom(base, symptom, identity, options.window);
  if (!applied.added && base !== undefined) return { record: base, added: false, opened: false };
  const group = applied.group;
  const nodePools =
    identity?.nodePool || nodePool === undefined
      ? group.nodePools
      : addCapped(group.nodePools, nodePool, options.window.maxListed);
  const quietUntil = new Date(Date.parse(group.lastSeen) + options.window.quietMs).toISOString();
  const record: SymptomGroupRecord = {
    ...group,
    nodePools,
    scope: scopeOf(group),
    activeUntil: base ? later(base.activeUntil, quietUntil) : quietUntil,
    updatedAt: at.toISOString(),
    links: base?.links ?? [],
  };
  return { record, added: true, opened: base === undefined };
}

/** The group key of a Monitoring alert: `~` cannot appear in a Kubernetes name, so no KSA group has it. */
export function alertKey(alert: Pick<MetadataServerAlert, 'project' | 'cluster' | 'kind'>): string {
  return [alert.project, alert.cluster.location, alert.cluster.name, '~monitoring', alert.kind].join('/');
}

/** A Monitoring alert (opened or closed) as a cluster-scope group. */
export function recordAlert(
  current: SymptomGroupRecord | undefined,
  alert: MetadataServerAlert,
  at: Date,
  nodePool?: string,
): SymptomGroupRecord {
  const closed = alert.state === 'closed';
  const endedAt = alert.endedAt ?? (closed ? at.toISOString() : undefined);
  // A notification of an earlier Monitoring incident (delivered late) does not reopen a later one.
  const same = current?.alert?.incidentId === alert.incidentId;
  const base = same || current === undefined || !isActive(current, at.getTime()) ? current : undefined;
  const activeUntil = closed
    ? (endedAt as string)
    : new Date(Date.parse(alert.startedAt) + ALERT_MAX_OPEN_MS).toISOString();
  return {
    key: alertKey(alert),
    project: alert.project,
    cluster: { ...alert.cluster },
    namespace: '',
    firstSeen: same && current ? current.firstSeen : alert.startedAt,
    lastSeen: endedAt ?? at.toISOString(),
    count: 0,
    buckets: [],
    kinds: { 'metadata-server-error': 1 },
    libraries: {},
    pods: [],
    nodePools: nodePool ? [nodePool] : [],
    workloads: [],
    samples: [],
    recentIds: [],
    scope: 'cluster',
    activeUntil,
    updatedAt: at.toISOString(),
    links: base?.links ?? [],
    alert: {
      incidentId: alert.incidentId,
      state: alert.state,
      policy: alert.policy,
      ...(alert.observedValue ? { observedValue: alert.observedValue } : {}),
      ...(alert.thresholdValue ? { thresholdValue: alert.thresholdValue } : {}),
      ...(alert.url ? { url: alert.url } : {}),
      startedAt: alert.startedAt,
      ...(endedAt ? { endedAt } : {}),
    },
  };
}

/** The `wi-auth-failures` fingerprint of a group: by project / location / cluster / namespace / KSA. */
export function authFingerprint(group: {
  project: string;
  cluster: ClusterRef;
  scope: GroupScope;
  namespace: string;
  ksa?: string;
}): string {
  const where = ['wi-auth-failures', group.project, group.cluster.location, group.cluster.name];
  if (group.scope === 'cluster') return where.join('/');
  return [...where, group.namespace, group.ksa ?? '*'].join('/');
}

/** Adds (or renews) links to incidents, most recent last, bounded. */
export function withLinks(
  links: readonly SymptomLink[],
  incidents: readonly { fingerprint: string; id: string }[],
  max: number,
): SymptomLink[] {
  let next = [...links];
  for (const incident of incidents) {
    const existing = next.find((l) => l.fingerprint === incident.fingerprint);
    if (existing?.incident === incident.id) continue;
    next = next.filter((l) => l.fingerprint !== incident.fingerprint);
    next.push({ fingerprint: incident.fingerprint, incident: incident.id });
  }
  return next.slice(-max);
}

/**
 * The links whose evidence is due at `at` (never pushed, or not for `everyMs`), and the links with
 * those marked pushed now. Links to incidents resolved longer than `afterRepairMs` ago are dropped.
 */
export function takeDue(
  links: readonly SymptomLink[],
  at: Date,
  { everyMs, afterRepairMs }: { everyMs: number; afterRepairMs: number },
): { due: SymptomLink[]; links: SymptomLink[] } {
  const now = at.getTime();
  const due: SymptomLink[] = [];
  const kept: SymptomLink[] = [];
  for (const link of links) {
    if (link.resolvedAt !== undefined && now - Date.parse(link.resolvedAt) > afterRepairMs) continue;
    if (link.pushedAt === undefined || now - Date.parse(link.pushedAt) >= everyMs) {
      const pushed = { ...link, pushedAt: at.toISOString() };
      due.push(pushed);
      kept.push(pushed);
    } else kept.push(link);
  }
  return { due, links: kept };
}

/** Failures counted in buckets that start at or after `since` (ms), for failures after a repair. */
export function countSince(
  group: Pick<SymptomGroup, 'buckets' | 'count' | 'firstSeen'>,
  since: number,
): number {
  if (Date.parse(group.firstSeen) >= since) return group.count;
  return group.buckets.filter((b) => b.start >= since).reduce((sum, b) => sum + b.count, 0);
}

/**
 * Whether a group's failures since `since` (its first failure, or the repair of the incident that
 * explained it) have lasted the grace period, with enough of them: a group nothing explains then
 * opens `wi-auth-failures`.
 */
export function lastedGrace(
  group: Pick<SymptomGroup, 'buckets' | 'count' | 'firstSeen' | 'lastSeen'>,
  since: number,
  options: Pick<SymptomOptions, 'graceMs' | 'minFailures'> = DEFAULT_SYMPTOM_OPTIONS,
): boolean {
  return (
    Date.parse(group.lastSeen) - since >= options.graceMs && countSince(group, since) >= options.minFailures
  );
}
