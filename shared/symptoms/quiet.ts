import type { Finding } from '../domain/finding.ts';
import type { SymptomGroupRecord } from '../domain/symptom-group.ts';
import type { IncidentAttachments } from '../incidents/lifecycle.ts';
import type { Logger } from '../log.ts';
import { quietResolutions } from './auth-failures.ts';
import type { Log, PathResult, SymptomContext } from './context.ts';
import { evidenceOf } from './evidence.ts';
import { alertKey, authFingerprint, takeDue } from './group.ts';
import { throttle } from './record.ts';
import { METADATA_SERVER_POD } from './signatures.ts';
import { pushEvidence, silencesOnce } from './tell.ts';
import { groupKey } from './window.ts';

/**
 * Quiet resolution: a `wi-auth-failures` incident resolves once every group behind it has been quiet
 * for the window (or Monitoring closed its alert), through alerting's applyFindings, with the
 * groups' last evidence in its resolution message. The sweep runs it for every symptom incident.
 */

const nothing = () => ({
  findings: [] as Finding[],
  incidents: [] as PathResult['incidents'],
  retryable: [] as Error[],
});

/** Resolves one symptom incident whose groups are all quiet (or closed). */
export async function resolveIfQuiet(ctx: SymptomContext, fingerprint: string, key: string, log: Log) {
  const current = await ctx.store.current(fingerprint);
  if (current?.status !== 'open') return nothing();
  const groups = await groupsOf(ctx, fingerprint);
  const at = ctx.now();
  const resolved = quietResolutions([current], groups, at, ctx.options);
  if (resolved.length === 0) return nothing();
  const applied = await ctx.applyFindings(resolved, key, log, {
    attachments: lastEvidence(resolved, groups, at),
  });
  ctx.open.invalidate();
  return { findings: resolved, ...applied };
}

/**
 * The sweep's part: resolve every symptom incident whose groups have been quiet for the window, and
 * bring the evidence of recently active groups up to date on their incidents (the last failures of
 * a storm came after the last throttled refresh).
 */
export async function resolveQuiet(ctx: SymptomContext, runId: string, log: Log) {
  const at = ctx.now();
  const open = await ctx.store.listOpen();
  const symptomIncidents = open.filter((i) => i.kind === 'wi-auth-failures');
  const groups = (await Promise.all(symptomIncidents.map((i) => groupsOf(ctx, i.fingerprint)))).flat();
  const resolved = quietResolutions(symptomIncidents, groups, at, ctx.options);
  const applied =
    resolved.length > 0
      ? await ctx.applyFindings(resolved, `symptoms-quiet:${runId}`, log, {
          attachments: lastEvidence(resolved, groups, at),
        })
      : { incidents: [], retryable: [] };
  ctx.open.invalidate();
  // Evidence refreshed: groups active within the last quiet window and a half.
  const recent = await ctx.store.listSymptomGroups({
    activeAt: new Date(at.getTime() - ctx.options.afterRepairMs).toISOString(),
  });
  const refreshed: PathResult['incidents'] = [];
  const silences = silencesOnce(ctx.store);
  for (const group of recent) {
    if (group.links.length === 0) continue;
    const marked = await ctx.store.transactSymptomGroup(group.key, (current) => {
      if (current === undefined) return { result: [] as string[] };
      const { due, links } = takeDue(current.links, at, throttle(ctx.options));
      return due.length > 0
        ? { next: { ...current, links }, result: due.map((d) => d.fingerprint) }
        : { result: [] };
    });
    for (const fingerprint of marked) {
      const pushed = await pushEvidence(ctx, fingerprint, group, at, await silences(), log);
      if (pushed.incident && pushed.changed) refreshed.push({ incident: pushed.incident, sent: pushed.sent });
    }
  }
  return { resolved, incidents: [...applied.incidents, ...refreshed], retryable: applied.retryable };
}

/** The groups' latest evidence, for the resolution message of each symptom incident. */
function lastEvidence(
  resolved: readonly Finding[],
  groups: readonly SymptomGroupRecord[],
  at: Date,
): Map<string, IncidentAttachments> {
  const attachments = new Map<string, IncidentAttachments>();
  for (const finding of resolved) {
    const own = groups.filter((g) => authFingerprint(g) === finding.fingerprint);
    if (own.length > 0) attachments.set(finding.fingerprint, { evidence: own.map((g) => evidenceOf(g, at)) });
  }
  return attachments;
}

async function groupsOf(
  ctx: Pick<SymptomContext, 'store'>,
  fingerprint: string,
): Promise<SymptomGroupRecord[]> {
  const groups = await Promise.all(groupKeysOf(fingerprint).map((key) => ctx.store.symptomGroup(key)));
  return groups.filter((g) => g !== undefined);
}

/** The group keys behind a `wi-auth-failures` fingerprint (a cluster's: its alert and its metadata server's logs). */
export function groupKeysOf(fingerprint: string): string[] {
  const [kind, project = '', location = '', cluster = '', namespace, ksa] = fingerprint.split('/');
  if (kind !== 'wi-auth-failures') return [];
  if (namespace === undefined) {
    const ref = { project, cluster: { location, name: cluster } };
    return [
      alertKey({ ...ref, kind: 'metadata-server-errors' }),
      groupKey({ ...ref, namespace: METADATA_SERVER_POD.namespace }),
    ];
  }
  return [[project, location, cluster, namespace, ksa ?? '*'].join('/')];
}

export interface ResolveQuietOptions {
  symptoms: { resolveQuiet(runId: string, log: Log): ReturnType<typeof resolveQuiet> };
  runId?: string;
  logger?: Logger;
  now?: () => Date;
}

/**
 * For the reconcile function, once per sweep: resolves the `wi-auth-failures` incidents whose groups
 * have been quiet for the window, and refreshes recent evidence. Failures a retry can cure are
 * returned (the run should be retried), never thrown.
 */
export async function resolveQuietSymptoms({
  symptoms,
  runId,
  logger,
  now = () => new Date(),
}: ResolveQuietOptions) {
  const id = runId ?? now().toISOString();
  const log: Log = (severity, message, fields = {}) =>
    logger?.log(severity, message, { sweep: id, ...fields });
  const result = await symptoms.resolveQuiet(id, log);
  if (result.resolved.length > 0) {
    log(
      'INFO',
      `resolved ${result.resolved.length} quiet symptom incident${result.resolved.length === 1 ? '' : 's'}`,
    );
  }
  return result;
}
