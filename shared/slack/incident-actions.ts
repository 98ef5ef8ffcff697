import type { Finding } from '../domain/finding.ts';
import type { Incident, Silence } from '../domain/incident.ts';
import { LookupError } from '../errors.ts';
import type { ClusterKey, LiveState } from '../gcp/ports.ts';
import {
  type Act,
  type ActOutcome,
  acknowledge,
  noteRecheck,
  silenceOn,
  unsilenceOn,
} from '../incidents/acts.ts';
import type { IncidentStore } from '../incidents/store.ts';
import { clustersInPool } from '../inventory/impact.ts';
import { poolProject } from '../inventory/members.ts';
import type { Snapshot } from '../inventory/snapshot.ts';
import { diagnose } from '../live/diagnose.ts';
import { verify } from '../live/verify.ts';
import type { Logger } from '../log.ts';
import { actAndTell } from '../notify/act.ts';
import { SILENCE_CHOICES } from '../notify/slack-render.ts';
import type { TellDeps } from '../notify/tell.ts';
import { toSlackDoc } from '../status/blocks.ts';
import { diagnoseDoc } from '../status/diagnose-doc.ts';
import { MARKS, renderDocText, type StatusDoc } from '../status/doc.ts';
import { problemDoc } from '../status/views.ts';
import { MAX_SILENCE_MS } from './command.ts';
import { authorOf, type CommandContext, type Runner, refusal, silenceIdOf } from './commands.ts';
import type { Decision } from './permission.ts';

/**
 * What the buttons of an incident's message do, run by wiCommands (deferred by wiStatus):
 *
 * - `ack`: records who acknowledged it and when, and tells every destination through the normal
 *   delivery path (incidents/acts.ts, notify/tell.ts): the Slack message is edited in place and
 *   PagerDuty gets an Events API v2 `acknowledge` under the incident's dedup_key. Acknowledging
 *   twice (a double click, a redelivery) changes nothing.
 * - `silence` / `unsilence`: a silence on the incident's fingerprint, authored by the user, with the
 *   incident as its reason; the permission rule of `/wi-status silence`.
 * - `recheck`: the incident's finding verified against live state as the event path does
 *   (live/verify.ts); the result goes in the incident's thread. A link repaired resolves the incident
 *   through the normal path (alerting's applyFindings). A read that fails says "could not check".
 *
 * The answer is the edited message or the thread reply; only what concerns the user alone (a
 * refusal, an incident already resolved, an unknown incident) is answered ephemerally.
 */
export interface IncidentActionDeps {
  store: IncidentStore;
  permission: (userId: string) => Promise<Decision>;
  /** How destinations are told (through `store`). */
  tell: Omit<TellDeps, 'store'>;
  /** The normal path for a resolution: findings → incidents → notifications. */
  applyFindings: (findings: readonly Finding[], key: string) => Promise<{ retryable: Error[] }>;
  live: LiveState;
  /** The last inventory: which clusters hold a KSA hit, and what a deleted GSA served. */
  inventory: () => Promise<Snapshot | undefined>;
  /** Where live state comes from, for the re-check's small print. */
  source: string;
  logger: Logger;
  /** The most KSAs whose chain a re-check shows. */
  maxChains?: number;
}

const MAX_CHAINS = 3;
/** verify's reason for a kind it has no live check for (live/verify.ts). */
const NOT_A_LINK = 'not a live-state link';

