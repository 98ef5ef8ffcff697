import { decodeMonitoringNotification, type MetadataServerAlert } from '../events/monitoring.ts';
import { answer, type Log, type PathResult, type SymptomContext } from './context.ts';
import { settleGroup } from './correlate.ts';
import { authFingerprint } from './group.ts';
import { poolOfNode } from './identity.ts';
import { resolveIfQuiet } from './quiet.ts';
import { dueOf, recordNotification } from './record.ts';

/**
 * The metadata server's error rate, as Cloud Monitoring notifications: an open alert is a
 * cluster-scope group, correlated as failures are, but it pages at once (Monitoring already waited
 * out its own window); Monitoring closing its incident resolves ours.
 */
export async function handleNotification(
  ctx: SymptomContext,
  notification: unknown,
  log: Log,
): Promise<PathResult> {
  const decoded = decodeMonitoringNotification(notification);
  if (decoded.type === 'invalid') {
    log('WARNING', `undecodable Monitoring notification acknowledged: ${decoded.error}`);
    return answer('invalid', decoded.error);
  }
  if (decoded.type === 'ignored') {
    log('DEBUG', `ignored: ${decoded.reason}`);
    return answer('ignored', decoded.reason);
  }
  return handleAlert(ctx, decoded.alert, log);
}

async function handleAlert(ctx: SymptomContext, alert: MetadataServerAlert, log: Log): Promise<PathResult> {
  const at = ctx.now();
  const snapshot = await ctx.inventory();
  const known = snapshot?.projects
    .find((p) => p.projectId === alert.project)
    ?.clusters.find((c) => c.name === alert.cluster.name && c.location === alert.cluster.location);
  const nodePool = poolOfNode(
    alert.cluster.name,
    (known?.nodePools ?? []).map((p) => p.name),
    alert.node,
  );
  const open = await ctx.open.get(ctx.now());
  const recorded = await recordNotification(ctx, alert, nodePool, open, at);
  const record = recorded.record;
  const what = `Monitoring incident ${alert.incidentId} ${alert.state} for ${alert.cluster.name}`;
  const outcome = recorded.added ? 'handled' : 'duplicate';
  if (!recorded.added) log('INFO', 'duplicate delivery acknowledged', { monitoring: alert.incidentId });
  if (alert.state === 'closed') {
    // Resolved first, with the closed alert as its last evidence; then the other incidents it is
    // evidence of are refreshed (the resolved one already shows it).
    const quiet = await resolveIfQuiet(
      ctx,
      authFingerprint(record),
      `monitoring:${alert.incidentId}:closed`,
      log,
    );
    const due = recorded.added ? dueOf(record, at) : [];
    const result = await settleGroup(ctx, record, open, due, at, log, 'now');
    return {
      findings: [...quiet.findings, ...result.findings],
      incidents: [...quiet.incidents, ...result.incidents],
      retryable: [...quiet.retryable, ...result.retryable],
      outcome,
      reason: what,
    };
  }
  const due = recorded.added ? dueOf(record, at) : [];
  // Monitoring already waited out its own window: an unexplained alert pages now.
  const result = await settleGroup(ctx, record, open, due, at, log, 'now');
  return { ...result, outcome, reason: what };
}
