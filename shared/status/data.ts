import type { ClusterRef, Finding, FindingKind, FindingSeverity } from '../domain/finding.ts';

/**
 * What the status documents are given to render, as data: the parts of an incident, a silence and a
 * symptom group's count they show. The stores (incidents/) and the symptom windows (symptoms/) hold
 * more; their records fit these shapes as they are, so status/ needs nothing from above its floor.
 */

export interface StatusIncident {
  id: string;
  fingerprint: string;
  kind: FindingKind;
  status: 'open' | 'resolved';
  severity: FindingSeverity;
  finding: Pick<Finding, 'summary' | 'project' | 'cluster' | 'workloads'>;
  openedAt: string;
  /** The silence holding it back from people, when one matches. */
  silencedBy?: string;
}

/** Every given matcher must match; a value may end in `*` to match a prefix. */
export type StatusSilenceMatchers = Partial<
  Record<'project' | 'cluster' | 'namespace' | 'ksa' | 'kind' | 'fingerprint', string>
>;

export interface StatusSilence {
  id: string;
  matchers: StatusSilenceMatchers;
  expiresAt: string;
  author: string;
  reason: string;
}

/** One symptom group counted at a time: what `/wi-status` and `wi-sentinel status` show beside a KSA. */
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
