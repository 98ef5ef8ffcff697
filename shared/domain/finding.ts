import type { Attribution, Tool } from './attribution.ts';

/** The Finding contract (architecture.md): what every detector produces and every surface prints. */

export const PAGING_KINDS = [
  'cluster-wi-disabled',
  'nodepool-metadata-disabled',
  'binding-missing',
  'annotation-missing',
  'gsa-missing',
  'gsa-disabled',
  'metadata-egress-blocked',
  'key-file-override',
  'sentinel-degraded',
  'wi-auth-failures',
] as const;

/**
 * Kinds about wi-sentinel itself (its sink, topic, permissions, deliveries): found by the sweep's
 * self-checks (shared/reconcile/checks.ts), not by a detector of audit events. They page like the rest:
 * a watchdog that cannot see is an outage of the watchdog.
 */
export const SELF_CHECK_KINDS = ['sentinel-degraded'] as const;

/**
 * Kinds found from what workloads feel, not from a change: credential failures in container logs and
 * metadata-server errors that no open incident explains (shared/symptoms). They page: a failure with
 * no known cause must still reach someone.
 */
export const SYMPTOM_FINDING_KINDS = ['wi-auth-failures'] as const;

/** Hygiene kinds are reported but never paged. */
export const HYGIENE_KINDS = ['gsa-shared', 'gsa-broad-role', 'binding-orphaned'] as const;

export type PagingKind = (typeof PAGING_KINDS)[number];
export type HygieneKind = (typeof HYGIENE_KINDS)[number];
export type FindingKind = PagingKind | HygieneKind;

export const FINDING_KINDS: readonly FindingKind[] = [...PAGING_KINDS, ...HYGIENE_KINDS];

export function isPagingKind(kind: string): kind is PagingKind {
  return (PAGING_KINDS as readonly string[]).includes(kind);
}

/** PagerDuty's severity set. */
export type FindingSeverity = 'critical' | 'error' | 'warning' | 'info';
export type FindingStatus = 'firing' | 'resolved';

export interface ClusterRef {
  location: string;
  name: string;
}

export interface KsaRef {
  workloadPool: string;
  namespace: string;
  name: string;
}

export interface WorkloadRef {
  cluster: string;
  namespace: string;
  kind: string;
  name: string;
  nodePool?: string;
  /** How many running pods of this workload the break hits (an extension of the contract). */
  pods?: number;
}

export interface Cause {
  method: string;
  actor?: string;
  time?: string;
  insertId?: string;
  /** The GKE long-running operation the entry belongs to (extension). */
  operationId?: string;
  callerIp?: string;
  userAgent?: string;
  /** Who delegated to the actor (impersonation, federation), the original principal first (extension). */
  delegation?: string[];
  /** The tool that made the change, told from the user agent and the principal (extension). */
  via?: Attribution;
  /**
   * The request replaced a role's whole member list (`role`) or the whole policy (`policy`), as
   * authoritative IaC resources do, rather than adding or removing one member (extension).
   */
  replaced?: PolicyRewrite;
}

export interface PolicyRewrite {
  scope: 'role' | 'policy';
  /** The role whose members were replaced (for `policy`, the Workload Identity one). */
  role: string;
  /** Members removed and added by the request, across every role it touched. */
  removed: number;
  added: number;
  /** Roles whose members changed. */
  roles: number;
  /** What the entry held that was left out, and why (a timestamp that is not an RFC 3339 time). */
  note?: string;
}

export interface Remediation {
  title: string;
  command: string;
  /** Whose words the command is in, when not a shell's: a tool's configuration (extension). */
  tool?: Tool | 'kubectl';
  /** The command's language: `shell` (the default), `hcl`, `yaml` or `typescript` (extension). */
  language?: 'shell' | 'hcl' | 'yaml' | 'typescript';
}

export interface Finding {
  kind: FindingKind;
  status: FindingStatus;
  severity: FindingSeverity;
  fingerprint: string;
  project: string;
  cluster?: ClusterRef;
  nodePool?: string;
  gsa?: string;
  ksas: KsaRef[];
  workloads?: WorkloadRef[];
  cause?: Cause;
  summary: string;
  remediation?: Remediation[];
  /**
   * What a reader must know before repairing: a fix by hand that the tool that broke the link will
   * undo (an authoritative resource, a reconciling controller) (extension).
   */
  remediationWarning?: string;
}

/** The namespaces and clusters a finding touches, through its KSAs and workloads (routing, silences). */
export function scopeOf(finding: Finding): { namespaces: string[]; clusters: (string | undefined)[] } {
  const workloads = finding.workloads ?? [];
  return {
    namespaces: [...finding.ksas.map((k) => k.namespace), ...workloads.map((w) => w.namespace)],
    clusters: [finding.cluster?.name, ...workloads.map((w) => w.cluster)],
  };
}

/** Fingerprints join their parts with `/`; the same link gives the same fingerprint firing and resolved. */
export function fingerprint(kind: FindingKind, ...parts: string[]): string {
  return [kind, ...parts].join('/');
}