export function incidentRunner(deps: IncidentActionDeps): Runner<'incident'> {
  return async (task, context) => {
    const incident = await deps.store.incident(task.incidentId);
    if (incident === undefined)
      return problemDoc(
        `I know no incident ${task.incidentId}`,
        'It may be older than what I keep; `/wi-status incidents` lists the open ones.',
        MARKS.info,
      );
    const act: Act = {
      key: `slack:${context.command.id}`,
      by: byOf(context),
      at: context.now.toISOString(),
      via: 'slack',
    };
    switch (task.action) {
      case 'ack':
        return change(incident, (current) => acknowledge(current, act), 'acknowledge');
      case 'silence': {
        const refused = await refusal(deps.permission, context);
        if (refused) return refused;
        if (incident.status === 'resolved') return resolvedNote(incident, 'silence');
        const silence = silenceFor(incident, task.choice ?? '1h', context);
        await deps.store.saveSilence(silence);
        return change(incident, (current) => silenceOn(current, silence, act), 'silence');
      }
      case 'unsilence': {
        const refused = await refusal(deps.permission, context);
        if (refused) return refused;
        if (incident.silence) await deps.store.deleteSilence(incident.silence.id);
        return change(incident, (current) => unsilenceOn(current, act), 'unsilence');
      }
      case 'recheck':
        return recheck(incident, act, context);
    }
  };

  /** Applies `act` to the incident (if it is still the fingerprint's current one) and tells what it owes. */
  async function change(
    incident: Incident,
    act: (current: Incident) => ActOutcome,
    what: string,
  ): Promise<StatusDoc | undefined> {
    const told = await actAndTell({ ...deps.tell, store: deps.store }, incident, act);
    for (const error of told.permanent)
      deps.logger.log('ERROR', `${what}: notification failed permanently: ${error.message}`, {
        incident: incident.id,
      });
    // A failure a retry can cure: the command is redelivered, and what is still owed is told then.
    if (told.retryable.length > 0) throw told.retryable[0];
    if (told.result.outcome === 'changed') return undefined;
    switch (told.result.why) {
      case 'resolved':
        return resolvedNote(incident, what);
      case 'not-silenced':
        return problemDoc(`Incident ${incident.id} is not silenced from its message`, undefined, MARKS.info);
      default:
        // Already done (a double click, a redelivery): the message says so already.
        return undefined;
    }
  }

  function resolvedNote(incident: Incident, what: string): StatusDoc {
    return problemDoc(
      `Incident ${incident.id} is already resolved: nothing to ${what}`,
      'Re-check now tells whether the link still holds.',
      MARKS.info,
    );
  }

  function silenceFor(incident: Incident, choice: string, context: CommandContext): Silence {
    const picked = SILENCE_CHOICES.find((c) => c.choice === choice) ?? SILENCE_CHOICES[0];
    const at = Date.parse(context.command.requestedAt);
    return {
      id: silenceIdOf(context.command.id),
      matchers: { fingerprint: incident.fingerprint },
      createdAt: context.command.requestedAt,
      // "Until resolved" lasts as long as a silence may, and ends with the incident.
      expiresAt: new Date(at + (picked.ms ?? MAX_SILENCE_MS)).toISOString(),
      author: authorOf(context.command),
      reason: `incident ${incident.id} (${incident.kind}), silenced from its message: ${picked.label}`,
      ...(picked.ms === undefined ? { endsWith: incident.id } : {}),
    };
  }

  async function recheck(
    incident: Incident,
    act: Act,
    context: CommandContext,
  ): Promise<StatusDoc | undefined> {
    const who = act.by;
    // "Now": nothing another command read a moment ago stands in for live state.
    const live = deps.live.uncached?.() ?? deps.live;
    const inventory = await deps.inventory().catch(() => undefined);
    const firing: Finding = { ...incident.finding, status: 'firing' };
    let outcome: 'broken' | 'healthy' | 'unknown';
    let reason: string;
    let repaired: Finding | undefined;
    try {
      // A transient failure is not waited out here: someone is waiting for the answer.
      const [verdict] = await verify([firing], live, {
        ...(inventory ? { inventory } : {}),
        now: () => context.now,
        giveUpAfterMs: 0,
      });
      if (verdict === undefined || verdict.outcome === 'unverified' || verdict.reason === NOT_A_LINK) {
        outcome = 'unknown';
        reason =
          verdict?.reason === NOT_A_LINK
            ? `a ${incident.kind} incident is not one link live state can show`
            : (verdict?.reason ?? 'nothing was checked');
      } else if (verdict.outcome === 'refuted') {
        outcome = 'healthy';
        reason = verdict.reason;
        repaired = verdict.finding;
      } else {
        outcome = 'broken';
        reason = verdict.reason;
      }
    } catch (error) {
      outcome = 'unknown';
      reason = describe(error);
    }
    const when = context.now.toISOString();
    await deps.store.transact(incident.fingerprint, (current) => {
      const next =
        current?.id === incident.id
          ? noteRecheck(current, { ...act, detail: `${outcome}: ${reason}`.slice(0, 300) })
          : undefined;
      return { ...(next ? { next } : {}), result: null };
    });
    if (outcome === 'healthy' && incident.status === 'open' && repaired) {
      // The normal path: the message turns green, PagerDuty is resolved, the thread says why.
      // Nobody's change is known to have repaired it: the break's cause is not the repair's.
      const { cause: _break, ...healthy } = repaired;
      const resolution: Finding = {
        ...healthy,
        summary: `repair confirmed by a re-check requested by ${who}: ${reason}`,
      };
      const applied = await deps.applyFindings([resolution], `recheck:${context.command.id}`);
      if (applied.retryable.length > 0) throw applied.retryable[0];
      return undefined;
    }
    const doc =
      outcome === 'broken'
        ? await brokenDoc(live, incident, reason, who, when, inventory)
        : outcome === 'healthy'
          ? {
              title: `${MARKS.healthy} Healthy: the link holds (re-check requested by ${who})`,
              sections: [{ lines: [{ text: reason }] }],
            }
          : {
              title: `${MARKS.warning} Could not check (re-check requested by ${who})`,
              sections: [{ lines: [{ text: `${reason}. The incident stays as it is.` }] }],
            };
    return replyInThread(incident, doc);
  }

  /** Still broken: why, and the chain of the KSAs hit (shared/chain, through diagnose). */
  async function brokenDoc(
    live: LiveState,
    incident: Incident,
    reason: string,
    who: string,
    when: string,
    inventory: Snapshot | undefined,
  ): Promise<StatusDoc> {
    const targets = (await chainTargets(live, incident.finding, inventory)).slice(
      0,
      deps.maxChains ?? MAX_CHAINS,
    );
    const reports = await Promise.all(
      targets.map(({ key, namespace, name }) =>
        diagnose(
          live,
          { project: key.project, cluster: { location: key.location, name: key.name }, namespace, name },
          { now: () => new Date(when) },
        ).catch(() => undefined),
      ),
    );
    const chains = diagnoseDoc(
      reports.filter((r) => r !== undefined),
      { source: deps.source },
    );
    const hit = incident.finding.ksas.length;
    return {
      title: `${MARKS.unhealthy} Still broken (re-check requested by ${who})`,
      sections: [{ lines: [{ text: reason }] }, ...(reports.some(Boolean) ? chains.sections : [])],
      notes: [
        ...(hit > targets.length ? [`${hit} KSAs are hit; the chains of ${targets.length} are shown.`] : []),
        ...(chains.notes ?? []),
      ],
    };
  }

  /** Posts `doc` in the incident's thread; without a message to reply to, it is the user's answer. */
  async function replyInThread(incident: Incident, doc: StatusDoc): Promise<StatusDoc | undefined> {
    const standing = Object.values(incident.notifications).find((n) => n.slack)?.slack;
    const slack = deps.tell.senders.slack;
    if (standing === undefined || slack?.reply === undefined) return doc;
    await slack.reply(standing, { ...toSlackDoc(doc), text: renderDocText(doc).slice(0, 3000) });
    return undefined;
  }
}

