import { randomUUID } from 'node:crypto';
import type { Finding } from '../domain/finding.ts';
import type { Incident } from '../domain/incident.ts';
import { type StepOptions, step } from '../incidents/lifecycle.ts';
import { planFor } from '../incidents/plans.ts';
import { type IncidentStore, MAX_FINGERPRINTS_AT_ONCE } from '../incidents/store.ts';
import type { Logger } from '../log.ts';
import type { Routing } from '../notify/routing.ts';
import { changeAndTellAll } from '../notify/tell.ts';
import type { Senders } from '../notify/types.ts';
import type { IncidentOutcome } from './delivery.ts';

/**
 * Findings → incidents → notifications, exactly once per destination: each finding steps its
 * incident and claims the destinations it owes in one transaction, then tells them. `key` names what
 * the findings came from (a log entry, a sweep run): applying the same key twice changes nothing.
 */

export interface ApplyDeps {
  store: Pick<IncidentStore, 'listSilences' | 'transact' | 'transactAll'>;
  senders: Senders;
  routing: Routing;
  now: () => Date;
  /** How long a delivery's claim on a destination holds others off (see claimDestinations). */
  claimTtlMs?: number;
  /** The symptom path's side of it: evidence for incidents that open, links after they changed. */
  symptoms?: {
    withEvidence(findings: readonly Finding[], options: StepOptions): Promise<StepOptions>;
    afterApply(incidents: IncidentOutcome[], log: Logger['log']): Promise<Error[]>;
  };
}

export interface Applied {
  incidents: IncidentOutcome[];
  /** Failures a retry can cure. */
  retryable: Error[];
}

export async function applyFindings(
  deps: ApplyDeps,
  findings: readonly Finding[],
  key: string,
  log: Logger['log'],
  options: StepOptions = {},
): Promise<Applied> {
  const incidents: IncidentOutcome[] = [];
  const retryable: Error[] = [];
  const silences = findings.length > 0 ? await deps.store.listSilences() : [];
  // Symptoms already seen become the evidence of the incidents these findings open.
  if (deps.symptoms) options = await deps.symptoms.withEvidence(findings, options);
  const at = deps.now();
  // Declared plans (stored beside the silences) and the routing file's standing ones.
  options = { ...options, planOf: (finding) => planFor(finding, silences, deps.routing.plans ?? [], at) };
  // This delivery's identity in claims: another delivery of the same entry is another claimant.
  const token = randomUUID();
  // One write to step and claim, one to settle, per batch (a delivery is one batch: its findings are
  // bounded); a sweep's many findings go in batches a transaction can hold.
  for (const batch of batches(findings, TELL_BATCH)) {
    const told = await changeAndTellAll(
      deps,
      batch.map((finding) => ({
        fingerprint: finding.fingerprint,
        change: (current: Incident | undefined) => {
          const next = step(current, finding, key, at, options);
          return { ...(next.next ? { next: next.next } : {}), result: next.transition };
        },
      })),
      { silences, at, token },
    );
    for (const [index, outcome] of told.entries()) {
      const finding = batch[index] as Finding;
      const { incident, result: transition } = outcome;
      if (incident === undefined) continue;
      if (outcome.busy.length > 0) {
        // Not ours to send now; failing makes Pub/Sub bring this entry back, and by then it is told
        // (nothing left to do) or the other delivery failed (and this one may take its turn).
        retryable.push(
          new Error(`another delivery is sending incident ${incident.id} to ${outcome.busy.join(', ')}`),
        );
      }
      if (transition) {
        log('NOTICE', `incident ${transition}: ${finding.summary}`, {
          incident: incident.id,
          fingerprint: incident.fingerprint,
          transition,
        });
      }
      for (const error of outcome.permanent) {
        log('ERROR', `notification failed permanently: ${error.message}`, { incident: incident.id });
      }
      for (const error of outcome.retryable) {
        log('WARNING', `notification failed, will be retried: ${error.message}`, { incident: incident.id });
      }
      retryable.push(...outcome.retryable);
      incidents.push({ incident, ...(transition ? { transition } : {}), sent: outcome.sent });
    }
  }
  if (deps.symptoms) retryable.push(...(await deps.symptoms.afterApply(incidents, log)));
  return { incidents, retryable };
}

/** Findings told per store write: distinct fingerprints, within what one transaction takes. */
const TELL_BATCH = MAX_FINGERPRINTS_AT_ONCE / 2;

/** `findings` in consecutive batches of at most `size` distinct fingerprints. */
function batches(findings: readonly Finding[], size: number): Finding[][] {
  const all: Finding[][] = [];
  let batch: Finding[] = [];
  let prints = new Set<string>();
  for (const finding of findings) {
    if (!prints.has(finding.fingerprint) && prints.size === size) {
      all.push(batch);
      batch = [];
      prints = new Set();
    }
    batch.push(finding);
    prints.add(finding.fingerprint);
  }
  if (batch.length > 0) all.push(batch);
  return all;
}
