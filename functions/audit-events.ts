import { type AlertingDeps, createAlerting } from '../shared/alerting/alerting.ts';
import { RetryableDeliveryError } from '../shared/alerting/delivery.ts';
import type { FindingSeverity } from '../shared/domain/finding.ts';
import { StoreError } from '../shared/errors.ts';
import type { Logger, Severity } from '../shared/log.ts';
import { idOf } from './cloud-event.ts';

const LOG_SEVERITY: Record<FindingSeverity, Severity> = {
  critical: 'CRITICAL',
  error: 'ERROR',
  warning: 'WARNING',
  info: 'INFO',
};

/**
 * auditEvents: decode → classify → detect → incidents → notifications. Undecodable or irrelevant
 * input is logged with its reason and acknowledged; only a failure a retry can cure (Slack or
 * PagerDuty 5xx/429/timeouts, a transient store error) fails the invocation so Pub/Sub redelivers.
 */
export function createAuditEventsHandler(deps: AlertingDeps & { logger: Logger }) {
  const alerting = createAlerting(deps);
  return async (event: unknown): Promise<void> => {
    const eventId = idOf(event);
    try {
      const result = await alerting.handle(event, { eventId });
      for (const finding of result.findings) {
        const severity = finding.status === 'firing' ? LOG_SEVERITY[finding.severity] : 'INFO';
        deps.logger.log(severity, finding.summary, { eventId, finding });
      }
      // A change that breaks or repairs nothing is acknowledged with its reason too, as every other
      // delivery is (undecodable, ignored, duplicate): otherwise it leaves no trace at all.
      if (result.outcome === 'handled' && result.findings.length === 0) {
        // The symptom path says what it did (a failure counted, evidence refreshed).
        const what = result.reason ?? 'the change breaks or repairs no Workload Identity link';
        deps.logger.log('DEBUG', `acknowledged: ${what}`, { eventId });
      }
    } catch (error) {
      if (error instanceof RetryableDeliveryError || (error instanceof StoreError && error.retryable)) {
        deps.logger.log('WARNING', `delivery will be retried: ${error.message}`, { eventId });
        throw error;
      }
      // Retrying cannot cure it: say why, and acknowledge, so one bad event cannot block the rest.
      deps.logger.log('ERROR', `event dropped after a permanent failure: ${(error as Error).message}`, {
        eventId,
      });
    }
  };
}
