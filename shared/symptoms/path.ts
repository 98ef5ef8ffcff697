import { type Finding, isPagingKind, SYMPTOM_FINDING_KINDS } from '../domain/finding.ts';
import { decode } from '../events/decode.ts';
import type { LiveState } from '../gcp/ports.ts';
import type { Incident, IncidentRef, SymptomEvidence, TransitionType } from '../incidents/incident.ts';
import {
  breachPlan,
  type IncidentAttachments,
  LIMITS,
  mergeEvidence,
  type StepOptions,
} from '../incidents/lifecycle.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { Snapshot } from '../inventory/snapshot.ts';
import { snapshotState } from '../live/snapshot-state.ts';
import type { Logger } from '../log.ts';
import type { Routing } from '../notify/routing.ts';
import type { Senders } from '../notify/types.ts';
import { authFailureFinding, diagnoseGroup, quietResolutions } from './auth-failures.ts';
import { classifySymptom, type Symptom } from './classify.ts';
import { evidenceChanged, evidenceOf, explains } from './evidence.ts';
import {
  alertKey,
  authFingerprint,
  countSince,
  DEFAULT_SYMPTOM_OPTIONS,
  isActive,
  recordAlert,
  recordSymptom,
  type SymptomGroupRecord,
  type SymptomOptions,
  takeDue,
  withLinks,
} from './group.ts';
import { createIdentifier, poolOfNode } from './identity.ts';
import { type Changed, changeIncident, owes } from './incident-change.ts';
import {
  decodeMonitoringNotification,
  isMonitoringNotification,
  type MetadataServerAlert,
} from './monitoring.ts';
import { entryJsonOf, mayHoldSymptom } from './prescreen.ts';
import { METADATA_SERVER_POD } from './signatures.ts';
import { groupKey } from './window.ts';

/**
 * The symptom path of auditEvents: container-log entries (credential failures a workload printed)
 * and Cloud Monitoring notifications (the metadata server's error rate) arrive on the same function
 * as audit entries, and are joined here to the incidents that explain them.
 *
 * - Noise (a container entry without a signature's needle) is acknowledged from its raw text: no
 *   parse, no store, no client library.
 * - A symptom joins its group (one transaction on one document); the group is attached as evidence to
 *   every open incident that explains it (its KSA, its pods' node pool, its cluster), refreshed at most
 *   once a minute per incident, as an edit: no new page.
 * - A group nothing explains for long enough opens `wi-auth-failures`, with the live diagnosis of the
 *   KSA's chain; it resolves after the quiet window (`resolveQuietSymptoms`, run by the sweep).
 * - The other way round: an incident that opens while a group is active gets its evidence in its first
 *   message (`withEvidence`, called by alerting before it steps), and a symptom incident opened before
 *   its cause was known says which incident explains it (`afterApply`).
 */

export interface PathResult {
  outcome: 'invalid' | 'ignored' | 'duplicate' | 'handled';
  reason?: string;
  findings: Finding[];
  incidents: { incident: Incident; transition?: TransitionType; sent: string[] }[];
  /** Failures a retry can cure: the delivery fails so Pub/Sub brings it back. */
  retryable: Error[];
}

type Log = Logger['log'];

export type ApplyFindings = (
  findings: readonly Finding[],
  key: string,
  log: Log,
  options: StepOptions,
) => Promise<{ incidents: PathResult['incidents']; retryable: Error[] }>;

export interface SymptomDeps {
  store: IncidentStore;
  senders: Senders;
  routing: Routing;
  logger: Logger;
  now?: () => Date;
  /** The simulated organization (WI_SNAPSHOT, replay): who a pod is, and live state for diagnoses. */
  inventory?: { current(): Snapshot | undefined };
  /** Live: the last sweep's inventory, who a pod is. */
  lastKnown?: () => Promise<Snapshot | undefined>;
  /** Live state: pods the inventory does not know, and diagnoses. */
  live?: LiveState;
  claimTtlMs?: number;
  /** alerting's applyFindings: `wi-auth-failures` opens and resolves through the common path. */
  applyFindings: ApplyFindings;
  options?: Partial<SymptomOptions>;
}

