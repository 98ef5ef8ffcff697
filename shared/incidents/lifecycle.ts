import { createHash } from 'node:crypto';
import type { Finding, FindingSeverity, KsaRef, WorkloadRef } from '../domain/finding.ts';
import {
  breachWords,
  type Incident,
  type IncidentDiagnosis,
  type PlannedChange,
  type SymptomEvidence,
  type Transition,
  type TransitionType,
} from '../domain/incident.ts';

/**
 * The incident lifecycle by fingerprint, pure: open on the first firing finding; update (no new
 * page) when more KSAs or workloads are hit or the change arrives again from another entry; resolve
 * on a resolved finding. A resolved incident that fires again opens a new one. The same log entry
 * applied twice changes nothing.
 */

/** Bounds that keep an incident document small (Firestore's limit is 1 MiB). */
export const LIMITS = { transitions: 20, entries: 100, ksas: 1_000, workloads: 1_000, evidence: 10 } as const;

const SEVERITY_RANK: Record<FindingSeverity, number> = { info: 0, warning: 1, error: 2, critical: 3 };

export interface Step {
  /** The incident to store, when this finding changes it. */
  next?: Incident;
  transition?: TransitionType;
}

export interface StepOptions {
  /**
   * A firing finding that adds nothing to its open incident changes nothing (the sweep re-confirms
   * every open incident each run; only a change of who is hit is news).
   */
  quietRepeats?: boolean;
  /**
   * What to keep on the incident a finding opens, updates or resolves, by the finding's fingerprint:
   * the symptom groups it explains (shared/symptoms), and for `wi-auth-failures` the live diagnosis.
   */
  attachments?: ReadonlyMap<string, IncidentAttachments>;
  /**
   * The planned change a finding falls under (shared/incidents/plans.ts planFor): the incident it
   * opens is told to Slack marked planned and pages nobody until the plan is breached.
   */
  planOf?: (finding: Finding) => PlannedChange | undefined;
}

export interface IncidentAttachments {
  /** Replaces the evidence of the same groups (by key); the groups with most failures are kept. */
  evidence?: SymptomEvidence[];
  diagnosis?: IncidentDiagnosis;
}

export function step(
  current: Incident | undefined,
  finding: Finding,
  entryKey: string,
  now: Date,
  options: StepOptions = {},
): Step {
  const stepped = stepIncident(current, finding, entryKey, now, options);
  const attach = options.attachments?.get(finding.fingerprint);
  if (stepped.next === undefined || attach === undefined) return stepped;
  return { ...stepped, next: attachTo(stepped.next, attach, now) };
}

/** The incident with `attach` kept: evidence merged by group key, a diagnosis replaced. */
export function attachTo(incident: Incident, attach: IncidentAttachments, now: Date): Incident {
  const next: Incident = { ...incident };
  if (attach.evidence && attach.evidence.length > 0) {
    next.evidence = mergeEvidence(incident.evidence, attach.evidence);
    next.evidenceAt = now.toISOString();
  }
  if (attach.diagnosis) next.diagnosis = attach.diagnosis;
  // Pods failing for a planned change make it an outage.
  return breachPlan(next, now);
}

/**
 * `current` with `items` in place of the groups they update (by key). Beyond `max` groups, those with
 * the most failures are kept: a cluster-wide break shows its worst-hit KSAs.
 */
export function mergeEvidence(
  current: readonly SymptomEvidence[] | undefined,
  items: readonly SymptomEvidence[],
  max: number = LIMITS.evidence,
): SymptomEvidence[] {
  const byKey = new Map((current ?? []).map((e) => [e.key, e]));
  for (const item of items) byKey.set(item.key, item);
  const all = [...byKey.values()];
  if (all.length <= max) return all;
  const kept = new Set([...all].sort((a, b) => b.count - a.count).slice(0, max));
  return all.filter((e) => kept.has(e));
}

