import type { Incident } from '../domain/incident.ts';
import type { SymptomGroupRecord } from '../domain/symptom-group.ts';
import type { IncidentAttachments } from '../incidents/lifecycle.ts';
import { authFailureFinding, diagnoseGroup } from './auth-failures.ts';
import type { Log, Settled, SymptomContext } from './context.ts';
import { evidenceOf } from './evidence.ts';
import { authFingerprint, lastedGrace } from './group.ts';
import { owes } from './incident-change.ts';
import { link } from './record.ts';

/**
 * `wi-auth-failures`: a group that no incident explains opens its own, with the live diagnosis of
 * its KSA's chain, once it has failed long enough to be more than a blip, through alerting's
 * applyFindings (so it pages, is silenced and resolves as every incident does).
 */

/**
 * Whether an unexplained group has failed long enough to page: failures spanning the grace period,
 * counted from the first failure, or from the repair of the last incident that explained it.
 */
export async function ready(
  ctx: Pick<SymptomContext, 'store' | 'options'>,
  record: SymptomGroupRecord,
  open: readonly Incident[],
): Promise<boolean> {
  let since = Date.parse(record.firstSeen);
  const own = authFingerprint(record);
  for (const link of record.links) {
    if (link.fingerprint === own || open.some((i) => i.fingerprint === link.fingerprint)) continue;
    // Linked, not open (as far as this instance knows): when did it resolve?
    const resolvedAt = link.resolvedAt ?? (await ctx.store.current(link.fingerprint))?.resolvedAt;
    if (resolvedAt !== undefined) since = Math.max(since, Date.parse(resolvedAt));
  }
  return lastedGrace(record, since, ctx.options);
}

/** Opens `wi-auth-failures` for the group (or delivers what its open incident still owes). */
export async function openAuthFailure(
  ctx: SymptomContext,
  record: SymptomGroupRecord,
  ownIncident: Incident | undefined,
  at: Date,
  log: Log,
): Promise<Settled> {
  const own = authFingerprint(record);
  const current = ownIncident ?? (await ctx.store.current(own));
  const retry = current?.status === 'open';
  if (retry && !owes(current, ctx.routing, at)) return { findings: [], incidents: [], retryable: [] };
  // A retry only finishes deliveries: the incident (and its diagnosis) is already stored.
  const diagnosed = retry ? { repairs: [] } : await diagnoseOrNot(ctx, record, at, log);
  const finding = authFailureFinding(record, diagnosed);
  const attachments = new Map<string, IncidentAttachments>([
    [
      finding.fingerprint,
      {
        evidence: [evidenceOf(record, at)],
        ...(diagnosed.diagnosis ? { diagnosis: diagnosed.diagnosis } : {}),
      },
    ],
  ]);
  const applied = await ctx.applyFindings([finding], `symptoms:${record.key}@${record.firstSeen}`, log, {
    quietRepeats: true,
    attachments,
  });
  ctx.open.invalidate();
  const opened = applied.incidents.find((i) => i.transition === 'opened')?.incident;
  // The group remembers its own incident, as it does those that explain it: the sweep refreshes both.
  if (opened) await link(ctx, record.key, opened, at, log);
  return { findings: opened ? [finding] : [], incidents: applied.incidents, retryable: applied.retryable };
}

/** The live diagnosis of the group's chain, when live state can be read; a failure is said, not thrown. */
async function diagnoseOrNot(ctx: SymptomContext, record: SymptomGroupRecord, at: Date, log: Log) {
  const live = ctx.liveState(await ctx.inventory());
  if (live === undefined) return { repairs: [] };
  try {
    return await diagnoseGroup(live, record, () => at);
  } catch (error) {
    log('WARNING', `could not diagnose ${record.key}: ${(error as Error).message}`);
    return { repairs: [] };
  }
}
