import { createHash, randomUUID } from 'node:crypto';
import { detect } from './detect/index.ts';
import type { Finding } from './domain/finding.ts';
import { LookupError } from './errors.ts';
import type { ChangeEvent } from './events/change-event.ts';
import type { Delivery } from './events/decode.ts';
import type { LiveState } from './gcp/ports.ts';
import type { Incident, TransitionType } from './incidents/incident.ts';
import { type StepOptions, step } from './incidents/lifecycle.ts';
import { planFor } from './incidents/plans.ts';
import type { IncidentStore } from './incidents/store.ts';
import { applyChange } from './inventory/apply.ts';
import type { Snapshot } from './inventory/snapshot.ts';
import { snapshotState } from './live/snapshot-state.ts';
import { verify } from './live/verify.ts';
import type { Logger } from './log.ts';
import type { Routing } from './notify/routing.ts';
import { changeAndTell } from './notify/tell.ts';
import type { Senders } from './notify/types.ts';
import { analyze } from './pipeline.ts';
import type { SymptomOptions } from './symptoms/group.ts';
import { createSymptoms } from './symptoms/path.ts';

/**
 * The whole event path after decoding: findings → incidents → notifications, exactly once per
 * destination under at-least-once delivery. The entry is marked processed only when every effect is
 * done; a retryable failure throws so Pub/Sub redelivers, and the redelivery finds the state already
 * applied and retries only what is still owed.
 */
export interface AlertingDeps {
  store: IncidentStore;
  senders: Senders;
  routing: Routing;
  logger: Logger;
  now?: () => Date;
  /** The simulated organization (WI_SNAPSHOT, replay): read before each event, then evolved by it. */
  inventory?: { current(): Snapshot | undefined; update(next: Snapshot): void };
  /**
   * Live state (Google and Kubernetes APIs) that confirms each finding before it pages. Without it,
   * a simulated organization is its own live state: findings are checked against it as the event
   * leaves it. With neither, findings are taken as detected.
   */
  live?: LiveState;
  /** Live: the last-known inventory (the latest sweep's), the organization before each change. */
  lastKnown?: () => Promise<Snapshot | undefined>;
  /** How long a delivery's claim on a destination holds others off (see claimDestinations). */
  claimTtlMs?: number;
  /**
   * The symptom path (shared/symptoms): container-log entries and Cloud Monitoring notifications are
   * joined to incidents as evidence, or open wi-auth-failures. Absent: every delivery is an audit entry.
   */
  symptoms?: Partial<SymptomOptions>;
}

export interface HandleResult {
  outcome: 'invalid' | 'ignored' | 'duplicate' | 'handled';
  reason?: string;
  findings: Finding[];
  incidents: { incident: Incident; transition?: TransitionType; sent: string[] }[];
}

/** Thrown when something a retry can cure failed; the function fails so Pub/Sub redelivers. */
export class RetryableDeliveryError extends Error {
  readonly causes: Error[];
  constructor(causes: Error[]) {
    super(`retryable failures: ${causes.map((c) => c.message).join('; ')}`);
    this.name = 'RetryableDeliveryError';
    this.causes = causes;
  }
}

