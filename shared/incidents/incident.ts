import type { Cause, Finding, FindingKind, FindingSeverity } from '../detect/finding.ts';

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
  /** Keyed by destination key (never a secret: PagerDuty keys are hashed). */
  notifications: Record<string, NotificationState>;
}

export interface Silence {
  id: string;
  matchers: SilenceMatchers;
  createdAt: string;
  expiresAt: string;
  author: string;
  reason: string;
}

/** Every given matcher must match; a value may end in `*` to match a prefix. */
export interface SilenceMatchers {
  project?: string;
  cluster?: string;
  namespace?: string;
  ksa?: string;
  kind?: string;
  fingerprint?: string;
}

/** The `first` entry of a GKE operation: its actor and request, for when the `last` entry arrives. */
export interface OperationRecord {
  id: string;
  /** The classified first entry (a ChangeEvent), stored as plain JSON. */
  event: unknown;
  recordedAt: string;
}

export type IncidentStatus = Incident['status'];
