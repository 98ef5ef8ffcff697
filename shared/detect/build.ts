import { inToolWords, type RepairFacts } from '../chain/remediation-words.ts';
import { attribute } from '../domain/attribution.ts';
import {
  type Cause,
  type ClusterRef,
  type Finding,
  type FindingKind,
  type FindingSeverity,
  type FindingStatus,
  fingerprint,
  type KsaRef,
  type PolicyRewrite,
  type Remediation,
  type WorkloadRef,
} from '../domain/finding.ts';
import type { EventSource } from '../events/change-event.ts';
import type { Impact } from '../inventory/impact.ts';

function causeOf(source: EventSource, replaced?: PolicyRewrite): Cause {
  const via = attribute(source);
  return {
    method: source.method,
    ...(source.actor ? { actor: source.actor } : {}),
    ...(source.time ? { time: source.time } : {}),
    ...(source.insertId ? { insertId: source.insertId } : {}),
    ...(source.operation ? { operationId: source.operation.id } : {}),
    ...(source.callerIp ? { callerIp: source.callerIp } : {}),
    ...(source.userAgent ? { userAgent: source.userAgent } : {}),
    ...(source.delegation && source.delegation.length > 0 ? { delegation: source.delegation } : {}),
    ...(via ? { via } : {}),
    ...(replaced ? { replaced } : {}),
    ...(source.note ? { note: source.note } : {}),
  };
}

export interface FindingInput {
  kind: FindingKind;
  status: FindingStatus;
  severity: FindingSeverity;
  /** The parts after the kind: what names the broken link. */
  key: string[];
  project: string;
  cluster?: ClusterRef;
  nodePool?: string;
  gsa?: string;
  ksas?: KsaRef[];
  workloads?: WorkloadRef[];
  source?: EventSource;
  /** The request rewrote a role's member list or the whole policy (binding changes). */
  replaced?: PolicyRewrite;
  summary: string;
  /** Today's repair: gcloud and kubectl commands. */
  remediation?: Remediation[];
  /** What the repair in the change's tool's words needs beyond the finding. */
  repair?: RepairFacts;
}

/**
 * Builds a Finding in the contract's field order, omitting what does not apply. A firing finding
 * caused by a change gets its repair in the words of the tool that made the change.
 */
export function makeFinding(input: FindingInput): Finding {
  const finding = assemble(input);
  if (finding.status !== 'firing' || finding.cause?.via === undefined) return finding;
  const { remediation: _today, remediationWarning: _none, ...rest } = finding;
  return { ...rest, ...inToolWords(finding, input.repair) };
}

function assemble(input: FindingInput): Finding {
  const firing = input.status === 'firing';
  return {
    kind: input.kind,
    status: input.status,
    severity: input.severity,
    fingerprint: fingerprint(input.kind, ...input.key),
    project: input.project,
    ...(input.cluster ? { cluster: input.cluster } : {}),
    ...(input.nodePool ? { nodePool: input.nodePool } : {}),
    ...(input.gsa ? { gsa: input.gsa } : {}),
    ksas: input.ksas ?? [],
    ...(input.workloads && input.workloads.length > 0 ? { workloads: input.workloads } : {}),
    ...(input.source ? { cause: causeOf(input.source, input.replaced) } : {}),
    summary: input.summary,
    ...(firing && input.remediation && input.remediation.length > 0
      ? { remediation: input.remediation }
      : {}),
  };
}

/**
 * An outage kind is critical while running workloads are hit; a break nothing runs behind yet (a new
 * pool, a KSA with no pods) is an error: still paged, it is a real break waiting for its first pod.
 * With no inventory the impact is unknown, and the kind's own severity stands.
 */
export function outageSeverity(impact: Impact | undefined): FindingSeverity {
  if (impact === undefined) return 'critical';
  return impact.workloads.length > 0 ? 'critical' : 'error';
}

export function by(source: EventSource): string {
  return source.actor ? ` by ${source.actor}` : '';
}

export function describeImpact(impact: Impact | undefined): string {
  if (impact === undefined) return '';
  const pods = impact.workloads.reduce((sum, w) => sum + (w.pods ?? 1), 0);
  const clusters = new Set(impact.workloads.map((w) => w.cluster)).size;
  if (impact.ksas.length === 0 && pods === 0) return ' (no Workload Identity workload runs there now)';
  const ksas = `${impact.ksas.length} KSA${impact.ksas.length === 1 ? '' : 's'}`;
  if (pods === 0) return ` (${ksas}, no running pods)`;
  return ` (${ksas}, ${pods} pod${pods === 1 ? '' : 's'} in ${clusters} cluster${clusters === 1 ? '' : 's'})`;
}

export function ksaName(ksa: { namespace: string; name?: string }): string {
  return `${ksa.namespace}/${ksa.name ?? '*'}`;
}

/** How a Kubernetes verb reads in a sentence. */
export const PAST_TENSE = {
  create: 'created',
  update: 'updated',
  patch: 'patched',
  delete: 'deleted',
} as const;

/** The parenthesised impact describeImpact appends to every outage summary. */
const IMPACT_SUFFIX =
  / \((?:no Workload Identity workload runs there now|\d+ KSAs?, (?:no running pods|\d+ pods? in \d+ clusters?))\)$/;

/**
 * The finding with who is hit recomputed (from live state): KSAs, workloads, the severity that
 * follows from them, and the summary's impact restated. The rest of the finding stays as detected.
 */
export function withImpact(finding: Finding, impact: Impact): Finding {
  const outage = finding.severity === 'critical' || finding.severity === 'error';
  return {
    kind: finding.kind,
    status: finding.status,
    severity: outage ? outageSeverity(impact) : finding.severity,
    fingerprint: finding.fingerprint,
    project: finding.project,
    ...(finding.cluster ? { cluster: finding.cluster } : {}),
    ...(finding.nodePool ? { nodePool: finding.nodePool } : {}),
    ...(finding.gsa ? { gsa: finding.gsa } : {}),
    ksas: impact.ksas,
    ...(impact.workloads.length > 0 ? { workloads: impact.workloads } : {}),
    ...(finding.cause ? { cause: finding.cause } : {}),
    summary: `${finding.summary.replace(IMPACT_SUFFIX, '')}${describeImpact(impact)}`,
    ...(finding.remediation ? { remediation: finding.remediation } : {}),
    ...(finding.remediationWarning ? { remediationWarning: finding.remediationWarning } : {}),
  };
}