/** `"type": "k8s_container"` in any JSON spacing: a container entry, told from its raw text. */
const CONTAINER_TYPE = /"type"\s*:\s*"k8s_container"/;

/** Kinds that never take other groups' evidence when they open (a symptom incident has its own). */
const NO_EVIDENCE: readonly string[] = ['sentinel-degraded', ...SYMPTOM_FINDING_KINDS];

type Route =
  | { path: 'audit' }
  | { path: 'noise'; reason: string }
  | { path: 'container'; value: unknown }
  | { path: 'monitoring'; notification: unknown };

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * Which path a delivery takes, from its raw text: audit entries go on exactly as before; a
 * container entry holding no signature's needle is noise; the rest is decoded once.
 */
export function routeOf(input: unknown): Route {
  const value = typeof input === 'string' ? parse(input) : input;
  if (value === undefined) return { path: 'audit' };
  const json = entryJsonOf(value);
  if (json === undefined) {
    // A bare LogEntry or notification (replay, tests): already parsed.
    if (field(field(value, 'resource'), 'type') === 'k8s_container') return { path: 'container', value };
    if (isMonitoringNotification(value)) return { path: 'monitoring', notification: value };
    return { path: 'audit' };
  }
  if (CONTAINER_TYPE.test(json)) {
    if (!mayHoldSymptom(json))
      return { path: 'noise', reason: 'container log without a credential-failure signature' };
    return { path: 'container', value };
  }
  if (json.includes('"incident"') && json.includes('"version"')) {
    const notification = parse(json);
    if (isMonitoringNotification(notification)) return { path: 'monitoring', notification };
  }
  return { path: 'audit' };
}

