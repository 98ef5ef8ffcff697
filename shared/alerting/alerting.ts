import type { Finding } from '../domain/finding.ts';
import type { LiveState } from '../gcp/ports.ts';
import type { StepOptions } from '../incidents/lifecycle.ts';
import type { IncidentStore } from '../incidents/store.ts';
import { applyChange } from '../inventory/apply.ts';
import type { Snapshot } from '../inventory/snapshot.ts';
import type { Logger } from '../log.ts';
import type { Routing } from '../notify/routing.ts';
import type { Senders } from '../notify/types.ts';
import { analyze } from '../pipeline.ts';
import type { SymptomOptions } from '../symptoms/group.ts';
import { createSymptoms } from '../symptoms/path.ts';
import { type Applied, applyFindings as apply } from './apply.ts';
import { entryKey, type HandleResult, RetryableDeliveryError } from './delivery.ts';
import { judgeChange, judgeIgnored } from './judge.ts';

/**
 * The whole event path after decoding: findings → incidents → notifications, exactly once per
 * destination under at-least-once delivery. The entry is marked processed only when every effect is
 * done; a retryable failure throws so Pub/Sub redelivers, and the redelivery finds the state already
 * applied and retries only what is still owed.
 *
 *   handle: symptom path (symptoms/path.ts) | analyze (pipeline.ts) → judge (judge.ts: operations.ts,
 *           confirm.ts) → applyFindings (apply.ts) → the organization evolves → processed
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
  const judgeDeps = { ...deps, now };
  const applyDeps = {
    store,
    senders: deps.senders,
    routing: deps.routing,
    now,
    ...(deps.claimTtlMs !== undefined ? { claimTtlMs: deps.claimTtlMs } : {}),
    ...(symptoms ? { symptoms } : {}),
  };

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
    const before = deps.inventory?.current();
    const analysis = analyze(input, before);
    if (analysis.outcome === 'invalid') {
      log('WARNING', `undecodable delivery acknowledged: ${analysis.error}`);
      return { outcome: 'invalid', reason: analysis.error, findings: [], incidents: [] };
    }
    const key = entryKey(analysis.delivery);
    const judged =
      analysis.outcome === 'ignored'
        ? await judgeIgnored(judgeDeps, analysis, key, before, log)
        : await judgeChange(judgeDeps, analysis, key, before, log);
    if ('answer' in judged) return judged.answer;
    const { findings, event, snapshot } = judged;
    const { incidents, retryable } = await applyFindings(findings, key, log);
    // Onto the organization as it is now: deliveries handled at the same time each add their change.
    if (event && deps.inventory && snapshot) {
      deps.inventory.update(applyChange(deps.inventory.current() ?? snapshot, event));
    }
    if (retryable.length > 0) throw new RetryableDeliveryError(retryable);
    await store.markProcessed(key);
    return { outcome: 'handled', findings, incidents };
  }

  /** Findings → incidents → notifications (apply.ts), with the symptom path's evidence and links. */
  function applyFindings(
    findings: readonly Finding[],
    key: string,
    log: Logger['log'] = (severity, message, fields) => logger.log(severity, message, fields),
    options: StepOptions = {},
  ): Promise<Applied> {
    return apply(applyDeps, findings, key, log, options);
  }

  return { handle, applyFindings, symptoms };
}
