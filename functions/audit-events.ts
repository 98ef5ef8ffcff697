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
      // One line per delivery, with counts: a change that touches thousands of links is one line
      // and a bounded number of incidents, plus a line for each firing finding (what pages).
      const firing = result.findings.filter((finding) => finding.status === 'firing');
      const transitions = { opened: 0, updated: 0, resolved: 0 };
      for (const { transition } of result.incidents) if (transition) transitions[transition] += 1;
      if (result.outcome === 'handled') {
        // The symptom path says what it did (a failure counted, evidence refreshed).
        const what =
          result.reason ??
          (result.findings.length === 0
            ? 'the change breaks or repairs no Workload Identity link'
            : `${firing.length} firing, ${result.findings.length - firing.length} resolved`);
        deps.logger.log('INFO', `delivery handled: ${what}`, {
          eventId,
          findings: { firing: firing.length, resolved: result.findings.length - firing.length },
          incidents: transitions,
        });
      }
      for (const finding of firing) {
        deps.logger.log(LOG_SEVERITY[finding.severity], finding.summary, { eventId, finding });
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
