import type { createAlerting } from '../alerting/alerting.ts';
import type { HandleResult } from '../alerting/delivery.ts';
import type { Finding } from '../domain/finding.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { Snapshot } from '../inventory/snapshot.ts';
import type { Logger } from '../log.ts';
import { blindSpot, settle, sweep, type Unreachable } from './sweep.ts';

/**
 * One sweep run: read the whole inventory, judge every link, and apply the verdict through the
 * alerting path (incidents, Slack, PagerDuty) under the key `sweep:<run id>`: a firing finding that
 * re-confirms an open incident and adds nothing is no news, one whose incident was resolved opens a
 * new one (and pages), and open incidents the sweep finds healthy are resolved. With `dryRun` the
 * store is only read (which incidents are open) and nothing is applied.
 */

/** Something the sweep could not read: one line for people, and what it leaves unjudged. */
export interface SweepProblem {
  /** Names the object and the reason; never a secret. */
  message: string;
  /** What the verdicts must not rest on; absent when the problem blinds none of them. */
  unreadable?: Unreachable;
}

export interface SweptInventory {
  snapshot: Snapshot;
  problems: readonly SweepProblem[];
  /** The projects swept (default: those the snapshot holds). */
  projects?: readonly string[];
}

type Alerting = Pick<ReturnType<typeof createAlerting>, 'applyFindings'>;

export interface RunSweepOptions {
  inventory: () => Promise<SweptInventory>;
  alerting: Alerting;
  store: Pick<IncidentStore, 'listOpen'>;
  now?: () => Date;
  dryRun?: boolean;
  /** Names the run in incident entries (`sweep:<run id>`): the same run applied twice changes nothing. */
  runId?: string;
  logger?: Logger;
}

export interface SweepCounts {
  firing: number;
  resolved: number;
  /** Open incidents the sweep could not judge (left as they are). */
  untouched: number;
  problems: number;
  opened: number;
  updated: number;
  /** Incidents resolved by this run (0 in a dry run). */
  closed: number;
  notifications: number;
  byKind: Record<string, number>;
}

export interface SweepReport {
  runId: string;
  sweptAt: string;
  projects: string[];
  dryRun: boolean;
  /** The inventory swept: what the caller keeps as the last-known inventory. */
  snapshot: Snapshot;
  /** Every broken link found, firing. */
  findings: Finding[];
  /** One per open incident found healthy. */
  resolved: Finding[];
  problems: SweepProblem[];
  untouched: { fingerprint: string; reason: string }[];
  incidents: HandleResult['incidents'];
  /** Failures a retry can cure (a notification, a store write): the run should be retried. */
  retryable: Error[];
  counts: SweepCounts;
}

export async function runSweep(options: RunSweepOptions): Promise<SweepReport> {
  const now = options.now ?? (() => new Date());
  const at = now();
  const runId = options.runId ?? at.toISOString();
  const log: Logger['log'] = (severity, message, fields = {}) =>
    options.logger?.log(severity, message, { sweep: runId, ...fields });

  const inventory = await options.inventory();
  const problems = [...inventory.problems];
  const projects = [...(inventory.projects ?? inventory.snapshot.projects.map((p) => p.projectId))];
  const scope = { projects, unreachable: mergeUnreadable(problems), snapshot: inventory.snapshot, at };
  for (const problem of problems) log('WARNING', `sweep could not read: ${problem.message}`);

  const firing = sweep(inventory.snapshot, scope);
  const open = await options.store.listOpen();
  const verdict = settle(firing, open, scope);
  const resolved = verdict.filter((finding) => finding.status === 'resolved');
  const judged = new Set(verdict.map((finding) => finding.fingerprint));
  const untouched = open
    .filter((incident) => incident.status === 'open' && !judged.has(incident.fingerprint))
    .map((incident) => ({
      fingerprint: incident.fingerprint,
      reason: blindSpot(incident.finding, scope) ?? 'not judged',
    }));

  let applied: Awaited<ReturnType<Alerting['applyFindings']>> = { incidents: [], retryable: [] };
  if (!options.dryRun) {
    applied = await options.alerting.applyFindings(verdict, `sweep:${runId}`, log, { quietRepeats: true });
  }
  const counts: SweepCounts = {
    firing: firing.length,
    resolved: resolved.length,
    untouched: untouched.length,
    problems: problems.length,
    opened: 0,
    updated: 0,
    closed: 0,
    notifications: 0,
    byKind: {},
  };
  for (const finding of firing) counts.byKind[finding.kind] = (counts.byKind[finding.kind] ?? 0) + 1;
  for (const { transition, sent } of applied.incidents) {
    if (transition === 'opened') counts.opened += 1;
    if (transition === 'updated') counts.updated += 1;
    if (transition === 'resolved') counts.closed += 1;
    counts.notifications += sent.length;
  }
  log(problems.length > 0 ? 'WARNING' : 'INFO', summaryLine(counts, projects, options.dryRun === true), {
    counts,
  });
  return {
    runId,
    sweptAt: at.toISOString(),
    projects,
    dryRun: options.dryRun === true,
    snapshot: inventory.snapshot,
    findings: firing,
    resolved,
    problems,
    untouched,
    incidents: applied.incidents,
    retryable: applied.retryable,
    counts,
  };
}

/** Every problem's blind spots, together. */
export function mergeUnreadable(problems: readonly SweepProblem[]): Unreachable {
  const all = problems.flatMap((problem) => (problem.unreadable ? [problem.unreadable] : []));
  return {
    clusters: all.flatMap((u) => u.clusters ?? []),
    unlisted: all.flatMap((u) => u.unlisted ?? []),
    gsas: all.flatMap((u) => u.gsas ?? []),
    iamProjects: all.flatMap((u) => u.iamProjects ?? []),
  };
}

export function summaryLine(counts: SweepCounts, projects: readonly string[], dryRun: boolean): string {
  const swept = `swept ${projects.length} project${projects.length === 1 ? '' : 's'} (${projects.join(', ')})`;
  const found = `${counts.firing} broken link${counts.firing === 1 ? '' : 's'}, ${counts.resolved} incident${counts.resolved === 1 ? '' : 's'} found healthy`;
  const applied = dryRun
    ? 'dry run: nothing applied'
    : `incidents ${counts.opened} opened, ${counts.updated} updated, ${counts.closed} resolved; ${counts.notifications} notification${counts.notifications === 1 ? '' : 's'}`;
  const blind =
    counts.problems > 0
      ? `; ${counts.problems} problem${counts.problems === 1 ? '' : 's'}, ${counts.untouched} open incident${counts.untouched === 1 ? '' : 's'} left unjudged`
      : counts.untouched > 0
        ? `; ${counts.untouched} open incident${counts.untouched === 1 ? '' : 's'} left unjudged`
        : '';
  return `${swept}: ${found}; ${applied}${blind}`;
}
