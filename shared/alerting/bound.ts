import { createHash } from 'node:crypto';
import type { Finding, FindingSeverity, KsaRef, WorkloadRef } from '../domain/finding.ts';

/**
 * Bounded work per delivery. One audit entry can name thousands of links (8,004 binding deltas fit
 * in one Pub/Sub message): judged one by one, each would cost live reads, store transactions, a
 * Slack post and a page. A delivery tells at most MAX_FINDINGS_PER_DELIVERY findings of a kind and
 * status on their own; the rest of them are summed up in one finding that says how many links and
 * which KSAs, so a change that breaks 8,000 links is a bounded number of incidents naming its scale,
 * not 8,000 pages.
 *
 * Which findings stand on their own is decided by fingerprint, so the same links give the same split
 * whenever they come: the repair of a large break (its findings resolved) resolves the same incidents,
 * the summary's included (its fingerprint is a digest of the links it stands for).
 */
export const MAX_FINDINGS_PER_DELIVERY = 20;

/** KSAs and workloads a summary carries, as an incident keeps them (lifecycle LIMITS). */
const SUMMARY_REFS = 1_000;
/** Names spelled out in a summary's text. */
const NAMED = 5;

const RANK: Record<FindingSeverity, number> = { info: 0, warning: 1, error: 2, critical: 3 };

export interface Bounded {
  /** The findings told on their own (to verify against live state as usual). */
  findings: Finding[];
  /** One finding per status for the rest: not verified one by one (that is the work bounded). */
  summaries: Finding[];
}

export function boundFindings(findings: readonly Finding[], max = MAX_FINDINGS_PER_DELIVERY): Bounded {
  const groups = new Map<string, Finding[]>();
  for (const finding of findings) {
    const key = `${finding.status} ${finding.kind}`;
    groups.set(key, [...(groups.get(key) ?? []), finding]);
  }
  const kept = new Set<Finding>();
  const summaries: Finding[] = [];
  for (const group of groups.values()) {
    if (group.length <= max) {
      for (const finding of group) kept.add(finding);
      continue;
    }
    const ordered = [...group].sort((a, b) =>
      a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0,
    );
    for (const finding of ordered.slice(0, max - 1)) kept.add(finding);
    summaries.push(summarize(ordered.slice(max - 1)));
  }
  // In the order they came: what is told on its own keeps the detectors' order.
  return { findings: findings.filter((f) => kept.has(f)), summaries };
}

/** One finding for many of one kind: the worst severity, every KSA (bounded), the count. */
function summarize(rest: readonly Finding[]): Finding {
  const first = rest[0] as Finding;
  const kind = first.kind;
  const severity = rest.reduce<FindingSeverity>(
    (worst, f) => (RANK[f.severity] > RANK[worst] ? f.severity : worst),
    'info',
  );
  const ksas = unique(
    rest.flatMap((f) => f.ksas),
    (k) => `${k.workloadPool}/${k.namespace}/${k.name}`,
  );
  const workloads = unique(
    rest.flatMap((f) => f.workloads ?? []),
    (w) => `${w.cluster}/${w.namespace}/${w.kind}/${w.name}/${w.nodePool ?? ''}`,
  );
  const digest = createHash('sha256')
    .update(rest.map((f) => f.fingerprint).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const named = ksas.slice(0, NAMED).map((k) => `${k.namespace}/${k.name}`);
  const more = ksas.length > NAMED ? ` and ${ksas.length - NAMED} more` : '';
  const what = first.status === 'firing' ? 'broken' : 'repaired';
  return {
    kind,
    status: first.status,
    severity: first.status === 'firing' ? severity : first.severity,
    fingerprint: `${kind}/${first.project}/many/${digest}`,
    project: first.project,
    ...(first.gsa && rest.every((f) => f.gsa === first.gsa) ? { gsa: first.gsa } : {}),
    ksas: ksas.slice(0, SUMMARY_REFS),
    ...(workloads.length > 0 ? { workloads: workloads.slice(0, SUMMARY_REFS) } : {}),
    ...(first.cause ? { cause: first.cause } : {}),
    summary:
      `${rest.length} more ${kind} links ${what} by the same change, told as one: ` +
      `${ksas.length} KSA${ksas.length === 1 ? '' : 's'} (${named.join(', ')}${more})`,
    ...(first.status === 'firing'
      ? {
          remediation: unique(
            rest.flatMap((f) => f.remediation ?? []),
            (r) => r.command,
          ).slice(0, NAMED),
          // The same change: an authoritative tool's warning holds for every link it broke.
          ...(first.remediationWarning ? { remediationWarning: first.remediationWarning } : {}),
        }
      : {}),
  };
}

function unique<T extends KsaRef | WorkloadRef | { command: string }>(
  items: readonly T[],
  key: (item: T) => string,
): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}
