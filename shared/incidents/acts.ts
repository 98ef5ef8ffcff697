import type { Incident, IncidentActivity, Silence } from '../domain/incident.ts';

/**
 * What people do about an incident where it is shown (the buttons of its Slack message, PagerDuty's
 * webhooks), as pure changes of the stored incident. Each act is recorded in `activity` under its
 * own key: the same act again (a double click, a redelivery) changes nothing. An act that changes
 * what the incident shows owes its destinations a refresh: `seq` goes up without a transition, so
 * each destination is told `refreshed` (the Slack message edited in place, PagerDuty acknowledged),
 * except those that already know (`aware`: PagerDuty, for what came from PagerDuty).
 */

/** Acts kept on an incident: enough for `/wi-status incidents` and the message, small in the store. */
export const MAX_ACTIVITY = 20;

export type Act = Omit<IncidentActivity, 'type'>;

export type ActOutcome =
  | { outcome: 'changed'; next: Incident }
  /** Nothing to do: said why, for the person who asked (a note, never an error). */
  | { outcome: 'unchanged'; why: 'already' | 'resolved' | 'not-acknowledged' | 'not-silenced' };

/** The incident with `activity` recorded, and a refresh owed everywhere but `aware` (destination key prefixes). */
function record(
  incident: Incident,
  activity: IncidentActivity,
  change: Partial<Incident>,
  drop: (keyof Incident)[] = [],
  aware: readonly string[] = [],
): Incident {
  const next: Incident = { ...incident, ...change, updatedAt: activity.at, seq: incident.seq + 1 };
  for (const key of drop) delete next[key];
  next.activity = [...(incident.activity ?? []), activity].slice(-MAX_ACTIVITY);
  if (aware.length > 0) {
    next.notifications = Object.fromEntries(
      Object.entries(incident.notifications).map(([key, state]) =>
        aware.some((prefix) => key.startsWith(prefix)) && state.seq === incident.seq
          ? [key, { ...state, seq: next.seq }]
          : [key, state],
      ),
    );
  }
  return next;
}

const known = (incident: Incident, key: string) => incident.activity?.some((a) => a.key === key) ?? false;

/** What stops an act on an open incident: the same act done already, or the incident resolved. */
function stopped(incident: Incident, act: Act): ActOutcome | undefined {
  if (known(incident, act.key)) return { outcome: 'unchanged', why: 'already' };
  if (incident.status === 'resolved') return { outcome: 'unchanged', why: 'resolved' };
  return undefined;
}

/** PagerDuty's destinations: what came from PagerDuty is not told back to it. */
export const PAGERDUTY_DESTINATIONS = ['pagerduty:'];

export function acknowledge(incident: Incident, act: Act): ActOutcome {
  const stop = stopped(incident, act);
  if (stop) return stop;
  if (incident.acknowledged) return { outcome: 'unchanged', why: 'already' };
  const aware = act.via === 'pagerduty' ? PAGERDUTY_DESTINATIONS : [];
  return {
    outcome: 'changed',
    next: record(
      incident,
      { ...act, type: 'acknowledged' },
      { acknowledged: { by: act.by, at: act.at, via: act.via } },
      [],
      aware,
    ),
  };
}

/** PagerDuty put the incident back to triggered (an acknowledgement timed out, or was undone). */
export function unacknowledge(incident: Incident, act: Act): ActOutcome {
  const stop = stopped(incident, act);
  if (stop) return stop;
  if (!incident.acknowledged) return { outcome: 'unchanged', why: 'not-acknowledged' };
  return {
    outcome: 'changed',
    next: record(
      incident,
      { ...act, type: 'unacknowledged' },
      {},
      ['acknowledged'],
      act.via === 'pagerduty' ? PAGERDUTY_DESTINATIONS : [],
    ),
  };
}

/** A silence set from the message: shown on it until it ends (`until`), or until the incident resolves. */
export function silenceOn(incident: Incident, silence: Silence, act: Act): ActOutcome {
  const stop = stopped(incident, act);
  if (stop) return stop;
  return {
    outcome: 'changed',
    next: record(
      incident,
      {
        ...act,
        type: 'silenced',
        detail: `${silence.endsWith ? 'until resolved' : `until ${silence.expiresAt}`}: ${silence.reason}`,
      },
      {
        silence: { id: silence.id, by: act.by, ...(silence.endsWith ? {} : { until: silence.expiresAt }) },
      },
    ),
  };
}

export function unsilenceOn(incident: Incident, act: Act): ActOutcome {
  if (known(incident, act.key)) return { outcome: 'unchanged', why: 'already' };
  if (incident.silence === undefined) return { outcome: 'unchanged', why: 'not-silenced' };
  return {
    outcome: 'changed',
    next: record(incident, { ...act, type: 'unsilenced', detail: incident.silence.id }, {}, ['silence']),
  };
}

/**
 * PagerDuty's incident was resolved by someone there. Not a repair: the incident stays open (live
 * state decides, at the next sweep or re-check), and the message says who closed it.
 */
export function closeInPagerDuty(incident: Incident, act: Act): ActOutcome {
  const stop = stopped(incident, act);
  if (stop) return stop;
  return {
    outcome: 'changed',
    next: record(
      incident,
      { ...act, type: 'resolved-in-pagerduty' },
      { closedInPagerDuty: { by: act.by, at: act.at } },
      [],
      PAGERDUTY_DESTINATIONS,
    ),
  };
}

export function reassign(incident: Incident, act: Act & { detail: string }): ActOutcome {
  const stop = stopped(incident, act);
  if (stop) return stop;
  return {
    outcome: 'changed',
    next: record(incident, { ...act, type: 'reassigned' }, {}, [], PAGERDUTY_DESTINATIONS),
  };
}

/** A re-check's outcome, kept for `/wi-status incidents`; its answer is the thread reply, so no refresh. */
export function noteRecheck(incident: Incident, act: Act & { detail: string }): Incident | undefined {
  if (known(incident, act.key)) return undefined;
  return {
    ...incident,
    activity: [...(incident.activity ?? []), { ...act, type: 'rechecked' as const }].slice(-MAX_ACTIVITY),
  };
}
