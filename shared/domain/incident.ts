import { createHash } from 'node:crypto';
import type { Cause, ClusterRef, Finding, FindingKind, FindingSeverity } from './finding.ts';

/** An incident: what people are told about, once, for one fingerprint from firing to resolved. */

export type TransitionType = 'opened' | 'updated' | 'resolved';

export interface Transition {
  /** 1 for the opening, then one more per change people are told about. */
  seq: number;
  type: TransitionType;
  at: string;
  summary: string;
  cause?: Cause;
}

/** What one destination (a Slack channel, a PagerDuty service) has been told of the incident. */
export interface NotificationState {
  /** The last transition delivered (0: none yet). */
  seq: number;
  /** The Slack message that stands for the incident, edited in place. */
  slack?: { channel: string; ts: string };
  /** The last permanent failure, kept so it is not retried forever. */
  error?: string;
  /**
   * A top-level Slack post made at this time whose answer was lost (a timeout, a connection dropped
   * after sending): the next delivery looks for it in the channel before posting (notify/slack.ts).
   */
  unconfirmedPostAt?: string;
  /**
   * A delivery sending the incident here right now (taken in the transaction that decides what is
   * owed, released when the outcome is recorded): a concurrent delivery of the same or another entry
   * leaves the destination alone until `until` instead of telling it a second time.
   */
  claim?: { token: string; until: string };
}

export interface Incident {
  id: string;
  fingerprint: string;
  kind: FindingKind;
  status: 'open' | 'resolved';
  severity: FindingSeverity;
  /** The latest firing finding, with every KSA and workload hit since the incident opened. */
  finding: Finding;
  openedAt: string;
  updatedAt: string;
  resolvedAt?: string;
  /** Who or what repaired it. */
  resolution?: { summary: string; cause?: Cause };
  seq: number;
  /** The most recent transitions (bounded). */
  transitions: Transition[];
  /** Keys of the log entries already applied, so a redelivery changes nothing (bounded). */
  entries: string[];
  /** The silence that held the incident back from people, when one matched. */
  silencedBy?: string;
  /**
   * The planned change the incident's break was declared as: told to Slack marked planned, paged to
   * nobody, until `breach` says why it pages after all.
   */
  planned?: PlannedChange;
  /** Keyed by destination key (never a secret: PagerDuty keys are hashed). */
  notifications: Record<string, NotificationState>;
  /**
   * What workloads feel: the symptom groups (credential failures seen in their logs, metadata-server
   * errors) this incident explains, or, for `wi-auth-failures`, the group that opened it (bounded).
   */
  evidence?: SymptomEvidence[];
  /**
   * When the evidence was last refreshed for people: refreshes edit the Slack message in place and
   * update PagerDuty's details, at most one per EVIDENCE interval, and are not transitions (a storm
   * of failures must not push the incident's history out of `transitions`).
   */
  evidenceAt?: string;
  /** `wi-auth-failures`: the live diagnosis of the KSA's chain when the incident opened. */
  diagnosis?: IncidentDiagnosis;
  /** `wi-auth-failures`: the incidents found since to explain the failures. */
  explainedBy?: IncidentRef[];
  /** Who acknowledged it, when, and where (a Slack button, or PagerDuty). Cleared by an unacknowledge. */
  acknowledged?: IncidentAck;
  /** The silence set on this incident from its message (its fingerprint only); no `until`: until it resolves. */
  silence?: { id: string; by: string; until?: string };
  /**
   * PagerDuty's incident was resolved there by someone: not proof of repair (the incident stays open
   * until live state shows the link healthy), but the message says so.
   */
  closedInPagerDuty?: { by: string; at: string };
  /**
   * What people did about the incident (acknowledged, silenced, re-checked, PagerDuty's events), oldest
   * first (bounded). `key` names each act, so a double click or a redelivery adds nothing.
   */
  activity?: IncidentActivity[];
}

export interface IncidentAck {
  by: string;
  at: string;
  via: 'slack' | 'pagerduty';
}

export type ActivityType =
  | 'acknowledged'
  | 'unacknowledged'
  | 'silenced'
  | 'unsilenced'
  | 'rechecked'
  | 'resolved-in-pagerduty'
  | 'reassigned';

export interface IncidentActivity {
  key: string;
  type: ActivityType;
  by: string;
  at: string;
  via: 'slack' | 'pagerduty';
  /** One line: a silence's end, a re-check's outcome, to whom it was reassigned. */
  detail?: string;
}

