import { createHash } from 'node:crypto';
import type { Finding } from '../domain/finding.ts';
import type { Incident, TransitionType } from '../domain/incident.ts';
import type { Delivery } from '../events/decode.ts';

/**
 * One delivery, as the event path answers it: its identity (applying the same log entry twice
 * changes nothing), what became of it, and the error that makes Pub/Sub bring it back.
 */

export type IncidentOutcome = { incident: Incident; transition?: TransitionType; sent: string[] };

export interface HandleResult {
  outcome: 'invalid' | 'ignored' | 'duplicate' | 'handled';
  reason?: string;
  findings: Finding[];
  incidents: IncidentOutcome[];
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

/** The log entry's identity: insertId (unique per log), else the Pub/Sub message id, else its content. */
export function entryKey(delivery: Delivery): string {
  const { entry } = delivery;
  if (entry.insertId) return `${entry.logName ?? ''}|${entry.insertId}`;
  if (delivery.messageId) return `message|${delivery.messageId}`;
  return `content|${createHash('sha256').update(JSON.stringify(entry)).digest('hex')}`;
}
