import type { createAlerting } from '../alerting/alerting.ts';
import type { HandleResult } from '../alerting/delivery.ts';
import type { Finding, Remediation } from '../domain/finding.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { Snapshot } from '../inventory/snapshot.ts';
import type { IndexTimes, Reread } from '../live/asset-export.ts';
import type { Logger } from '../log.ts';
import { isEmpty, staleResolutions } from './freshness.ts';
import { settle, sweep, type Unreachable, untouchedIncidents } from './sweep.ts';

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

/** Why Cloud Asset Inventory was not used (live-inventory.ts), and what makes it usable. */
export interface AssetFallback {
  reason: string;
  /** Where to repair it: the project whose Cloud Asset API is off, else the one wi-sentinel runs in. */
  project?: string;
  remediation: Remediation[];
}

export interface SweptInventory {
  snapshot: Snapshot;
  problems: readonly SweepProblem[];
  /** The projects swept (default: those the snapshot holds). */
  projects?: readonly string[];
  /** Where it was read: Cloud Asset Inventory (`asset`), each object directly (`direct`), a file. */
  source?: 'asset' | 'direct' | 'snapshot';
  /** Cloud Asset Inventory could not be used and direct reads were: why, and what enables it. */
  fallback?: AssetFallback;
  /** From Cloud Asset Inventory: when its index saw each object change (the freshness rule). */
  indexed?: IndexTimes;
  /** From Cloud Asset Inventory: the inventory with these objects read directly instead. */
  reread?: (
    targets: Reread,
    snapshot: Snapshot,
  ) => Promise<{ snapshot: Snapshot; problems: readonly SweepProblem[] }>;
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
  /** Every broken link found, firing, but for those an open incident already covers (sweep.ts settle). */
  findings: Finding[];
  /** One per open incident found healthy. */
  resolved: Finding[];
  problems: SweepProblem[];
  /** Where the inventory was read (see SweptInventory.source). */
  source: NonNullable<SweptInventory['source']>;
  /** Set when Cloud Asset Inventory could not be used: said once per run. */
  fallback?: AssetFallback;
  /** What was read directly because the index was older than the incident it would resolve. */
  reread?: Reread;
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
  let snapshot = inventory.snapshot;
  const scopeOf = () => ({ projects, unreachable: mergeUnreadable(problems), snapshot, at });
  let scope = scopeOf();
  if (inventory.fallback) {
    log(
      'WARNING',
      `Cloud Asset Inventory not used: ${inventory.fallback.reason}; read each object directly`,
      {
        remediation: inventory.fallback.remediation,
      },
    );
  }
  for (const problem of problems) log('WARNING', `sweep could not read: ${problem.message}`);

  let firing = sweep(snapshot, scope);
  const open = await options.store.listOpen();
  let verdict = settle(firing, open, scope);
  // The freshness rule: no incident resolves on an index record older than its event.
  let reread: Reread | undefined;
  if (inventory.indexed && inventory.reread) {
    const stale = staleResolutions(verdict, open, inventory.indexed);
    if (!isEmpty(stale)) {
      const fresh = await inventory.reread(stale, snapshot);
      reread = stale;
      snapshot = fresh.snapshot;
      for (const problem of fresh.problems) {
        problems.push(problem);
        log('WARNING', `sweep could not read: ${problem.message}`);
      }
      log(
        'INFO',
        `read directly before resolving on Cloud Asset Inventory: ${describeReread(stale)} (the index may be older than the events that opened their incidents)`,
      );
      scope = scopeOf();
      firing = sweep(snapshot, scope);
      verdict = settle(firing, open, scope);
    }
  }
  // What the sweep tells: a broken link an open incident already covers is not one of its own (settle).
  const found = verdict.filter((finding) => finding.status === 'firing');
  const resolved = verdict.filter((finding) => finding.status === 'resolved');
  const untouched = untouchedIncidents(verdict, open, scope);

  let applied: Awaited<ReturnType<Alerting['applyFindings']>> = { incidents: [], retryable: [] };
  if (!options.dryRun) {
    applied = await options.alerting.applyFindings(verdict, `sweep:${runId}`, log, { quietRepeats: true });
  }
  const counts: SweepCounts = {
    firing: found.length,
    resolved: resolved.length,
    untouched: untouched.length,
    problems: problems.length,
    opened: 0,
    updated: 0,
    closed: 0,
    notifications: 0,
    byKind: {},
  };
  for (const finding of found) counts.byKind[finding.kind] = (counts.byKind[finding.kind] ?? 0) + 1;
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
    snapshot,
    findings: found,
    resolved,
    problems,
    source: inventory.source ?? 'snapshot',
    ...(inventory.fallback ? { fallback: inventory.fallback } : {}),
    ...(reread ? { reread } : {}),
    untouched,
    incidents: applied.incidents,
    retryable: applied.retryable,
    counts,
  };
}

function describeReread({ gsas, clusters, projects }: Reread): string {
  return [
    ...gsas,
    ...clusters.map((cluster) => `cluster ${cluster.project}/${cluster.location}/${cluster.name}`),
    ...projects.map((project) => `the IAM policy of ${project}`),
  ].join(', ');
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
