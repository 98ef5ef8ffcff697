import type { Finding } from '../domain/finding.ts';
import { decode } from '../events/decode.ts';
import type { StepOptions } from '../incidents/lifecycle.ts';
import { classifySymptom, type Symptom } from './classify.ts';
import { answer, createContext, type Log, type PathResult, type SymptomDeps } from './context.ts';
import { afterApply, settleGroup, withEvidence } from './correlate.ts';
import { createIdentifier } from './identity.ts';
import { handleNotification } from './monitoring-alert.ts';
import { resolveQuiet } from './quiet.ts';
import { dueOf, recordFailure } from './record.ts';
import { routeOf } from './route.ts';

/**
 * The symptom path of auditEvents: container-log entries (credential failures a workload printed)
 * and Cloud Monitoring notifications (the metadata server's error rate) arrive on the same function
 * as audit entries, and are joined here to the incidents that explain them. A failure goes
 *
 *   route (route.ts) → decode → classify (classify.ts) → who the pod is (identity.ts)
 *   → its group (record.ts) → correlate (correlate.ts): evidence told to the incidents that explain
 *     it (tell.ts), or `wi-auth-failures` opened (open.ts) → resolved when quiet (quiet.ts)
 *
 * and a Monitoring notification goes route → monitoring-alert.ts → its group → correlate.
 *
 * - Noise (a container entry without a signature's needle) is acknowledged from its raw text: no
 *   parse, no store, no client library.
 * - A symptom joins its group (one transaction on one document); the group is attached as evidence to
 *   every open incident that explains it (its KSA, its pods' node pool, its cluster), refreshed at most
 *   once a minute per incident, as an edit: no new page.
 * - A group nothing explains for long enough opens `wi-auth-failures`, with the live diagnosis of the
 *   KSA's chain; it resolves after the quiet window (`resolveQuietSymptoms`, run by the sweep).
 * - The other way round: an incident that opens while a group is active gets its evidence in its first
 *   message (`withEvidence`, called by alerting before it steps), and a symptom incident opened before
 *   its cause was known says which incident explains it (`afterApply`).
 */
export function createSymptoms(deps: SymptomDeps) {
  const ctx = createContext(deps);
  const identify = createIdentifier({
    ...(deps.live ? { live: deps.live } : {}),
    now: () => ctx.now().getTime(),
    onError: (message) => deps.logger.log('WARNING', message),
  });

  /** The symptom path's answer for a delivery, or undefined when it is an audit entry (not ours). */
  async function handle(input: unknown, log: Log): Promise<PathResult | undefined> {
    const route = routeOf(input);
    if (route.path === 'audit') return undefined;
    if (route.path === 'noise') {
      log('DEBUG', `ignored: ${route.reason}`);
      return answer('ignored', route.reason);
    }
    if (route.path === 'monitoring') return handleNotification(ctx, route.notification, log);
    const decoded = decode(route.value);
    if (!decoded.ok) {
      log('WARNING', `undecodable delivery acknowledged: ${decoded.error}`);
      return answer('invalid', decoded.error);
    }
    const classified = classifySymptom(decoded.delivery.entry);
    if (classified.type === 'ignored') {
      // Not a container entry after all (its text only looked like one): the audit path judges it.
      if (decoded.delivery.entry.resource?.type !== 'k8s_container') return undefined;
      log('DEBUG', `ignored: ${classified.reason}`);
      return answer('ignored', classified.reason);
    }
    return handleSymptom(classified.symptom, log);
  }

  async function handleSymptom(symptom: Symptom, log: Log): Promise<PathResult> {
    const at = ctx.now();
    const identified = await identify(symptom, await ctx.inventory());
    const open = await ctx.open.get(ctx.now());
    const recorded = await recordFailure(ctx, symptom, identified, open, at);
    // A group this instance just opened must be found by an incident opening here next.
    if (recorded.opened) ctx.active.invalidate();
    const record = recorded.record;
    const due = recorded.added ? dueOf(record, at) : [];
    const result = await settleGroup(ctx, record, open, due, at, log, 'grace');
    const what = `${symptom.kind} (${symptom.library}) from ${symptom.namespace}/${symptom.pod}`;
    // As the audit path does: every delivery leaves a line saying how it was acknowledged.
    if (!recorded.added)
      log('INFO', 'duplicate delivery acknowledged', { entry: symptom.insertId, group: record.key });
    return {
      ...result,
      outcome: recorded.added ? 'handled' : 'duplicate',
      reason: recorded.added
        ? `symptom: ${what}, ${record.count} in group ${record.key}`
        : `symptom already counted: ${what}`,
    };
  }

  return {
    handle,
    withEvidence: (findings: readonly Finding[], options: StepOptions) =>
      withEvidence(ctx, findings, options),
    afterApply: (incidents: PathResult['incidents'], log: Log) => afterApply(ctx, incidents, log),
    resolveQuiet: (runId: string, log: Log) => resolveQuiet(ctx, runId, log),
  };
}
