import { createHash } from 'node:crypto';
import type { Silence, SilenceMatchers } from '../domain/incident.ts';
import { silenceMatches } from '../incidents/silences.ts';
import type { IncidentStore } from '../incidents/store.ts';
import { MARKS, type StatusDoc } from '../status/doc.ts';
import { openIncidents } from '../status/summary.ts';
import { plannedDoc, problemDoc, silencedDoc, unsilencedDoc } from '../status/views.ts';
import type { DeferredCommand, DeferredTask } from './deferred.ts';
import type { Decision } from './permission.ts';

/**
 * What wiCommands runs for each deferred command, each answering with a status document. Adding a
 * kind is a schema entry in deferred.ts and a runner here. Silencing is re-authorised here, with
 * the user the command carries: a command on the topic is never trusted for more than it proves.
 */
export interface CommandContext {
  command: DeferredCommand;
  now: Date;
}

/** A runner's answer; undefined: nothing to say (a button's answer is the message it edited). */
export type Runner<K extends DeferredTask['kind']> = (
  task: Extract<DeferredTask, { kind: K }>,
  context: CommandContext,
) => Promise<StatusDoc | undefined>;

export type Runners = { [K in DeferredTask['kind']]: Runner<K> };

export function runCommand(runners: Runners, context: CommandContext): Promise<StatusDoc | undefined> {
  const task = context.command.task;
  // The union is checked by the schema; each runner receives its own kind.
  return (runners[task.kind] as Runner<typeof task.kind>)(task as never, context);
}

/** Deterministic per command, so a redelivered command saves the same silence again. */
export function silenceIdOf(commandId: string): string {
  return `s-${createHash('sha256').update(commandId).digest('hex').slice(0, 10)}`;
}

/** Deterministic per command, as silences are: `p-` tells a plan from a silence in lists. */
export function planIdOf(commandId: string): string {
  return `p-${createHash('sha256').update(commandId).digest('hex').slice(0, 10)}`;
}

export function authorOf(command: DeferredCommand): string {
  const { userId, userName } = command.slack;
  return userName ? `@${userName} (${userId})` : userId;
}

/** The schema's optional fields may be present as undefined; a stored silence holds only values. */
function valuesOf(matchers: Record<string, string | undefined>): SilenceMatchers {
  return Object.fromEntries(Object.entries(matchers).filter(([, value]) => value !== undefined));
}

/** A silence (or, with `effect`, a plan) from the command that asks for it, expiring after its duration. */
function holdOf(
  context: CommandContext,
  matchers: SilenceMatchers,
  { durationMs, reason }: { durationMs: number; reason: string },
  effect?: 'plan',
): Silence {
  const { id, requestedAt } = context.command;
  return {
    id: effect === 'plan' ? planIdOf(id) : silenceIdOf(id),
    matchers,
    createdAt: requestedAt,
    expiresAt: new Date(Date.parse(requestedAt) + durationMs).toISOString(),
    author: authorOf(context.command),
    reason,
    ...(effect ? { effect } : {}),
  };
}

/** Why the command's user may not silence or unsilence (the answer to give), or nothing when they may. */
export async function refusal(
  permission: (userId: string) => Promise<Decision>,
  context: CommandContext,
): Promise<StatusDoc | undefined> {
  const decision = await permission(context.command.slack.userId);
  return decision.allowed ? undefined : problemDoc('You may not silence or unsilence', decision.why, '⛔');
}

export function silenceRunners({
  store,
  permission,
}: {
  store: IncidentStore;
  permission: (userId: string) => Promise<Decision>;
}): Pick<Runners, 'silence' | 'unsilence' | 'plan'> {
  const refuse = (context: CommandContext) => refusal(permission, context);
  return {
    async silence(task, context) {
      const refused = await refuse(context);
      if (refused) return refused;
      const open = openIncidents(await store.listOpen());
      let matchers: SilenceMatchers;
      if ('incidentId' in task.target) {
        const { incidentId } = task.target;
        const incident = open.find((i) => i.id === incidentId);
        if (incident === undefined)
          return problemDoc(
            `No open incident ${incidentId}`,
            'See `/wi-status incidents` for their ids.',
            MARKS.info,
          );
        matchers = { fingerprint: incident.fingerprint };
      } else if ('fingerprint' in task.target) {
        matchers = { fingerprint: task.target.fingerprint };
      } else {
        matchers = valuesOf(task.target.matchers);
      }
      const silence = holdOf(context, matchers, task);
      await store.saveSilence(silence);
      return silencedDoc(
        silence,
        open.filter((i) => silenceMatches(matchers, i.finding)),
        context.now,
      );
    },
    async plan(task, context) {
      const refused = await refuse(context);
      if (refused) return refused;
      const plan = holdOf(context, valuesOf(task.matchers), task, 'plan');
      await store.saveSilence(plan);
      const open = openIncidents(await store.listOpen());
      return plannedDoc(
        plan,
        open.filter((i) => silenceMatches(plan.matchers, i.finding)),
        context.now,
      );
    },
    async unsilence(task, context) {
      const refused = await refuse(context);
      if (refused) return refused;
      return unsilencedDoc(task.id, await store.deleteSilence(task.id));
    },
  };
}
