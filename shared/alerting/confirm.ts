import type { Finding } from '../domain/finding.ts';
import { LookupError } from '../errors.ts';
import type { ChangeEvent } from '../events/change-event.ts';
import type { LiveState } from '../gcp/ports.ts';
import { applyChange } from '../inventory/apply.ts';
import type { Snapshot } from '../inventory/snapshot.ts';
import { snapshotState } from '../live/snapshot-state.ts';
import { verify } from '../live/verify.ts';
import type { Logger } from '../log.ts';
import { RetryableDeliveryError } from './delivery.ts';

export interface ConfirmDeps {
  /** Live state (Google and Kubernetes APIs). */
  live?: LiveState;
  /** Whether the organization is simulated (WI_SNAPSHOT, replay): then it is its own live state. */
  simulated: boolean;
  now: () => Date;
}

/**
 * Only what live state agrees with goes on: a break already undone resolves (any open incident for
 * it closes), a repair not yet visible is dropped (the incident stays open). Without live state, a
 * simulated organization is checked as the event leaves it; with neither, findings are taken as
 * detected. A lookup that a retry can cure fails the delivery so Pub/Sub brings it back.
 */
export async function confirm(
  deps: ConfirmDeps,
  findings: Finding[],
  event: ChangeEvent,
  snapshot: Snapshot | undefined,
  log: Logger['log'],
): Promise<Finding[]> {
  if (findings.length === 0) return findings;
  const after = deps.live || !snapshot || !deps.simulated ? undefined : applyChange(snapshot, event);
  const live = deps.live ?? (after ? snapshotState(() => after) : undefined);
  if (live === undefined) return findings;
  let verdicts: Awaited<ReturnType<typeof verify>>;
  try {
    verdicts = await verify(findings, live, { ...(snapshot ? { inventory: snapshot } : {}), now: deps.now });
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