export function createAlerting(deps: AlertingDeps) {
  const now = deps.now ?? (() => new Date());
  const { store, logger } = deps;
  const symptoms = deps.symptoms
    ? createSymptoms({
        ...deps,
        now,
        options: deps.symptoms,
        applyFindings: (...args) => applyFindings(...args),
      })
    : undefined;

  /** `context` (an event id, say) is added to every log line about this delivery. */
  async function handle(input: unknown, context: Record<string, unknown> = {}): Promise<HandleResult> {
    const log: Logger['log'] = (severity, message, fields = {}) =>
      logger.log(severity, message, { ...context, ...fields });
    // Container logs and Monitoring notifications take the symptom path; audit entries go on below.
    const symptom = await symptoms?.handle(input, log);
    if (symptom) {
      if (symptom.retryable.length > 0) throw new RetryableDeliveryError(symptom.retryable);
      const { retryable: _, ...result } = symptom;
      return result;
    }
    let snapshot = deps.inventory?.current();
    let analysis = analyze(input, snapshot);
    if (analysis.outcome === 'invalid') {
      log('WARNING', `undecodable delivery acknowledged: ${analysis.error}`);
      return { outcome: 'invalid', reason: analysis.error, findings: [], incidents: [] };
    }
    const key = entryKey(analysis.delivery);
    let findings: Finding[] = [];
    let event: ChangeEvent | undefined;
    // Irrelevant entries never touch the store: a cold start for them loads no client library.
    if (analysis.outcome === 'ignored') {
      if (!isFailedOperation(analysis.delivery, analysis.reason)) {
        log('DEBUG', `ignored: ${analysis.reason}`, { entry: key });
        return { outcome: 'ignored', reason: analysis.reason, findings: [], incidents: [] };
      }
      if (await store.isProcessed(key)) return duplicate(key, log);
      findings = await failedOperation(analysis.delivery, analysis.reason, snapshot);
    } else {
      // Live, the organization before the change is the last sweep's: it knows what a deleted GSA
      // or a removed annotation used to serve, which live state no longer shows.
      if (snapshot === undefined && deps.lastKnown && dependsOnBefore(analysis.event, analysis.findings)) {
        // Without it a deleted GSA's KSAs are unknown, but the change is still judged and verified.
        snapshot = await deps.lastKnown().catch((error: Error) => {
          log('WARNING', `the last-known inventory could not be read: ${error.message}`);
          return undefined;
        });
        if (snapshot) analysis = { ...analysis, findings: detect(analysis.event, snapshot) };
      }
      event = analysis.event;
      if (analysis.findings.length === 0 && !isOperationEnd(event)) {
        if (deps.inventory && snapshot) deps.inventory.update(applyChange(snapshot, event));
        return { outcome: 'handled', findings: [], incidents: [] };
      }
      // Evidence for the self-check that watched changes still arrive.
      // A note that cannot be written must not cost the delivery: the self-check allows for gaps.
      await store.noteDelivery(now().toISOString()).catch((error: Error) => {
        log('WARNING', `could not note the delivery for the self-check: ${error.message}`);
      });
      if (await store.isProcessed(key)) return duplicate(key, log);
      event = await withOperation(analysis.event);
      findings = event === analysis.event ? analysis.findings : detect(event, snapshot);
      // Live state shows an operation's outcome only once it completes: its last entry is verified.
      if (deps.live && isOperationStart(event)) {
        log('INFO', 'operation started: its findings are verified when it completes', {
          operation: event.source.operation?.id,
        });
        await store.markProcessed(key);
        return { outcome: 'handled', findings: [], incidents: [] };
      }
      findings = await confirm(findings, event, snapshot, log);
    }

    const { incidents, retryable } = await applyFindings(findings, key, log);
    // Onto the organization as it is now: deliveries handled at the same time each add their change.
    if (event && deps.inventory && snapshot) {
      deps.inventory.update(applyChange(deps.inventory.current() ?? snapshot, event));
    }
    if (retryable.length > 0) throw new RetryableDeliveryError(retryable);
    await store.markProcessed(key);
    return { outcome: 'handled', findings, incidents };
  }

  /**
   * Findings → incidents → notifications, exactly once per destination: each finding steps its
   * incident and claims the destinations it owes in one transaction, then tells them. `key` names
   * what the findings came from (a log entry, a sweep run): applying the same key twice changes
   * nothing. Returns what changed and the failures a retry can cure.
   */
  async function applyFindings(
    findings: readonly Finding[],
    key: string,
    log: Logger['log'] = (severity, message, fields) => logger.log(severity, message, fields),
    options: StepOptions = {},
  ): Promise<{ incidents: HandleResult['incidents']; retryable: Error[] }> {
    const incidents: HandleResult['incidents'] = [];
    const retryable: Error[] = [];
    const silences = findings.length > 0 ? await store.listSilences() : [];
    // Symptoms already seen become the evidence of the incidents these findings open.
    if (symptoms) options = await symptoms.withEvidence(findings, options);
    // Declared plans (stored beside the silences) and the routing file's standing ones.
    options = {
      ...options,
      planOf: (finding) => planFor(finding, silences, deps.routing.plans ?? [], now()),
    };
    // This delivery's identity in claims: another delivery of the same entry is another claimant.
    const token = randomUUID();
    for (const finding of findings) {
      const at = now();
      const told = await changeAndTell(
        deps,
        finding.fingerprint,
        (current) => {
          const next = step(current, finding, key, at, options);
          return { ...(next.next ? { next: next.next } : {}), result: next.transition };
        },
        { silences, at, token },
      );
      const { incident, result: transition } = told;
      if (incident === undefined) continue;
      if (told.busy.length > 0) {
        // Not ours to send now; failing makes Pub/Sub bring this entry back, and by then it is told
        // (nothing left to do) or the other delivery failed (and this one may take its turn).
        retryable.push(
          new Error(`another delivery is sending incident ${incident.id} to ${told.busy.join(', ')}`),
        );
      }
      if (transition) {
        log('NOTICE', `incident ${transition}: ${finding.summary}`, {
          incident: incident.id,
          fingerprint: incident.fingerprint,
          transition,
        });
      }
      for (const error of told.permanent) {
        log('ERROR', `notification failed permanently: ${error.message}`, { incident: incident.id });
      }
      for (const error of told.retryable) {
        log('WARNING', `notification failed, will be retried: ${error.message}`, {
          incident: incident.id,
        });
      }
      retryable.push(...told.retryable);
      incidents.push({ incident, ...(transition ? { transition } : {}), sent: told.sent });
    }
    if (symptoms) retryable.push(...(await symptoms.afterApply(incidents, log)));
    return { incidents, retryable };
  }

  /**
   * Only what live state agrees with goes on: a break already undone resolves (any open incident for
   * it closes), a repair not yet visible is dropped (the incident stays open). A lookup that a retry
   * can cure fails the delivery so Pub/Sub brings it back.
   */
  async function confirm(
    findings: Finding[],
    event: ChangeEvent,
    snapshot: Snapshot | undefined,
    log: Logger['log'],
  ): Promise<Finding[]> {
    if (findings.length === 0) return findings;
    const after = deps.live || !snapshot || !deps.inventory ? undefined : applyChange(snapshot, event);
    const live = deps.live ?? (after ? snapshotState(() => after) : undefined);
    if (live === undefined) return findings;
    let verdicts: Awaited<ReturnType<typeof verify>>;
    try {
      verdicts = await verify(findings, live, { ...(snapshot ? { inventory: snapshot } : {}), now });
    } catch (error) {
      if (error instanceof LookupError && error.retryable) throw new RetryableDeliveryError([error]);
      throw error;
    }
    const kept: Finding[] = [];
    for (const [index, verdict] of verdicts.entries()) {
      const detected = findings[index] as Finding;
      if (verdict.outcome === 'confirmed') {
        kept.push(verdict.finding);
        continue;
      }
      log(verdict.outcome === 'refuted' ? 'INFO' : 'WARNING', `${verdict.outcome}: ${verdict.reason}`, {
        fingerprint: detected.fingerprint,
        detected: detected.status,
      });
      // A repair live state does not show yet changes nothing; the rest goes on as the verdict says.
      if (verdict.outcome === 'refuted' && detected.status === 'resolved') continue;
      kept.push(verdict.finding);
    }
    return kept;
  }

  function duplicate(key: string, log: Logger['log']): HandleResult {
    log('INFO', 'duplicate delivery acknowledged', { entry: key });
    return { outcome: 'duplicate', findings: [], incidents: [] };
  }

  /**
   * GKE logs the request and actor on an operation's `first` entry and only the outcome on `last`:
   * keep the first, and let the last confirm it with the first's request and actor.
   */
  async function withOperation(event: ChangeEvent): Promise<ChangeEvent> {
    const operation = event.source.operation;
    if (operation === undefined || !isOperation(event)) return event;
    // A first entry gets here only with findings (the rest returned early): worth remembering.
    if (operation.first && !operation.last) {
      await store.rememberOperation({ id: operation.id, event, recordedAt: now().toISOString() });
      return event;
    }
    if (!operation.last || operation.first) return event;
    const first = (await store.operation(operation.id))?.event as ChangeEvent | undefined;
    if (first === undefined || first.type !== event.type) return event;
    return { ...first, source: { ...first.source, ...pick(event.source), operation } } as ChangeEvent;
  }

  /** An operation whose `last` entry failed never happened: its first entry's findings resolve. */
  async function failedOperation(
    delivery: Delivery,
    reason: string,
    snapshot: Snapshot | undefined,
  ): Promise<Finding[]> {
    const operation = delivery.entry.operation;
    if (!operation?.id || !isFailedOperation(delivery, reason)) return [];
    const first = (await store.operation(operation.id))?.event as ChangeEvent | undefined;
    if (first === undefined) return [];
    return detect(first, snapshot)
      .filter((finding) => finding.status === 'firing')
      .map((finding) => ({
        ...finding,
        status: 'resolved' as const,
        summary: `the operation that would have broken this failed (${reason}): ${finding.summary}`,
        cause: {
          ...(finding.cause ?? { method: first.source.method }),
          ...(delivery.entry.insertId ? { insertId: delivery.entry.insertId } : {}),
        },
      }));
  }

  return { handle, applyFindings, symptoms };
}

