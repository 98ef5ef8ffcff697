import { randomUUID } from 'node:crypto';
import type { Incident, Silence } from '../incidents/incident.ts';
import type { IncidentStore } from '../incidents/store.ts';
import { CLAIM_TTL_MS, claimDestinations, deliver, settleClaims } from '../notify/deliver.ts';
import { destinationKey, type Routing, route } from '../notify/routing.ts';
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
  store: Pick<IncidentStore, 'transact'>;
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
  const token = randomUUID();
  const stepped = await deps.store.transact(fingerprint, (current) => {
    if (current === undefined) return { result: undefined };
    const changed = change(current);
    const incident = changed ?? current;
    const claims = claimDestinations(
      incident,
      route(incident.finding, deps.routing),
      token,
      at,
      deps.claimTtlMs ?? CLAIM_TTL_MS,
    );
    return {
      ...(changed !== undefined || claims.mine.length > 0 ? { next: claims.incident } : {}),
      result: { incident: claims.incident, changed: changed !== undefined, mine: claims.mine },
    };
  });
  if (stepped === undefined) return { changed: false, sent: [], permanent: [], retryable: [] };
  const { incident, mine } = stepped;
  if (mine.length === 0)
    return { incident, changed: stepped.changed, sent: [], permanent: [], retryable: [] };
  const claimed = route(incident.finding, deps.routing).filter((d) => mine.includes(destinationKey(d)));
  const report = await deliver(incident, claimed, deps.senders, {
    silences,
    now: at,
  });
  const stored = await deps.store.transact(fingerprint, (current) => {
    if (current?.id !== incident.id) return { result: incident };
    const next: Incident = { ...current, notifications: settleClaims(current, report, mine, token) };
    if (report.silencedBy) next.silencedBy = report.silencedBy;
    return { next, result: next };
  });
  return {
    incident: stored,
    changed: stepped.changed,
    sent: report.sent.map((s) => `${s.destination} ${s.transition}`),
    permanent: report.permanent,
    retryable: report.retryable,
  };
}

/** Whether a destination is still owed a change of the incident, and nobody is sending it now. */
export function owes(incident: Incident, routing: Routing, now: Date): boolean {
  if (incident.silencedBy) return false;
  return route(incident.finding, routing).some((destination) => {
    const state = incident.notifications[destinationKey(destination)];
    if ((state?.seq ?? 0) >= incident.seq) return false;
    return state?.claim === undefined || Date.parse(state.claim.until) <= now.getTime();
  });
}
