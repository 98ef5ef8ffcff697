import type { Finding } from '../domain/finding.ts';
import type { PlannedChange, Silence, SilenceMatchers } from '../domain/incident.ts';
import { silenceMatches } from './silences.ts';

/**
 * Planned changes. A break someone declared as planned is still told to Slack, marked planned with
 * its reason and author, but pages nobody: a planned change is not an outage. Unless the pods it was
 * meant to spare fail anyway, which makes it one (`breachPlan`). Plans come from `/wi-status plan`
 * (stored and expiring like silences, `effect: 'plan'`) and from the routing file's standing rules
 * ("changes by deployer@… during business hours").
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A routing file's standing plan: changes that match it, during its hours, are planned. */
export interface PlanRule {
  matchers: SilenceMatchers;
  reason: string;
  /** When it holds; absent: always. */
  hours?: PlanHours;
}

export interface PlanHours {
  days: Weekday[];
  /** `HH:MM`, local to `timeZone`; `to` before `from` runs past midnight. */
  from: string;
  to: string;
  /** An IANA time zone (`Europe/Berlin`); UTC when absent. */
  timeZone?: string;
}

const ROUTING_AUTHOR = 'the routing file';

/** The plan a finding falls under at `at`: a stored plan first, then the routing file's rules. */
export function planFor(
  finding: Finding,
  holds: readonly Silence[],
  rules: readonly PlanRule[],
  at: Date,
): PlannedChange | undefined {
  const stored = holds.find(
    (hold) =>
      hold.effect === 'plan' &&
      Date.parse(hold.expiresAt) > at.getTime() &&
      Date.parse(hold.createdAt) <= at.getTime() &&
      silenceMatches(hold.matchers, finding),
  );
  if (stored) return { id: stored.id, reason: stored.reason, author: stored.author, until: stored.expiresAt };
  const index = rules.findIndex(
    (rule) =>
      (rule.hours === undefined || withinHours(rule.hours, at)) && silenceMatches(rule.matchers, finding),
  );
  const rule = rules[index];
  return rule ? { id: `routing:${index}`, reason: rule.reason, author: ROUTING_AUTHOR } : undefined;
}

/** Whether `at` falls in the window, on one of its days, in its time zone. */
export function withinHours(hours: PlanHours, at: Date): boolean {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: hours.timeZone ?? 'UTC',
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = part('weekday').toLowerCase() as Weekday;
  const minute = Number(part('hour')) * 60 + Number(part('minute'));
  const from = minutesOf(hours.from);
  const to = minutesOf(hours.to);
  if (from <= to) return hours.days.includes(day) && minute >= from && minute < to;
  // Past midnight: the evening belongs to the listed day, the small hours to the day before it.
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(day) + WEEKDAYS.length - 1) % WEEKDAYS.length] as Weekday;
  return (minute >= from && hours.days.includes(day)) || (minute < to && hours.days.includes(yesterday));
}

/** `HH:MM` as minutes after midnight. */
function minutesOf(clock: string): number {
  const [h = 0, m = 0] = clock.split(':').map(Number);
  return h * 60 + m;
}