/** One symptom group as an incident carries it: counts, times and a redacted sample, no raw logs. */
export interface SymptomEvidence {
  /** The symptom group's key: `project/location/cluster/namespace/ksa`. */
  key: string;
  /** `ksa`: one KSA's pods; `namespace`: pods whose KSA is unknown; `cluster`: the metadata server itself. */
  scope: 'ksa' | 'namespace' | 'cluster';
  project: string;
  cluster: ClusterRef;
  namespace?: string;
  ksa?: string;
  gsa?: string;
  /** Failures since the group opened. */
  count: number;
  firstSeen: string;
  lastSeen: string;
  /** Failures per symptom kind (`token-denied`, `metadata-unreachable`, …). */
  kinds: Record<string, number>;
  /** Distinct pods seen failing (a lower bound when `podsCapped`). */
  pods: number;
  podsCapped?: boolean;
  /** The first pod seen failing. */
  firstPod?: string;
  nodePools: string[];
  /** Owning workloads, `Kind/name`. */
  workloads: string[];
  /** At most two redacted samples: the first failure and the latest other one. */
  samples: { time: string; pod: string; kind: string; library: string; message: string }[];
  /** A Cloud Monitoring alert (metadata-server error rate) instead of log lines. */
  alert?: {
    state: 'open' | 'closed';
    incidentId: string;
    observedValue?: string;
    thresholdValue?: string;
    url?: string;
    startedAt: string;
    endedAt?: string;
  };
  /** When this evidence was taken from the group. */
  at: string;
}

export interface IncidentDiagnosis {
  checkedAt: string;
  healthy: boolean;
  /** One line: what a reader needs first (the broken link, or that every link holds). */
  verdict: string;
  links: { link: number; name: string; status: string; detail: string; kind?: string }[];
}

/** Another incident, named for people. */
export interface IncidentRef {
  fingerprint: string;
  id: string;
  kind: FindingKind;
  summary: string;
  at: string;
}

export interface Silence {
  id: string;
  matchers: SilenceMatchers;
  createdAt: string;
  expiresAt: string;
  author: string;
  reason: string;
  /**
   * `plan`: a planned change, declared with `/wi-status plan`, stored and expiring like a silence: the
   * incidents it covers are told to Slack marked planned and page nobody while pods keep working.
   * Absent: a silence (incidents recorded, not sent).
   */
  effect?: 'plan';
  /** "Until resolved": the incident whose resolution ends the silence (a later incident alerts again). */
  endsWith?: string;
}

/** Every given matcher must match; a value may end in `*` to match a prefix. */
export interface SilenceMatchers {
  project?: string;
  cluster?: string;
  namespace?: string;
  ksa?: string;
  kind?: string;
  fingerprint?: string;
  /** Who made the change: the principal, or any principal of its delegation chain. */
  actor?: string;
  /** The tool that made it (cause.via.tool: `terraform`, `config-connector`, `gcloud`, …). */
  tool?: string;
}

/** A planned change an incident was declared as, and, once pods fail after all, why it pages. */
export interface PlannedChange {
  /** The stored plan's id, or `routing:N` for the routing file's Nth planned-change rule. */
  id: string;
  reason: string;
  author: string;
  /** When the plan ends (a routing-file rule: the end of its window). */
  until?: string;
  /** The plan no longer holds the page back. */
  breach?: {
    at: string;
    /** `failures`: the KSAs' pods fail; `unplanned`: a change no plan covers hit the same link. */
    why: 'failures' | 'unplanned';
    /** The first failure, for `failures`. */
    since?: string;
  };
}

/** Whether the incident's destinations page: not while a plan holds it back. */
export function pagesNobody(incident: Pick<Incident, 'planned'>): boolean {
  return incident.planned !== undefined && incident.planned.breach === undefined;
}

/** "planned change, but pods are failing since 2026-11-10 09:11 UTC", for transitions, pages, logs. */
export function breachWords(breach: NonNullable<PlannedChange['breach']>): string {
  return breach.why === 'failures'
    ? `planned change, but pods are failing since ${utcWords(breach.since ?? breach.at)}`
    : 'planned change, but a change no plan covers broke the same link';
}

function utcWords(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The `first` entry of a GKE operation: its actor and request, for when the `last` entry arrives. */
export interface OperationRecord {
  id: string;
  /** The classified first entry (a ChangeEvent), stored as plain JSON. */
  event: unknown;
  recordedAt: string;
}

export type IncidentStatus = Incident['status'];

/**
 * A fingerprint's SHA-256 in hex: the name an incident goes by outside wi-sentinel (PagerDuty's
 * dedup_key, notify/pagerduty-render.ts), by which a store finds it again (currentByDigest).
 */
export function fingerprintDigest(fingerprint: string): string {
  return createHash('sha256').update(fingerprint, 'utf8').digest('hex');
}