/** Who pressed, as messages say it: `@name`, else the user id. */
function byOf(context: CommandContext): string {
  const { userName, userId } = context.command.slack;
  return userName ? `@${userName}` : userId;
}

type ChainTarget = { key: ClusterKey; namespace: string; name: string };

/**
 * The KSAs hit and the clusters they run in: the finding's cluster, else where the inventory has
 * them, else the clusters of the workload pool's project in that pool (read live).
 */
async function chainTargets(
  live: LiveState,
  finding: Finding,
  inventory: Snapshot | undefined,
): Promise<ChainTarget[]> {
  const fromInventory = inventoryTargets(finding, inventory);
  if (finding.cluster || fromInventory.length > 0) return fromInventory;
  const pools = [...new Set(finding.ksas.map((k) => k.workloadPool))];
  const clusters = (
    await Promise.all(pools.map((pool) => live.gke.listClusters(poolProject(pool)).catch(() => [])))
  ).flat();
  return finding.ksas.flatMap((ksa) =>
    clusters
      .filter((c) => c.workloadPool === ksa.workloadPool)
      .map((c) => ({
        key: { project: c.project, location: c.location, name: c.name },
        namespace: ksa.namespace,
        name: ksa.name,
      })),
  );
}

function inventoryTargets(finding: Finding, inventory: Snapshot | undefined): ChainTarget[] {
  return finding.ksas.flatMap(({ workloadPool, namespace, name }) => {
    const keys: ClusterKey[] = finding.cluster
      ? [{ project: finding.project, ...finding.cluster }]
      : inventory
        ? clustersInPool(inventory, workloadPool)
            .filter(({ cluster }) =>
              cluster.serviceAccounts.some((k) => k.namespace === namespace && k.name === name),
            )
            .map(({ project, cluster }) => ({
              project: project.projectId,
              location: cluster.location,
              name: cluster.name,
            }))
        : [];
    return keys.map((key) => ({ key, namespace, name }));
  });
}

function describe(error: unknown): string {
  if (error instanceof LookupError && error.permission) return `wi-sentinel lacks ${error.permission}`;
  if (error instanceof LookupError && error.retryable) return `the ${error.api} API did not answer in time`;
  return `live state could not be read (${(error as Error).message})`;
}