/** A GKE long-running operation (Kubernetes entries carry `operation` too, always first and last). */
function isOperation(event: ChangeEvent): boolean {
  return event.source.operation !== undefined && !event.source.method.startsWith('io.k8s.');
}

/**
 * Whether the change's meaning depends on the organization before it: what a KSA's new annotation
 * names, which namespace policies a new one joins, which pools a cluster joining WI left behind. A
 * node pool change says all by itself (unless it already gave findings, whose impact the inventory
 * tells).
 */
function dependsOnBefore(event: ChangeEvent, findings: readonly Finding[]): boolean {
  return findings.length > 0 || event.type !== 'nodepool';
}

/** The `first` entry of a GKE operation still running: it says what was asked, not what happened. */
function isOperationStart(event: ChangeEvent): boolean {
  return isOperation(event) && event.source.operation?.first === true && !event.source.operation.last;
}

/** The `last` entry of a GKE operation: only its `first` entry can say what it did. */
function isOperationEnd(event: ChangeEvent): boolean {
  return isOperation(event) && event.source.operation?.last === true && !event.source.operation.first;
}

function isFailedOperation(delivery: Delivery, reason: string): boolean {
  const operation = delivery.entry.operation;
  return Boolean(
    operation?.id && operation.last && !operation.first && reason.startsWith('the request failed'),
  );
}

function pick(source: ChangeEvent['source']) {
  return {
    ...(source.insertId ? { insertId: source.insertId } : {}),
    ...(source.time ? { time: source.time } : {}),
  };
}

/** The log entry's identity: insertId (unique per log), else the Pub/Sub message id, else its content. */
export function entryKey(delivery: Delivery): string {
  const { entry } = delivery;
  if (entry.insertId) return `${entry.logName ?? ''}|${entry.insertId}`;
  if (delivery.messageId) return `message|${delivery.messageId}`;
  return `content|${createHash('sha256').update(JSON.stringify(entry)).digest('hex')}`;
}
