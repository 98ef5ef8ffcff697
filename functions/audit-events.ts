import type { FindingSeverity } from '../shared/detect/finding.ts';
import type { Snapshot } from '../shared/inventory/snapshot.ts';
import type { Logger, Severity } from '../shared/log.ts';
import { analyze } from '../shared/pipeline.ts';

const LOG_SEVERITY: Record<FindingSeverity, Severity> = {
  critical: 'CRITICAL',
  error: 'ERROR',
  warning: 'WARNING',
  info: 'INFO',
};

export interface AuditEventsDeps {
  logger: Logger;
  /** The simulated organization (WI_SNAPSHOT), when there is one. */
  snapshot?: Snapshot;
}

/**
 * auditEvents: decode → classify → detect → one structured log line per finding. Undecodable or
 * irrelevant input is logged with its reason and acknowledged (returning normally), never retried.
 */
export function createAuditEventsHandler({ logger, snapshot }: AuditEventsDeps) {
  return async (event: unknown): Promise<void> => {
    const analysis = analyze(event, snapshot);
    const eventId = idOf(event);
    if (analysis.outcome === 'invalid') {
      logger.log('WARNING', `undecodable delivery acknowledged: ${analysis.error}`, { eventId });
      return;
    }
    const insertId = analysis.delivery.entry.insertId;
    if (analysis.outcome === 'ignored') {
      logger.log('DEBUG', `ignored: ${analysis.reason}`, { eventId, insertId });
      return;
    }
    for (const finding of analysis.findings) {
      logger.log(LOG_SEVERITY[finding.severity], finding.summary, { eventId, insertId, finding });
    }
  };
}

function idOf(event: unknown): string | undefined {
  const id = (event as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
}