export function createSymptoms(deps: SymptomDeps) {
  const options: SymptomOptions = { ...DEFAULT_SYMPTOM_OPTIONS, ...deps.options };
  const now = deps.now ?? (() => new Date());
  const { store } = deps;
  const identify = createIdentifier({
    ...(deps.live ? { live: deps.live } : {}),
    now: () => now().getTime(),
    onError: (message) => deps.logger.log('WARNING', message),
  });
  const changeDeps = {
    store,
    senders: deps.senders,
    routing: deps.routing,
    now,
    ...(deps.claimTtlMs !== undefined ? { claimTtlMs: deps.claimTtlMs } : {}),
  };

  // ---- open incidents, shared by the deliveries of one instance for a few seconds ----------------
  let openCache: { at: number; list: Promise<Incident[]> } | undefined;
  async function openIncidents(): Promise<Incident[]> {
    const at = now().getTime();
    if (openCache === undefined || at - openCache.at >= options.openCacheMs) {
      openCache = { at, list: store.listOpen() };
    }
    const mine = openCache;
    try {
      return await mine.list;
    } catch (error) {
      if (openCache === mine) openCache = undefined;
      throw error;
    }
  }
  const invalidate = () => {
    openCache = undefined;
  };

  // ---- active groups, for incidents that open: most deliveries with findings meet none ----------
  let groupsCache: { at: number; list: Promise<SymptomGroupRecord[]> } | undefined;
  async function activeGroups(at: Date): Promise<SymptomGroupRecord[]> {
    if (groupsCache === undefined || at.getTime() - groupsCache.at >= options.openCacheMs) {
      groupsCache = { at: at.getTime(), list: store.listSymptomGroups({ activeAt: at.toISOString() }) };
    }
    const mine = groupsCache;
    try {
      return await mine.list;
    } catch (error) {
      if (groupsCache === mine) groupsCache = undefined;
      throw error;
    }
  }

  async function inventoryNow(): Promise<Snapshot | undefined> {
    return deps.inventory?.current() ?? (await deps.lastKnown?.());
  }

  function liveState(snapshot: Snapshot | undefined): LiveState | undefined {
    if (deps.live) return deps.live;
    // A simulated organization is its own live state, read as it is now.
    return deps.inventory
      ? snapshotState(() => deps.inventory?.current())
      : snapshot
        ? snapshotState(() => snapshot)
        : undefined;
  }

  // ---- the delivery ---------------------------------------------------------------------------------

  /** The symptom path's answer for a delivery, or undefined when it is an audit entry (not ours). */
  async function handle(input: unknown, log: Log): Promise<PathResult | undefined> {
    const route = routeOf(input);
    if (route.path === 'audit') return undefined;
    if (route.path === 'noise') {
      log('DEBUG', `ignored: ${route.reason}`);
      return { outcome: 'ignored', reason: route.reason, findings: [], incidents: [], retryable: [] };
    }
    if (route.path === 'monitoring') return handleNotification(route.notification, log);
    const decoded = decode(route.value);
    if (!decoded.ok) {
      log('WARNING', `undecodable delivery acknowledged: ${decoded.error}`);
      return { outcome: 'invalid', reason: decoded.error, findings: [], incidents: [], retryable: [] };
    }
    const classified = classifySymptom(decoded.delivery.entry);
    if (classified.type === 'ignored') {
      // Not a container entry after all (its text only looked like one): the audit path judges it.
      if (decoded.delivery.entry.resource?.type !== 'k8s_container') return undefined;
      log('DEBUG', `ignored: ${classified.reason}`);
      return { outcome: 'ignored', reason: classified.reason, findings: [], incidents: [], retryable: [] };
    }
    return handleSymptom(classified.symptom, log);
  }

  async function handleSymptom(symptom: Symptom, log: Log): Promise<PathResult> {
    const at = now();
    const snapshot = await inventoryNow();
    const { identity, nodePool } = await identify(symptom, snapshot);
    const key = groupKey(symptom, identity?.ksa);
    const open = await openIncidents();
    const recorded = await store.transactSymptomGroup(key, (current) => {
      const r = recordSymptom(current, symptom, identity, at, {
        ...(nodePool ? { nodePool } : {}),
        options,
      });
      if (!r.added) return { result: { record: r.record, added: false, opened: false } };
      const next = linked(r.record, open, at);
      return { next, result: { record: next, added: true, opened: r.opened } };
    });
    // A group this instance just opened must be found by an incident opening here next.
    if (recorded.opened) groupsCache = undefined;
    const record = recorded.record;
    const due = recorded.added ? dueOf(record, at) : [];
    const result = await settleGroup(record, open, due, at, log, 'grace');
    const what = `${symptom.kind} (${symptom.library}) from ${symptom.namespace}/${symptom.pod}`;
    // As the audit path does: every delivery leaves a line saying how it was acknowledged.
    if (!recorded.added)
      log('INFO', 'duplicate delivery acknowledged', { entry: symptom.insertId, group: record.key });
    return {
      ...result,
      outcome: recorded.added ? 'handled' : 'duplicate',
      reason: recorded.added
        ? `symptom: ${what}, ${record.count} in group ${record.key}`
        : `symptom already counted: ${what}`,
    };
  }

  /**
   * The group with its links to the open incidents that explain it (and its own symptom incident),
   * the due ones marked pushed now. Pure, for the transaction.
   */
  function linked(record: SymptomGroupRecord, open: readonly Incident[], at: Date): SymptomGroupRecord {
    const own = authFingerprint(record);
    const matched = open.filter((i) => i.fingerprint === own || explains(i.finding, record));
    const links = withLinks(record.links, matched, options.maxLinks);
    return { ...record, links: takeDue(links, at, throttle()).links };
  }

  /** The links of a just-linked group that were marked pushed at `at`: those to refresh now. */
  function dueOf(record: SymptomGroupRecord, at: Date): string[] {
    const stamp = at.toISOString();
    return record.links.filter((l) => l.pushedAt === stamp).map((l) => l.fingerprint);
  }

  function throttle() {
    return { everyMs: options.evidenceEveryMs, afterRepairMs: options.afterRepairMs };
  }

  /**
   * After a group changed: refresh its evidence where due, link its symptom incident to what explains
   * it, or open (or finish delivering) `wi-auth-failures` when nothing does.
   */
  async function settleGroup(
    record: SymptomGroupRecord,
    open: readonly Incident[],
    due: readonly string[],
    at: Date,
    log: Log,
    readiness: 'grace' | 'now',
  ): Promise<Omit<PathResult, 'outcome'>> {
    const result: Omit<PathResult, 'outcome'> = { findings: [], incidents: [], retryable: [] };
    const silences = due.length > 0 ? await store.listSilences() : [];
    for (const fingerprint of due) {
      const pushed = await pushEvidence(fingerprint, record, at, silences, log);
      if (pushed.incident && (pushed.changed || pushed.sent.length > 0)) {
        result.incidents.push({ incident: pushed.incident, sent: pushed.sent });
      }
    }
    const own = authFingerprint(record);
    const ownIncident = open.find((i) => i.fingerprint === own);
    const explainers = open.filter((i) => i.fingerprint !== own && explains(i.finding, record));
    if (explainers.length > 0) {
      const told = new Set((ownIncident?.explainedBy ?? []).map((r) => r.id));
      if (ownIncident && explainers.some((e) => !told.has(e.id))) {
        const linkedTo = await explain(own, explainers, log);
        if (linkedTo?.incident && linkedTo.changed)
          result.incidents.push({ incident: linkedTo.incident, transition: 'updated', sent: linkedTo.sent });
      }
      return result;
    }
    if (!isActive(record, at.getTime()) && record.alert?.state !== 'open') return result;
    if (ownIncident && !owes(ownIncident, deps.routing, at)) return result;
    if (!ownIncident && readiness === 'grace' && !(await ready(record, open))) return result;
    const opened = await openAuthFailure(record, ownIncident, at, log);
    result.findings.push(...opened.findings);
    result.incidents.push(...opened.incidents);
    result.retryable.push(...opened.retryable);
    return result;
  }

  /**
   * Whether an unexplained group has failed long enough to page: failures spanning the grace period,
   * counted from the first failure, or from the repair of the last incident that explained it.
   */
  async function ready(record: SymptomGroupRecord, open: readonly Incident[]): Promise<boolean> {
    let since = Date.parse(record.firstSeen);
    const own = authFingerprint(record);
    for (const link of record.links) {
      if (link.fingerprint === own || open.some((i) => i.fingerprint === link.fingerprint)) continue;
      // Linked, not open (as far as this instance knows): when did it resolve?
      const resolvedAt = link.resolvedAt ?? (await store.current(link.fingerprint))?.resolvedAt;
      if (resolvedAt !== undefined) since = Math.max(since, Date.parse(resolvedAt));
    }
    const span = Date.parse(record.lastSeen) - since;
    return span >= options.graceMs && countSince(record, since) >= options.minFailures;
  }

  /** Opens `wi-auth-failures` for the group (or delivers what its open incident still owes). */
  async function openAuthFailure(
    record: SymptomGroupRecord,
    ownIncident: Incident | undefined,
    at: Date,
    log: Log,
  ): Promise<Pick<PathResult, 'findings' | 'incidents' | 'retryable'>> {
    const own = authFingerprint(record);
    const current = ownIncident ?? (await store.current(own));
    const retry = current?.status === 'open';
    if (retry && !owes(current, deps.routing, at)) return { findings: [], incidents: [], retryable: [] };
    // A retry only finishes deliveries: the incident (and its diagnosis) is already stored.
    const diagnosed = retry ? { repairs: [] } : await diagnoseOrNot(record, at, log);
    const finding = authFailureFinding(record, diagnosed);
    const attachments = new Map<string, IncidentAttachments>([
      [
        finding.fingerprint,
        {
          evidence: [evidenceOf(record, at)],
          ...(diagnosed.diagnosis ? { diagnosis: diagnosed.diagnosis } : {}),
        },
      ],
    ]);
    const applied = await deps.applyFindings([finding], `symptoms:${record.key}@${record.firstSeen}`, log, {
      quietRepeats: true,
      attachments,
    });
    invalidate();
    const opened = applied.incidents.find((i) => i.transition === 'opened')?.incident;
    // The group remembers its own incident, as it does those that explain it: the sweep refreshes both.
    if (opened) await link(record.key, opened, at, log);
    return { findings: opened ? [finding] : [], incidents: applied.incidents, retryable: applied.retryable };
  }

  async function diagnoseOrNot(record: SymptomGroupRecord, at: Date, log: Log) {
    const live = liveState(await inventoryNow());
    if (live === undefined) return { repairs: [] };
    try {
      return await diagnoseGroup(live, record, () => at);
    } catch (error) {
      log('WARNING', `could not diagnose ${record.key}: ${(error as Error).message}`);
      return { repairs: [] };
    }
  }

  /** Refreshes the group's evidence on one incident: at most once per interval, only when it changed. */
  async function pushEvidence(
    fingerprint: string,
    record: SymptomGroupRecord,
    at: Date,
    silences: Awaited<ReturnType<IncidentStore['listSilences']>>,
    log: Log,
  ): Promise<Changed> {
    const evidence = evidenceOf(record, at);
    const changed = await changeIncident(
      changeDeps,
      fingerprint,
      (incident) => {
        // wi-sentinel's own incidents are about its sink and permissions, never workloads.
        if (incident.kind === 'sentinel-degraded') return undefined;
        if (incident.status === 'resolved') {
          const resolvedAt = Date.parse(incident.resolvedAt ?? '');
          if (!(at.getTime() - resolvedAt <= options.afterRepairMs)) return undefined;
        }
        const previous = incident.evidence?.find((e) => e.key === evidence.key);
        if (!evidenceChanged(previous, evidence)) return undefined;
        const last =
          incident.evidenceAt === undefined ? Number.NEGATIVE_INFINITY : Date.parse(incident.evidenceAt);
        // A group new to the incident is news; more of the same waits for the interval.
        if (previous !== undefined && at.getTime() - last < options.evidenceEveryMs) return undefined;
        return refreshed(incident, [evidence], at);
      },
      silences,
    ).catch((error: Error) => {
      log('WARNING', `could not refresh the evidence of ${fingerprint}: ${error.message}`);
      return { changed: false, sent: [], permanent: [], retryable: [] } as Changed;
    });
    for (const error of changed.permanent)
      log('ERROR', `evidence refresh failed permanently: ${error.message}`, { fingerprint });
    // Evidence is refreshed again by the next failures (or the sweep): a failed edit is not retried.
    for (const error of changed.retryable)
      log('WARNING', `evidence refresh failed: ${error.message}`, { fingerprint });
    return changed;
  }

  /**
   * The incident with fresh evidence; `seq` moves so every destination is owed the edit. Pods failing
   * for a planned change breach the plan: that is news, and it pages.
   */
  function refreshed(incident: Incident, evidence: readonly SymptomEvidence[], at: Date): Incident {
    return breachPlan(
      {
        ...incident,
        evidence: mergeEvidence(incident.evidence, evidence, options.maxEvidence),
        evidenceAt: at.toISOString(),
        seq: incident.seq + 1,
      },
      at,
    );
  }

  /** The symptom incident says which incidents explain it (news: a transition, a thread reply). */
  async function explain(
    own: string,
    explainers: readonly Incident[],
    log: Log,
  ): Promise<Changed | undefined> {
    const at = now();
    const silences = await store.listSilences();
    return changeIncident(
      changeDeps,
      own,
      (incident) => {
        if (incident.status !== 'open') return undefined;
        const known = new Set((incident.explainedBy ?? []).map((r) => r.id));
        const fresh = explainers.filter((e) => !known.has(e.id));
        if (fresh.length === 0) return undefined;
        const refs: IncidentRef[] = fresh.map((e) => ({
          fingerprint: e.fingerprint,
          id: e.id,
          kind: e.kind,
          summary: e.finding.summary,
          at: at.toISOString(),
        }));
        const seq = incident.seq + 1;
        const summary = `explained by ${refs.map((r) => `${r.kind} incident ${r.id}: ${r.summary}`).join('; ')}`;
        return {
          ...incident,
          explainedBy: [...(incident.explainedBy ?? []), ...refs].slice(-5),
          seq,
          updatedAt: at.toISOString(),
          transitions: [
            ...incident.transitions,
            { seq, type: 'updated' as const, at: at.toISOString(), summary },
          ].slice(-LIMITS.transitions),
        };
      },
      silences,
    ).catch((error: Error) => {
      log('WARNING', `could not link ${own} to the incident that explains it: ${error.message}`);
      return undefined;
    });
  }

  // ---- Cloud Monitoring --------------------------------------------------------------------------

  async function handleNotification(notification: unknown, log: Log): Promise<PathResult> {
    const decoded = decodeMonitoringNotification(notification);
    if (decoded.type === 'invalid') {
      log('WARNING', `undecodable Monitoring notification acknowledged: ${decoded.error}`);
      return { outcome: 'invalid', reason: decoded.error, findings: [], incidents: [], retryable: [] };
    }
    if (decoded.type === 'ignored') {
      log('DEBUG', `ignored: ${decoded.reason}`);
      return { outcome: 'ignored', reason: decoded.reason, findings: [], incidents: [], retryable: [] };
    }
    return handleAlert(decoded.alert, log);
  }

  async function handleAlert(alert: MetadataServerAlert, log: Log): Promise<PathResult> {
    const at = now();
    const snapshot = await inventoryNow();
    const known = snapshot?.projects
      .find((p) => p.projectId === alert.project)
      ?.clusters.find((c) => c.name === alert.cluster.name && c.location === alert.cluster.location);
    const nodePool = poolOfNode(
      alert.cluster.name,
      (known?.nodePools ?? []).map((p) => p.name),
      alert.node,
    );
    const open = await openIncidents();
    const key = alertKey(alert);
    const recorded = await store.transactSymptomGroup(key, (current) => {
      const next = recordAlert(current, alert, at, nodePool);
      const same =
        current?.alert?.incidentId === next.alert?.incidentId && current?.alert?.state === next.alert?.state;
      if (current && same) return { result: { record: current, added: false } };
      const record = linked(next, open, at);
      return { next: record, result: { record, added: true } };
    });
    const record = recorded.record;
    const what = `Monitoring incident ${alert.incidentId} ${alert.state} for ${alert.cluster.name}`;
    if (!recorded.added) log('INFO', 'duplicate delivery acknowledged', { monitoring: alert.incidentId });
    if (alert.state === 'closed') {
      // Resolved first, with the closed alert as its last evidence; then the other incidents it is
      // evidence of are refreshed (the resolved one already shows it).
      const quiet = await resolveIfQuiet(
        authFingerprint(record),
        `monitoring:${alert.incidentId}:closed`,
        log,
      );
      const due = recorded.added ? dueOf(record, at) : [];
      const result = await settleGroup(record, open, due, at, log, 'now');
      return {
        findings: [...quiet.findings, ...result.findings],
        incidents: [...quiet.incidents, ...result.incidents],
        retryable: [...quiet.retryable, ...result.retryable],
        outcome: recorded.added ? 'handled' : 'duplicate',
        reason: what,
      };
    }
    const due = recorded.added ? dueOf(record, at) : [];
    // Monitoring already waited out its own window: an unexplained alert pages now.
    const result = await settleGroup(record, open, due, at, log, 'now');
    return { ...result, outcome: recorded.added ? 'handled' : 'duplicate', reason: what };
  }

  // ---- resolution ------------------------------------------------------------------------------------

  /** Resolves a symptom incident whose groups are all quiet (or closed), applying through alerting. */
  async function resolveIfQuiet(fingerprint: string, key: string, log: Log) {
    const current = await store.current(fingerprint);
    if (current?.status !== 'open') return { findings: [], incidents: [], retryable: [] as Error[] };
    const groups = await groupsOf(fingerprint);
    const at = now();
    const resolved = quietResolutions([current], groups, at, options);
    if (resolved.length === 0) return { findings: [], incidents: [], retryable: [] as Error[] };
    const applied = await deps.applyFindings(resolved, key, log, {
      attachments: lastEvidence(resolved, groups, at),
    });
    invalidate();
    return { findings: resolved, ...applied };
  }

  /** The groups' latest evidence, for the resolution message of each symptom incident. */
  function lastEvidence(
    resolved: readonly Finding[],
    groups: readonly SymptomGroupRecord[],
    at: Date,
  ): Map<string, IncidentAttachments> {
    const attachments = new Map<string, IncidentAttachments>();
    for (const finding of resolved) {
      const own = groups.filter((g) => authFingerprint(g) === finding.fingerprint);
      if (own.length > 0)
        attachments.set(finding.fingerprint, { evidence: own.map((g) => evidenceOf(g, at)) });
    }
    return attachments;
  }

  async function groupsOf(fingerprint: string): Promise<SymptomGroupRecord[]> {
    const keys = groupKeysOf(fingerprint);
    const groups = await Promise.all(keys.map((key) => store.symptomGroup(key)));
    return groups.filter((g) => g !== undefined);
  }

  /**
   * The sweep's part: resolve every symptom incident whose groups have been quiet for the window, and
   * bring the evidence of recently active groups up to date on their incidents (the last failures of
   * a storm came after the last throttled refresh).
   */
  async function resolveQuiet(runId: string, log: Log) {
    const at = now();
    const open = await store.listOpen();
    const symptomIncidents = open.filter((i) => i.kind === 'wi-auth-failures');
    const groups = (await Promise.all(symptomIncidents.map((i) => groupsOf(i.fingerprint)))).flat();
    const resolved = quietResolutions(symptomIncidents, groups, at, options);
    const applied =
      resolved.length > 0
        ? await deps.applyFindings(resolved, `symptoms-quiet:${runId}`, log, {
            attachments: lastEvidence(resolved, groups, at),
          })
        : { incidents: [], retryable: [] };
    invalidate();
    // Evidence refreshed: groups active within the last quiet window and a half.
    const recent = await store.listSymptomGroups({
      activeAt: new Date(at.getTime() - options.afterRepairMs).toISOString(),
    });
    const refreshed: PathResult['incidents'] = [];
    for (const group of recent) {
      if (group.links.length === 0) continue;
      const marked = await store.transactSymptomGroup(group.key, (current) => {
        if (current === undefined) return { result: [] as string[] };
        const { due, links } = takeDue(current.links, at, throttle());
        return due.length > 0
          ? { next: { ...current, links }, result: due.map((d) => d.fingerprint) }
          : { result: [] };
      });
      const silences = marked.length > 0 ? await store.listSilences() : [];
      for (const fingerprint of marked) {
        const pushed = await pushEvidence(fingerprint, group, at, silences, log);
        if (pushed.incident && pushed.changed)
          refreshed.push({ incident: pushed.incident, sent: pushed.sent });
      }
    }
    return { resolved, incidents: [...applied.incidents, ...refreshed], retryable: applied.retryable };
  }

  // ---- the incident side -------------------------------------------------------------------------

  /**
   * Before alerting steps findings: the evidence of every active group each firing finding explains,
   * so an incident that opens after its symptoms began carries them in its first message.
   */
  async function withEvidence(findings: readonly Finding[], stepOptions: StepOptions): Promise<StepOptions> {
    const firing = findings.filter(
      (f) => f.status === 'firing' && isPagingKind(f.kind) && !NO_EVIDENCE.includes(f.kind),
    );
    if (firing.length === 0) return stepOptions;
    const at = now();
    // Evidence counts may be a few seconds old: the next refresh brings them up to date.
    const groups = (await activeGroups(at)).filter((group) => isActive(group, at.getTime()));
    if (groups.length === 0) return stepOptions;
    const attachments = new Map(stepOptions.attachments ?? []);
    for (const finding of firing) {
      const matched = groups.filter((group) => explains(finding, group));
      if (matched.length === 0) continue;
      const given = attachments.get(finding.fingerprint);
      attachments.set(finding.fingerprint, {
        ...given,
        evidence: [...(given?.evidence ?? []), ...matched.map((group) => evidenceOf(group, at))],
      });
    }
    return attachments.size > 0 ? { ...stepOptions, attachments } : stepOptions;
  }

  /**
   * Records on a group that it is evidence of `incident` (already shown to people at `at`), or, once
   * the incident `resolved`, when: failures after that are no longer explained by it.
   */
  async function link(key: string, incident: Incident, at: Date, log: Log, resolved = false): Promise<void> {
    await store
      .transactSymptomGroup(key, (current) => {
        if (current === undefined) return { result: undefined };
        const links = resolved
          ? current.links.map((l) =>
              l.fingerprint === incident.fingerprint && l.incident === incident.id
                ? { ...l, resolvedAt: incident.resolvedAt ?? at.toISOString() }
                : l,
            )
          : withLinks(current.links, [incident], options.maxLinks).map((l) =>
              l.fingerprint === incident.fingerprint && l.pushedAt === undefined
                ? { ...l, pushedAt: at.toISOString() }
                : l,
            );
        return JSON.stringify(links) === JSON.stringify(current.links)
          ? { result: undefined }
          : { next: { ...current, links }, result: undefined };
      })
      .catch((error: Error) => log('WARNING', `could not link group ${key}: ${error.message}`));
  }

  /**
   * After alerting applied findings: groups remember the incidents they are evidence of (so failures
   * after a repair still reach the repaired incident), and a symptom incident opened before its cause
   * was known says which incident explains it.
   */
  async function afterApply(incidents: PathResult['incidents'], log: Log): Promise<Error[]> {
    if (incidents.some((i) => i.transition !== undefined)) invalidate();
    const at = now();
    for (const { incident, transition } of incidents) {
      if (transition === undefined || NO_EVIDENCE.includes(incident.kind)) continue;
      for (const evidence of incident.evidence ?? []) {
        await link(evidence.key, incident, at, log, transition === 'resolved');
        if (transition === 'resolved') continue;
        await explain(authFingerprint({ ...evidence, namespace: evidence.namespace ?? '' }), [incident], log);
      }
    }
    return [];
  }

  return { handle, withEvidence, afterApply, resolveQuiet };
}

