import { type Finding, isPagingKind, SYMPTOM_FINDING_KINDS } from '../domain/finding.ts';
import type { Incident } from '../domain/incident.ts';
import type { SymptomGroupRecord } from '../domain/symptom-group.ts';
import type { StepOptions } from '../incidents/lifecycle.ts';
import type { Log, PathResult, Settled, SymptomContext } from './context.ts';
import { evidenceOf, explains } from './evidence.ts';
import { authFingerprint, isActive } from './group.ts';
import { owes } from './incident-change.ts';
import { openAuthFailure, ready } from './open.ts';
import { link } from './record.ts';
import { explain, pushEvidence, silencesOnce } from './tell.ts';

/**
 * Symptoms joined to the incidents that explain them, both ways:
 * - a group that changed (`settleGroup`): its evidence refreshed where due, its symptom incident told
 *   what explains it, or, when nothing does, `wi-auth-failures` opened (open.ts);
 * - an incident that opens while a group is active (`withEvidence`, before alerting steps findings)
 *   carries the group's evidence in its first message, and afterwards (`afterApply`) the group
 *   remembers it, so failures after a repair still reach the repaired incident.
 */

/** Kinds that never take other groups' evidence when they open (a symptom incident has its own). */
const NO_EVIDENCE: readonly string[] = ['sentinel-degraded', ...SYMPTOM_FINDING_KINDS];

/**
 * After a group changed: refresh its evidence where due, link its symptom incident to what explains
 * it, or open (or finish delivering) `wi-auth-failures` when nothing does. `readiness`: `grace` waits
 * until the failures have lasted (open.ts `ready`); `now` opens at once (Monitoring already waited).
 */
export async function settleGroup(
  ctx: SymptomContext,
  record: SymptomGroupRecord,
  open: readonly Incident[],
  due: readonly string[],
  at: Date,
  log: Log,
  readiness: 'grace' | 'now',
): Promise<Settled> {
  const result: Settled = { findings: [], incidents: [], retryable: [] };
  const silences = silencesOnce(ctx.store);
  for (const fingerprint of due) {
    const pushed = await pushEvidence(ctx, fingerprint, record, at, await silences(), log);
    if (pushed.incident && (pushed.changed || pushed.sent.length > 0)) {
      result.incidents.push({ incident: pushed.incident, sent: pushed.sent });
    }
  }
  const own = authFingerprint(record);
  const ownIncident = open.find((i) => i.fingerprint === own);
  const explainers = open.filter((i) => i.fingerprint !== own && explains(i.finding, record));
  if (explainers.length > 0) {
    const told = new Set((ownIncident?.explainedBy ?? []).map((r) => r.id));
    if (ownIncident && explainers.some((e) => !told.has(e.id))) {
      const linkedTo = await explain(ctx, own, explainers, await silences(), log);
      if (linkedTo?.incident && linkedTo.changed)
        result.incidents.push({ incident: linkedTo.incident, transition: 'updated', sent: linkedTo.sent });
    }
    return result;
  }
  if (!isActive(record, at.getTime()) && record.alert?.state !== 'open') return result;
  if (ownIncident && !owes(ownIncident, ctx.routing, at)) return result;
  if (!ownIncident && readiness === 'grace' && !(await ready(ctx, record, open))) return result;
  const opened = await openAuthFailure(ctx, record, ownIncident, at, log);
  result.findings.push(...opened.findings);
  result.incidents.push(...opened.incidents);
  result.retryable.push(...opened.retryable);
  return result;
}

/**
 * Before alerting steps findings: the evidence of every active group each firing finding explains,
 * so an incident that opens after its symptoms began carries them in its first message.
 */
export async function withEvidence(
  ctx: Pick<SymptomContext, 'now' | 'active'>,
  findings: readonly Finding[],
  stepOptions: StepOptions,
): Promise<StepOptions> {
  const firing = findings.filter(
    (f) => f.status === 'firing' && isPagingKind(f.kind) && !NO_EVIDENCE.includes(f.kind),
  );
  if (firing.length === 0) return stepOptions;
  const at = ctx.now();
  // Evidence counts may be a few seconds old: the next refresh brings them up to date.
  const groups = (await ctx.active.get(at)).filter((group) => isActive(group, at.getTime()));
  if (groups.length === 0) return stepOptions;
  const attachments = new Map(stepOptions.attachments ?? []);
  for (const finding of firing) {
    const matched = groups.filter((group) => explains(finding, group));
    if (matched.length === 0) continue;
    const given = attachments.get(finding.fingerprint);
    attachments.set(finding.fingerprint, {
      ...given,
      evidence: [...(given?.evidence ?? []), ...matched.map((group) => evidenceOf(group, at))],
    });
  }
  return attachments.size > 0 ? { ...stepOptions, attachments } : stepOptions;
}

/**
 * After alerting applied findings: groups remember the incidents they are evidence of (so failures
 * after a repair still reach the repaired incident), and a symptom incident opened before its cause
 * was known says which incident explains it.
 */
export async function afterApply(
  ctx: SymptomContext,
  incidents: PathResult['incidents'],
  log: Log,
): Promise<Error[]> {
  if (incidents.some((i) => i.transition !== undefined)) ctx.open.invalidate();
  const at = ctx.now();
  const silences = silencesOnce(ctx.store);
  for (const { incident, transition } of incidents) {
    if (transition === undefined || NO_EVIDENCE.includes(incident.kind)) continue;
    for (const evidence of incident.evidence ?? []) {
      await link(ctx, evidence.key, incident, at, log, transition === 'resolved');
      if (transition === 'resolved') continue;
      await explain(
        ctx,
        authFingerprint({ ...evidence, namespace: evidence.namespace ?? '' }),
        [incident],
        await silences(),
        log,
      );
    }
  }
  return [];
}
