import { randomUUID } from 'node:crypto';
import type { Incident, Silence } from '../domain/incident.ts';
import type { IncidentStore } from '../incidents/store.ts';
import { destinationKey, type Routing, routeIncident } from '../notify/routing.ts';
import { changeAndTell } from '../notify/tell.ts';
import type { Senders } from '../notify/types.ts';

/**
 * Changes an incident outside the finding lifecycle (fresh evidence, an explanation found) and tells
 * its destinations what they are owed, exactly once each, as alerting's applyFindings does: one
 * transaction changes the incident and claims the destinations, they are told, the outcome is settled.
 *
 * A refresh that changes only evidence is no news: `seq` moves (so every destination is owed the
 * edit) but no transition is recorded, so deliver asks the senders for a `refreshed` delivery: Slack's
 * message is edited in place without a thread reply, PagerDuty's alert is triggered again under the
 * same dedup_key (its details change, no new incident), and a resolved alert is left resolved.
 */

export interface ChangeDeps {
  store: Pick<IncidentStore, 'transactAll'>;
  senders: Senders;
  routing: Routing;
  now: () => Date;
  claimTtlMs?: number;
}

export interface Changed {
  incident?: Incident;
  /** Whether `change` changed the incident (claims alone do not count). */
  changed: boolean;
  sent: string[];
  permanent: Error[];
  retryable: Error[];
}

export async function changeIncident(
  deps: ChangeDeps,
  fingerprint: string,
  change: (incident: Incident) => Incident | undefined,
  silences: readonly Silence[],
): Promise<Changed> {
  const at = deps.now();
  const told = await changeAndTell(
    deps,
    fingerprint,
    (current) => {
      const next = current === undefined ? undefined : change(current);
      return { ...(next ? { next } : {}), result: next !== undefined };
    },
    { silences, at, token: randomUUID() },
  );
  return {
    ...(told.incident ? { incident: told.incident } : {}),
    changed: told.result,
    sent: told.sent,
    permanent: told.permanent,
    retryable: told.retryable,
  };
}

/** Whether a destination is still owed a change of the incident, and nobody is sending it now. */
export function owes(incident: Incident, routing: Routing, now: Date): boolean {
  if (incident.silencedBy) return false;
  return routeIncident(incident, routing).some((destination) => {
    const state = incident.notifications[destinationKey(destination)];
    if ((state?.seq ?? 0) >= incident.seq) return false;
    return state?.claim === undefined || Date.parse(state.claim.until) <= now.getTime();
  });
}