/** The group keys behind a `wi-auth-failures` fingerprint (a cluster's: its alert and its metadata server's logs). */
export function groupKeysOf(fingerprint: string): string[] {
  const [kind, project = '', location = '', cluster = '', namespace, ksa] = fingerprint.split('/');
  if (kind !== 'wi-auth-failures') return [];
  if (namespace === undefined) {
    const ref = { project, cluster: { location, name: cluster } };
    return [
      alertKey({ ...ref, kind: 'metadata-server-errors' }),
      groupKey({ ...ref, namespace: METADATA_SERVER_POD.namespace }),
    ];
  }
  return [[project, location, cluster, namespace, ksa ?? '*'].join('/')];
}

export type Symptoms = ReturnType<typeof createSymptoms>;

export interface ResolveQuietOptions {
  symptoms: Pick<Symptoms, 'resolveQuiet'>;
  runId?: string;
  logger?: Logger;
  now?: () => Date;
}

/**
 * For the reconcile function, once per sweep: resolves the `wi-auth-failures` incidents whose groups
 * have been quiet for the window, and refreshes recent evidence. Failures a retry can cure are
 * returned (the run should be retried), never thrown.
 */
export async function resolveQuietSymptoms({
  symptoms,
  runId,
  logger,
  now = () => new Date(),
}: ResolveQuietOptions) {
  const id = runId ?? now().toISOString();
  const log: Log = (severity, message, fields = {}) =>
    logger?.log(severity, message, { sweep: id, ...fields });
  const result = await symptoms.resolveQuiet(id, log);
  if (result.resolved.length > 0) {
    log(
      'INFO',
      `resolved ${result.resolved.length} quiet symptom incident${result.resolved.length === 1 ? '' : 's'}`,
    );
  }
  return result;
}
