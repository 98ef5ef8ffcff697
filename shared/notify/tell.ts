import type { Incident, Silence } from '../incidents/incident.ts';
import type { IncidentStore } from '../incidents/store.ts';
import { CLAIM_TTL_MS, claimDestinations, deliver, settleClaims } from './deliver.ts';
import { destinationKey, type Routing, routeIncident } from './routing.ts';
import type { Senders } from './types.ts';

/**
 * Changes an incident and tells its destinations what they are owed, exactly once each: one
 * transaction applies `change` and claims the destinations still owed (so a delivery running at the
 * same time cannot decide to tell them too), the claimed ones are told, and the outcome is settled
 * in a second transaction. Findings (alerting's applyFindings) and symptom evidence both go this way.
 */
export interface TellDeps {
  store: Pick<IncidentStore, 'transact'>;
  senders: Senders;
  routing: Routing;
  claimTtlMs?: number;
}

export interface Told<T> {
  /** The incident as stored after telling (undefined when there is none for the fingerprint). */
  incident?: Incident;
  result: T;
  /** Destinations another delivery is telling right now. */
  busy: string[];
  /** `destination transition`, one per destination told. */
  sent: string[];
  permanent: Error[];
  retryable: Error[];
}

interface Claimed<T> {
  result: T;
  incident?: Incident;
  mine: string[];
  busy: string[];
}

export async function changeAndTell<T>(
  deps: TellDeps,
  fingerprint: string,
  change: (current: Incident | undefined) => { next?: Incident; result: T },
  {
    silences,
    at,
    token,
  }: { silences: readonly Silence[]; at: Date /** this delivery's identity in claims */; token: string },
): Promise<Told<T>> {
  const stepped = await deps.store.transact<Claimed<T>>(fingerprint, (current) => {
    const { next, result } = change(current);
    const incident = next ?? current;
    if (incident === undefined) return { result: { result, mine: [], busy: [] } };
    const claims = claimDestinations(
      incident,
      routeIncident(incident, deps.routing),
      token,
      at,
      deps.claimTtlMs ?? CLAIM_TTL_MS,
    );
    return {
      ...(next !== undefined || claims.mine.length > 0 ? { next: claims.incident } : {}),
      result: { result, incident: claims.incident, mine: claims.mine, busy: claims.busy },
    };
  });
  const { incident, mine, busy, result } = stepped;
  const told: Told<T> = { result, busy, sent: [], permanent: [], retryable: [] };
  if (incident === undefined) return told;
  if (mine.length === 0) return { ...told, incident };
  const claimed = routeIncident(incident, deps.routing).filter((d) => mine.includes(destinationKey(d)));
  const report = await deliver(incident, claimed, deps.senders, { silences, now: at });
  const stored = await deps.store.transact(fingerprint, (current) => {
    if (current?.id !== incident.id) return { result: incident };
    const next: Incident = { ...current, notifications: settleClaims(current, report, mine, token) };
    if (report.silencedBy) next.silencedBy = report.silencedBy;
    return { next, result: next };
  });
  return {
    ...told,
    incident: stored,
    sent: report.sent.map((s) => `${s.destination} ${s.transition}`),
    permanent: report.permanent,
    retryable: report.retryable,
  };
}
