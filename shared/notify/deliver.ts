import type { Incident, NotificationState, Silence } from '../incidents/incident.ts';
import { activeSilence } from '../incidents/silences.ts';
import { NotifyError } from './errors.ts';
import { destinationKey } from './routing.ts';
import type { Destination, Senders } from './types.ts';

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
  const silence = activeSilence(incident.finding, silences, now);
  if (silence) {
    report.silencedBy = silence.id;
    return report;
  }
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
      const transition = incident.status === 'resolved' ? 'resolved' : state.seq === 0 ? 'opened' : 'updated';
      try {
        const next: NotificationState = { seq: incident.seq };
        if (destination.type === 'slack') {
          if (!senders.slack)
            throw new NotifyError('slack', 'no Slack token configured', { retryable: false });
          next.slack = await senders.slack.send(destination.channel, {
            incident,
            transition,
            ...(state.slack ? { slack: state.slack } : {}),
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
          report.retryable.push(error as Error);
        }
      }
    }),
  );
  return report;
}
