import type { Incident, NotificationState, Silence } from '../domain/incident.ts';
import { activeSilence } from '../incidents/silences.ts';
import { NotifyError } from './errors.ts';
import { destinationKey } from './routing.ts';
import type { DeliveryTransition, Destination, Senders } from './types.ts';

/**
 * Tells each destination what it has not been told of the incident yet. Each destination's progress
 * is recorded per transition (`notifications[key].seq`), so a redelivered event retries only the
 * destinations that failed. A permanent failure is recorded with its reason and not retried.
 */
export interface DeliveryReport {
  /** The destinations' new states, to be stored with the incident. */
  notifications: Record<string, NotificationState>;
  /** The silence that held the incident back, if one did. */
  silencedBy?: string;
  sent: { destination: string; transition: string }[];
  permanent: NotifyError[];
  retryable: Error[];
}

/**
 * How long a claim keeps other deliveries off a destination: longer than one send may take (Slack's
 * deadline is 30 s, PagerDuty's budget 20 s, both by default), short enough that a delivery that
 * died while sending does not hold the destination for long (its message comes back and retries).
 */
export const CLAIM_TTL_MS = 120_000;

export interface Claims {
  /** The incident with this delivery's claims added (unchanged when it claimed nothing). */
  incident: Incident;
  /** Destination keys this delivery claimed: it, and nobody else now, tells them what they are owed. */
  mine: string[];
  /** Destination keys owed something that another delivery is sending right now. */
  busy: string[];
}

/**
 * Pure, for the transaction that steps the incident: claims, for the delivery `token`, each
 * destination still owed a transition that no other delivery is sending. Two deliveries of the same
 * entry, or of two changes to one incident, that run at once (Pub/Sub duplicates, a redelivery
 * past the ack deadline, two instances) would otherwise both read "not told yet" and both tell.
 */
export function claimDestinations(
  incident: Incident,
  destinations: readonly Destination[],
  token: string,
  now: Date,
  ttlMs = CLAIM_TTL_MS,
): Claims {
  const notifications = { ...incident.notifications };
  const mine: string[] = [];
  const busy: string[] = [];
  for (const destination of destinations) {
    const key = destinationKey(destination);
    const state = notifications[key] ?? { seq: 0 };
    if (state.seq >= incident.seq) continue;
    const claim = state.claim;
    if (claim && claim.token !== token && Date.parse(claim.until) > now.getTime()) {
      busy.push(key);
      continue;
    }
    notifications[key] = { ...state, claim: { token, until: new Date(now.getTime() + ttlMs).toISOString() } };
    mine.push(key);
  }
  return { incident: mine.length > 0 ? { ...incident, notifications } : incident, mine, busy };
}

/**
 * The destination states to store once the claimed destinations were told (or failed): each claimed
 * one gets its outcome from `report`, and the claim goes. A claim another delivery has taken over
 * since (ours expired) is theirs to settle.
 */
export function settleClaims(
  current: Incident,
  report: DeliveryReport,
  mine: readonly string[],
  token: string,
): Record<string, NotificationState> {
  const notifications = { ...current.notifications };
  for (const key of mine) {
    const now = current.notifications[key];
    if (now?.claim !== undefined && now.claim.token !== token) continue;
    const { claim: _, ...outcome } = report.notifications[key] ?? now ?? { seq: 0 };
    if (now !== undefined && now.seq > outcome.seq) continue;
    notifications[key] = outcome;
  }
  return notifications;
}

export async function deliver(
  incident: Incident,
  destinations: readonly Destination[],
  senders: Senders,
  { silences = [], now = new Date() }: { silences?: readonly Silence[]; now?: Date } = {},
): Promise<DeliveryReport> {
  const report: DeliveryReport = {
    notifications: { ...incident.notifications },
    sent: [],
    permanent: [],
    retryable: [],
  };
  const silence = activeSilence(incident.finding, silences, now, incident.id);
  if (silence) report.silencedBy = silence.id;
  await Promise.all(
    destinations.map(async (destination) => {
      const key = destinationKey(destination);
      const state = report.notifications[key] ?? { seq: 0 };
      if (state.seq >= incident.seq) return;
      // Nothing was ever said here (silenced, or routed later): there is nothing to resolve.
      if (incident.status === 'resolved' && state.seq === 0) {
        report.notifications[key] = { ...state, seq: incident.seq };
        return;
      }
      const transition = transitionFor(incident, state.seq);
      // A silence holds back new pages only: nothing reaches a destination never told, and PagerDuty
      // is not triggered again. A message already standing still shows the incident as it is
      // (acknowledged, silenced, turned green by the repair), and PagerDuty is still resolved.
      if (silence && (state.seq === 0 || (destination.type === 'pagerduty' && pages(incident, transition))))
        return;
      try {
        const next: NotificationState = { seq: incident.seq };
        if (destination.type === 'slack') {
          if (!senders.slack)
            throw new NotifyError('slack', 'no Slack token configured', { retryable: false });
          next.slack = await senders.slack.send(destination.channel, {
            incident,
            transition,
            ...(state.slack ? { slack: state.slack } : {}),
            ...(state.unconfirmedPostAt ? { unconfirmedPostSince: state.unconfirmedPostAt } : {}),
          });
        } else {
          if (!senders.pagerduty)
            throw new NotifyError('pagerduty', 'no PagerDuty sender configured', { retryable: false });
          await senders.pagerduty.send(destination.routingKey, { incident, transition });
          if (state.slack) next.slack = state.slack;
        }
        report.notifications[key] = next;
        report.sent.push({ destination: key, transition });
      } catch (error) {
        if (error instanceof NotifyError && !error.retryable) {
          report.notifications[key] = { ...state, seq: incident.seq, error: error.message };
          report.permanent.push(error);
        } else {
          // A post that may stand without our knowing: the retry looks for it before posting again.
          if (error instanceof NotifyError && error.unconfirmed && state.slack === undefined) {
            report.notifications[key] = {
              ...state,
              unconfirmedPostAt: state.unconfirmedPostAt ?? now.toISOString(),
            };
          }
          report.retryable.push(error as Error);
        }
      }
    }),
  );
  return report;
}

/** Whether telling PagerDuty `transition` could page someone (a trigger), rather than resolve or acknowledge. */
function pages(incident: Incident, transition: DeliveryTransition): boolean {
  return transition !== 'resolved' && !(transition === 'refreshed' && incident.acknowledged);
}

/**
 * What a destination last told at `told` is owed now: `refreshed` when no transition was recorded
 * since (the incident's evidence changed, not its state), else the incident's state.
 */
export function transitionFor(incident: Incident, told: number): DeliveryTransition {
  if (told > 0 && !incident.transitions.some((t) => t.seq > told)) return 'refreshed';
  if (incident.status === 'resolved') return 'resolved';
  return told === 0 ? 'opened' : 'updated';
}
