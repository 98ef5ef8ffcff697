import type { Incident, IncidentActivity, Silence } from '../domain/incident.ts';

/**
 * What people do about an incident where it is shown (the buttons of its Slack message, PagerDuty's
 * webhooks), as pure changes of the stored incident. Each act is recorded in `activity` under its
 * own key: the same act again (a double click, a redelivery) changes nothing. An act that changes
 * what the incident shows owes its destinations a refresh: `seq` goes up without a transition, so
 * each destination is told `refreshed` (the Slack message edited in place, PagerDuty acknowledged),
 * except where the act came from (PagerDuty, for what came from PagerDuty: it knows already).
 */

/** Acts kept on an incident: enough for `/wi-status incidents` and the message, small in the store. */
const MAX_ACTIVITY = 20;

export type Act = Omit<IncidentActivity, 'type'>;

type Why = 'already' | 'resolved' | 'not-acknowledged' | 'not-silenced';

export type ActOutcome =
  | { outcome: 'changed'; next: Incident }
  /** Nothing to do: said why, for the person who asked (a note, never an error). */
  | { outcome: 'unchanged'; why: Why };

/** What an act changes on the incident: fields set, fields dropped. */
type Change = { set?: Partial<Incident>; drop?: (keyof Incident)[] };

/** PagerDuty's destinations: what came from PagerDuty is not told back to it. */
const PAGERDUTY_DESTINATIONS = ['pagerduty:'];

const unchanged = (why: Why): ActOutcome => ({ outcome: 'unchanged', why });

const withActivity = (incident: Incident, activity: IncidentActivity): IncidentActivity[] =>
  [...(incident.activity ?? []), activity].slice(-MAX_ACTIVITY);

const known = (incident: Incident, key: string) => incident.activity?.some((a) => a.key === key) ?? false;

/**
 * The incident with `activity` recorded and `change` made, and a refresh owed everywhere but where
 * the act came from (PagerDuty's destinations, for what came from PagerDuty).
 */
function record(incident: Incident, activity: IncidentActivity, { set = {}, drop = [] }: Change): ActOutcome {
  const next: Incident = { ...incident, ...set, updatedAt: activity.at, seq: incident.seq + 1 };
  for (const key of drop) delete next[key];
  next.activity = withActivity(incident, activity);
  if (activity.via === 'pagerduty') {
    next.notifications = Object.fromEntries(
      Object.entries(incident.notifications).map(([key, state]) =>
        PAGERDUTY_DESTINATIONS.some((prefix) => key.startsWith(prefix)) && state.seq === incident.seq
          ? [key, { ...state, seq: next.seq }]
          : [key, state],
      ),
    );
  }
  return { outcome: 'changed', next };
}

/**
 * `record` on an open incident, unless stopped: the same act done already, the incident resolved,
 * or `unless` (why the act has nothing to do, as its caller judged).
 */
function recordOpen(
  incident: Incident,
  activity: IncidentActivity,
  change: Change,
  unless?: Why,
): ActOutcome {
  if (known(incident, activity.key)) return unchanged('already');
  if (incident.status === 'resolved') return unchanged('resolved');
  if (unless) return unchanged(unless);
  return record(incident, activity, change);
}

export function acknowledge(incident: Incident, act: Act): ActOutcome {
  return recordOpen(
    incident,
    { ...act, type: 'acknowledged' },
    { set: { acknowledged: { by: act.by, at: act.at, via: act.via } } },
    incident.acknowledged ? 'already' : undefined,
  );
}

/** PagerDuty put the incident back to triggered (an acknowledgement timed out, or was undone). */
export function unacknowledge(incident: Incident, act: Act): ActOutcome {
  return recordOpen(
    incident,
    { ...act, type: 'unacknowledged' },
    { drop: ['acknowledged'] },
    incident.acknowledged ? undefined : 'not-acknowledged',
  );
}

/** A silence set from the message: shown on it until it ends (`until`), or until the incident resolves. */
export function silenceOn(incident: Incident, silence: Silence, act: Act): ActOutcome {
  return recordOpen(
    incident,
    {
      ...act,
      type: 'silenced',
      detail: `${silence.endsWith ? 'until resolved' : `until ${silence.expiresAt}`}: ${silence.reason}`,
    },
    {
      set: {
        silence: { id: silence.id, by: act.by, ...(silence.endsWith ? {} : { until: silence.expiresAt }) },
      },
    },
  );
}

/** Ending a silence is allowed on a resolved incident too: only a repeat or no silence stops it. */
export function unsilenceOn(incident: Incident, act: Act): ActOutcome {
  if (known(incident, act.key)) return unchanged('already');
  if (incident.silence === undefined) return unchanged('not-silenced');
  return record(incident, { ...act, type: 'unsilenced', detail: incident.silence.id }, { drop: ['silence'] });
}

/**
 * PagerDuty's incident was resolved by someone there. Not a repair: the incident stays open (live
 * state decides, at the next sweep or re-check), and the message says who closed it.
 */
export function closeInPagerDuty(incident: Incident, act: Act): ActOutcome {
  return recordOpen(
    incident,
    { ...act, type: 'resolved-in-pagerduty' },
    { set: { closedInPagerDuty: { by: act.by, at: act.at } } },
  );
}

export function reassign(incident: Incident, act: Act & { detail: string }): ActOutcome {
  return recordOpen(incident, { ...act, type: 'reassigned' }, {});
}

/** A re-check's outcome, kept for `/wi-status incidents`; its answer is the thread reply, so no refresh. */
export function noteRecheck(incident: Incident, act: Act & { detail: string }): Incident | undefined {
  if (known(incident, act.key)) return undefined;
  return { ...incident, activity: withActivity(incident, { ...act, type: 'rechecked' }) };
}