function stepIncident(
  current: Incident | undefined,
  finding: Finding,
  entryKey: string,
  now: Date,
  options: StepOptions,
): Step {
  const at = now.toISOString();
  if (finding.status === 'resolved') {
    if (current?.status !== 'open' || current.entries.includes(entryKey)) return {};
    const transition = transitionOf(current.seq + 1, 'resolved', at, finding);
    const next: Incident = {
      ...current,
      status: 'resolved',
      updatedAt: at,
      resolvedAt: at,
      resolution: { summary: finding.summary, ...(finding.cause ? { cause: finding.cause } : {}) },
      seq: current.seq + 1,
      transitions: bounded([...current.transitions, transition], LIMITS.transitions),
      entries: bounded([...current.entries, entryKey], LIMITS.entries),
    };
    return { next, transition: 'resolved' };
  }
  // Already applied, even to an incident resolved since (a break redelivered after its repair).
  if (current?.entries.includes(entryKey)) return {};
  if (current === undefined || current.status === 'resolved') {
    const planned = options.planOf?.(finding);
    const next: Incident = {
      ...(planned ? { planned } : {}),
      id: incidentId(finding.fingerprint, now),
      fingerprint: finding.fingerprint,
      kind: finding.kind,
      status: 'open',
      severity: finding.severity,
      finding: boundFinding(finding),
      openedAt: at,
      updatedAt: at,
      seq: 1,
      transitions: [transitionOf(1, 'opened', at, finding)],
      entries: [entryKey],
      notifications: {},
    };
    return { next, transition: 'opened' };
  }
  // An operation's `last` entry confirming its `first` is not news.
  const operation = finding.cause?.operationId;
  if (operation && current.transitions.some((t) => t.cause?.operationId === operation)) return {};
  const merged = mergeFindings(current.finding, finding);
  const added = describeAdded(current.finding, merged);
  if (added === undefined && options.quietRepeats) return {};
  const severity =
    SEVERITY_RANK[finding.severity] > SEVERITY_RANK[current.severity] ? finding.severity : current.severity;
  // Another kind of change to the same link (a deleted GSA re-created) says what it is itself.
  const another = finding.cause !== undefined && finding.cause.method !== current.finding.cause?.method;
  const summary =
    added ??
    (another
      ? finding.summary
      : `the same change again${finding.cause?.actor ? ` by ${finding.cause.actor}` : ''}`);
  const transition = { ...transitionOf(current.seq + 1, 'updated', at, finding), summary };
  // A change the plan does not cover, on a planned incident's link: it pages after all.
  const unplanned =
    current.planned !== undefined &&
    finding.cause !== undefined &&
    options.planOf !== undefined &&
    options.planOf(finding) === undefined;
  if (unplanned) transition.summary = `${summary} (${breachWords({ at, why: 'unplanned' })})`;
  const stepped: Incident = {
    ...current,
    severity,
    finding: { ...merged, severity },
    updatedAt: at,
    seq: current.seq + 1,
    transitions: bounded([...current.transitions, transition], LIMITS.transitions),
    entries: bounded([...current.entries, entryKey], LIMITS.entries),
  };
  const next = unplanned ? breachUnplanned(stepped, now) : stepped;
  return { next, transition: 'updated' };
}

/** Stable per fingerprint and opening time, safe as a document id. */
export function incidentId(fingerprint: string, openedAt: Date): string {
  return `${hashOf(fingerprint).slice(0, 16)}-${openedAt.getTime().toString(36)}`;
}

export function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function transitionOf(seq: number, type: TransitionType, at: string, finding: Finding): Transition {
  return { seq, type, at, summary: finding.summary, ...(finding.cause ? { cause: finding.cause } : {}) };
}

function bounded<T>(list: T[], max: number): T[] {
  return list.length > max ? list.slice(list.length - max) : list;
}

