import { RetryableDeliveryError } from '../shared/alerting/delivery.ts';
import type { Finding } from '../shared/domain/finding.ts';
import { StoreError } from '../shared/errors.ts';
import type { IncidentStore } from '../shared/incidents/store.ts';
import type { Logger } from '../shared/log.ts';
import { type RunSweepOptions, runSweep, type SweptInventory } from '../shared/reconcile/run.ts';
import { type ResolveQuietOptions, resolveQuietSymptoms } from '../shared/symptoms/quiet.ts';
import { idOf } from './cloud-event.ts';

export interface ReconcileDeps {
  /** With `symptoms` (the symptom path), quiet credential-failure incidents are resolved each sweep. */
  alerting: RunSweepOptions['alerting'] & { symptoms?: ResolveQuietOptions['symptoms'] | undefined };
  store: IncidentStore;
  /** The whole organization: live (exportSnapshot) or the simulated one. */
  inventory: () => Promise<SweptInventory>;
  /** wi-sentinel's own health as `sentinel-degraded` findings (live only). */
  selfChecks?: () => Promise<Finding[]>;
  logger: Logger;
  now?: () => Date;
}

/**
 * reconcile: the scheduled sweep (Cloud Scheduler → wi-sentinel-reconcile). Self-checks first (the
 * delivery check counts from the previous sweep), then every link of every WI KSA judged and applied
 * through the same incidents as the event path, credential-failure incidents gone quiet resolved,
 * then the inventory kept as the last-known one (what
 * a later GSA deletion is mapped with, what /wi-status answers from). A failure a retry can cure
 * (a notification, the store) fails the run so Pub/Sub redelivers it; the redelivery has the same run
 * id, so what was already applied is not applied twice.
 */
export function createReconcileHandler(deps: ReconcileDeps) {
  const now = deps.now ?? (() => new Date());
  return async (event: unknown): Promise<void> => {
    const runId = idOf(event) ?? now().toISOString();
    const log: Logger['log'] = (severity, message, fields = {}) =>
      deps.logger.log(severity, message, { sweep: runId, ...fields });
    try {
      const degraded = deps.selfChecks ? await deps.selfChecks() : [];
      const report = await runSweep({
        inventory: deps.inventory,
        alerting: deps.alerting,
        store: deps.store,
        now,
        runId,
        logger: deps.logger,
      });
      const checked = await deps.alerting.applyFindings(degraded, `self-check:${runId}`, log, {
        quietRepeats: true,
      });
      // Credential failures that stopped: their incidents resolve after the quiet window.
      const quiet = deps.alerting.symptoms
        ? await resolveQuietSymptoms({ symptoms: deps.alerting.symptoms, runId, logger: deps.logger, now })
        : { retryable: [] };
      const saved = await deps.store.saveInventory(report.snapshot, {
        sweptAt: report.sweptAt,
        projects: report.projects,
        problems: report.problems.map((problem) => problem.message),
      });
      if (!saved) log('INFO', 'a later sweep already saved its inventory: this one is not kept');
      const retryable = [...report.retryable, ...checked.retryable, ...quiet.retryable];
      if (retryable.length > 0) throw new RetryableDeliveryError(retryable);
    } catch (error) {
      if (error instanceof RetryableDeliveryError || (error instanceof StoreError && error.retryable)) {
        log('WARNING', `sweep will be retried: ${error.message}`);
        throw error;
      }
      // The next scheduled sweep runs anyway: say why this one failed, and acknowledge.
      log('ERROR', `sweep failed: ${(error as Error).message}`);
    }
  };
}
