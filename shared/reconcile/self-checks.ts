import { type Finding, fingerprint } from '../domain/finding.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { Logger } from '../log.ts';
import {
  type CheckResult,
  checkSeverity,
  type SelfCheckPorts,
  type SelfCheckTarget,
  selfCheck,
} from './checks.ts';

/**
 * The sweep's self-checks as findings of kind `sentinel-degraded`, one fingerprint per check and
 * project (`sentinel-degraded/<project>/<check>`), so each incident opens and resolves on its own:
 * firing for a failing check, resolved for a passing one (an open incident closes once repaired), and
 * nothing for a check that could not run this time (its incident stays as it is; the reason is logged).
 *
 * Run it before the sweep saves its new inventory: the delivery check counts from the previous sweep
 * when nothing was ever delivered.
 */
export interface SelfCheckOptions {
  target: SelfCheckTarget;
  store: Pick<IncidentStore, 'lastDelivery' | 'inventoryMeta'>;
  now?: () => Date;
  /** See DELIVERY_GRACE_MS. */
  graceMs?: number;
  logger?: Logger;
}

export async function runSelfChecks(ports: SelfCheckPorts, options: SelfCheckOptions): Promise<Finding[]> {
  const now = (options.now ?? (() => new Date()))();
  const [lastDelivery, previous] = await Promise.all([
    options.store.lastDelivery(),
    options.store.inventoryMeta(),
  ]);
  const results = await selfCheck(ports, options.target, {
    now,
    ...(lastDelivery ? { lastDelivery } : {}),
    ...(previous ? { watchingSince: previous.sweptAt } : {}),
    ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
  });
  for (const result of results) {
    if (result.status === 'unknown') {
      options.logger?.log(
        'WARNING',
        `self-check ${result.check} of ${result.project} did not run: ${result.summary}`,
        {
          check: result.check,
          project: result.project,
        },
      );
    }
  }
  return findingsOf(results);
}

/**
 * One finding per fingerprint: results that share one (two folder or organization sinks filed under
 * the topic's project) fire together when any fails, resolve only when all pass.
 */
export function findingsOf(results: readonly CheckResult[]): Finding[] {
  const groups = new Map<string, CheckResult[]>();
  for (const result of results) {
    const key = fingerprint('sentinel-degraded', result.project, result.check);
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  const findings: Finding[] = [];
  for (const [key, group] of groups) {
    const [first] = group;
    if (first === undefined) continue;
    const failing = group.filter((r) => r.status === 'failing');
    const base = {
      kind: 'sentinel-degraded' as const,
      severity: checkSeverity(first.check),
      fingerprint: key,
      project: first.project,
      ksas: [],
    } satisfies Partial<Finding>;
    if (failing.length > 0) {
      findings.push({
        ...base,
        status: 'firing',
        summary: failing.map((r) => r.summary).join('; '),
        remediation: failing.flatMap((r) => r.remediation ?? []),
      });
    } else if (group.every((r) => r.status === 'healthy')) {
      findings.push({ ...base, status: 'resolved', summary: group.map((r) => r.summary).join('; ') });
    }
  }
  return findings;
}
