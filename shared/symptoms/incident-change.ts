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
 * edit) but no transition is recorded, and the senders are asked for an edit, not a page: Slack's
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

/**
 * Destination states before this delivery: whether every change it is owed is an evidence refresh
 * (no recorded transition after what it was last told).
 */
function refreshOnly(incident: Incident, key: string): boolean {
  const told = incident.notifications[key]?.seq ?? 0;
  return told > 0 && !incident.transitions.some((t) => t.seq > told);
}

/**
 * The senders, asking for an edit where only evidence changed. `transition: 'opened'` with the
 * standing message is what makes the Slack sender edit without a thread reply, and the PagerDuty
 * sender trigger (an update under the same dedup_key).
 */
export function refreshSenders(senders: Senders, incident: Incident): Senders {
  const slack = senders.slack;
  const pagerduty = senders.pagerduty;
  return {
    ...(slack
      ? {
          slack: {
            send: (channel, delivery) =>
              slack.send(
                channel,
                refreshOnly(incident, destinationKey({ type: 'slack', channel }))
                  ? { ...delivery, transition: 'opened' }
                  : delivery,
              ),
          },
        }
      : {}),
    ...(pagerduty
      ? {
          pagerduty: {
            async send(routingKey, delivery) {
              if (!refreshOnly(incident, destinationKey({ type: 'pagerduty', routingKey }))) {
                return pagerduty.send(routingKey, delivery);
              }
              // A trigger would reopen a resolved alert: failures after a repair are Slack's to show.
              if (delivery.incident.status === 'resolved') return;
              return pagerduty.send(routingKey, { ...delivery, transition: 'opened' });
            },
          },
        }
      : {}),
  };
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
  const report = await deliver(incident, claimed, refreshSenders(deps.senders, incident), {
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