const ksaKey = (ksa: KsaRef) => `${ksa.workloadPool}/${ksa.namespace}/${ksa.name}`;
const workloadKey = (w: WorkloadRef) => `${w.cluster}/${w.namespace}/${w.kind}/${w.name}/${w.nodePool ?? ''}`;

function union<T>(a: readonly T[], b: readonly T[], key: (item: T) => string, max: number): T[] {
  const byKey = new Map(a.map((item) => [key(item), item]));
  for (const item of b) byKey.set(key(item), item);
  return [...byKey.values()].slice(0, max);
}

/** The latest finding, with every KSA and workload either one names. */
function mergeFindings(previous: Finding, latest: Finding): Finding {
  const workloads = union(previous.workloads ?? [], latest.workloads ?? [], workloadKey, LIMITS.workloads);
  return {
    ...latest,
    ksas: union(previous.ksas, latest.ksas, ksaKey, LIMITS.ksas),
    ...(workloads.length > 0 ? { workloads } : {}),
  };
}

function boundFinding(finding: Finding): Finding {
  return mergeFindings({ ...finding, ksas: [], workloads: [] }, finding);
}

function describeAdded(before: Finding, after: Finding): string | undefined {
  const ksas = after.ksas.length - before.ksas.length;
  const workloads = (after.workloads?.length ?? 0) - (before.workloads?.length ?? 0);
  if (ksas <= 0 && workloads <= 0) return undefined;
  const parts = [
    ksas > 0 ? `${ksas} more KSA${ksas === 1 ? '' : 's'}` : '',
    workloads > 0 ? `${workloads} more workload${workloads === 1 ? '' : 's'}` : '',
  ].filter(Boolean);
  return `now also hits ${parts.join(' and ')}`;
}

/**
 * A planned incident whose KSAs' pods fail is an outage after all: the plan is breached, which is
 * news (a transition, unless the step that attached the failures records one itself at `at`), and
 * from now on the incident pages. Failures count when they are evidence of one of the incident's KSAs
 * (or, for a break named by pool or cluster, of any KSA its pods fail for), and not before the
 * incident opened. Pure.
 */
export function breachPlan(incident: Incident, at: Date): Incident {
  const plan = incident.planned;
  if (plan === undefined || plan.breach !== undefined || incident.status !== 'open') return incident;
  const ksas = new Set(incident.finding.ksas.map((k) => `${k.namespace}/${k.name}`));
  const failing = (incident.evidence ?? []).filter(
    (e) =>
      e.scope === 'ksa' &&
      e.count > 0 &&
      Date.parse(e.lastSeen) >= Date.parse(incident.openedAt) &&
      (ksas.size === 0 || ksas.has(`${e.namespace}/${e.ksa}`)),
  );
  if (failing.length === 0) return incident;
  const since = failing.map((e) => e.firstSeen).sort()[0] as string;
  return breached(incident, at, { at: at.toISOString(), why: 'failures', since });
}

/** A change no plan covers broke the same link: the incident pages from now on. */
export function breachUnplanned(incident: Incident, at: Date): Incident {
  if (incident.planned === undefined || incident.planned.breach !== undefined) return incident;
  return breached(incident, at, { at: at.toISOString(), why: 'unplanned' });
}

function breached(incident: Incident, at: Date, breach: NonNullable<PlannedChange['breach']>): Incident {
  const next: Incident = { ...incident, planned: { ...(incident.planned as PlannedChange), breach } };
  const stamp = at.toISOString();
  const latest = incident.transitions.at(-1);
  // The step that brought the failures records a transition now: it carries the breach.
  if (latest && latest.seq === incident.seq && latest.at === stamp) return next;
  const seq = incident.seq + 1;
  return {
    ...next,
    seq,
    updatedAt: stamp,
    transitions: bounded(
      [...incident.transitions, { seq, type: 'updated', at: stamp, summary: breachWords(breach) }],
      LIMITS.transitions,
    ),
  };
}
