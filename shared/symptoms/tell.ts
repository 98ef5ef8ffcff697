import type { Incident, IncidentRef, Silence, SymptomEvidence } from '../domain/incident.ts';
import type { SymptomGroupRecord } from '../domain/symptom-group.ts';
import { breachPlan, LIMITS, mergeEvidence } from '../incidents/lifecycle.ts';
import type { Log, SymptomContext } from './context.ts';
import { evidenceChanged, evidenceOf } from './evidence.ts';
import { type Changed, changeIncident } from './incident-change.ts';

/**
 * What incidents are told of their symptoms, through their destinations exactly once each: fresh
 * evidence (an edit in place, no page, at most once an interval) and, for a symptom incident, the
 * incidents found since to explain it (news: a transition, a thread reply).
 */

type TellContext = Pick<SymptomContext, 'tell' | 'options' | 'now' | 'store'>;

/** Refreshes the group's evidence on one incident: at most once per interval, only when it changed. */
export async function pushEvidence(
  ctx: TellContext,
  fingerprint: string,
  record: SymptomGroupRecord,
  at: Date,
  silences: readonly Silence[],
  log: Log,
): Promise<Changed> {
  const { options } = ctx;
  const evidence = evidenceOf(record, at);
  const changed = await changeIncident(
    ctx.tell,
    fingerprint,
    (incident) => {
      // wi-sentinel's own incidents are about its sink and permissions, never workloads.
      if (incident.kind === 'sentinel-degraded') return undefined;
      if (incident.status === 'resolved') {
        const resolvedAt = Date.parse(incident.resolvedAt ?? '');
        if (!(at.getTime() - resolvedAt <= options.afterRepairMs)) return undefined;
      }
      const previous = incident.evidence?.find((e) => e.key === evidence.key);
      if (!evidenceChanged(previous, evidence)) return undefined;
      const last =
        incident.evidenceAt === undefined ? Number.NEGATIVE_INFINITY : Date.parse(incident.evidenceAt);
      // A group new to the incident is news; more of the same waits for the interval.
      if (previous !== undefined && at.getTime() - last < options.evidenceEveryMs) return undefined;
      return refreshed(incident, [evidence], at, options.maxEvidence);
    },
    silences,
  ).catch((error: Error) => {
    log('WARNING', `could not refresh the evidence of ${fingerprint}: ${error.message}`);
    return { changed: false, sent: [], permanent: [], retryable: [] } as Changed;
  });
  for (const error of changed.permanent)
    log('ERROR', `evidence refresh failed permanently: ${error.message}`, { fingerprint });
  // Evidence is refreshed again by the next failures (or the sweep): a failed edit is not retried.
  for (const error of changed.retryable)
    log('WARNING', `evidence refresh failed: ${error.message}`, { fingerprint });
  return changed;
}

/**
 * The incident with fresh evidence; `seq` moves so every destination is owed the edit. Pods failing
 * for a planned change breach the plan: that is news, and it pages.
 */
function refreshed(
  incident: Incident,
  evidence: readonly SymptomEvidence[],
  at: Date,
  maxEvidence: number,
): Incident {
  return breachPlan(
    {
      ...incident,
      evidence: mergeEvidence(incident.evidence, evidence, maxEvidence),
      evidenceAt: at.toISOString(),
      seq: incident.seq + 1,
    },
    at,
  );
}

/** The silences, read at most once however many incidents one path tells. */
export function silencesOnce(store: TellContext['store']): () => Promise<readonly Silence[]> {
  let read: Promise<readonly Silence[]> | undefined;
  return () => {
    read ??= store.listSilences();
    return read;
  };
}

/** The symptom incident `own` says which incidents explain it. */
export async function explain(
  ctx: TellContext,
  own: string,
  explainers: readonly Incident[],
  silences: readonly Silence[],
  log: Log,
): Promise<Changed | undefined> {
  const at = ctx.now();
  return changeIncident(
    ctx.tell,
    own,
    (incident) => {
      if (incident.status !== 'open') return undefined;
      const known = new Set((incident.explainedBy ?? []).map((r) => r.id));
      const fresh = explainers.filter((e) => !known.has(e.id));
      if (fresh.length === 0) return undefined;
      const refs: IncidentRef[] = fresh.map((e) => ({
        fingerprint: e.fingerprint,
        id: e.id,
        kind: e.kind,
        summary: e.finding.summary,
        at: at.toISOString(),
      }));
      const seq = incident.seq + 1;
      const summary = `explained by ${refs.map((r) => `${r.kind} incident ${r.id}: ${r.summary}`).join('; ')}`;
      return {
        ...incident,
        explainedBy: [...(incident.explainedBy ?? []), ...refs].slice(-5),
        seq,
        updatedAt: at.toISOString(),
        transitions: [
          ...incident.transitions,
          { seq, type: 'updated' as const, at: at.toISOString(), summary },
        ].slice(-LIMITS.transitions),
      };
    },
    silences,
  ).catch((error: Error) => {
    log('WARNING', `could not link ${own} to the incident that explains it: ${error.message}`);
    return undefined;
  });
}
