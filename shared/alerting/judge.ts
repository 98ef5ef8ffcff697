import { detect } from '../detect/index.ts';
import type { Finding } from '../domain/finding.ts';
import type { ChangeEvent } from '../events/change-event.ts';
import type { Delivery } from '../events/decode.ts';
import type { LiveState } from '../gcp/ports.ts';
import type { IncidentStore } from '../incidents/store.ts';
import { applyChange } from '../inventory/apply.ts';
import type { Snapshot } from '../inventory/snapshot.ts';
import type { Logger } from '../log.ts';
import type { Analysis } from '../pipeline.ts';
import { boundFindings } from './bound.ts';
import { confirm } from './confirm.ts';
import type { HandleResult } from './delivery.ts';
import {
  failedOperation,
  isFailedOperation,
  isOperationEnd,
  isOperationStart,
  withOperation,
} from './operations.ts';

/**
 * What an analysed audit entry comes to before anything is applied: the findings to apply (judged
 * against the organization before the change, joined with their GKE operation, confirmed by live
 * state), or an answer already (irrelevant, a duplicate, nothing found, an operation still running).
 * Irrelevant entries never touch the store: a cold start for them loads no client library.
 */

export interface JudgeDeps {
  store: Pick<
    IncidentStore,
    'isProcessed' | 'markProcessed' | 'noteDelivery' | 'operation' | 'rememberOperation'
  >;
  now: () => Date;
  inventory?: { current(): Snapshot | undefined; update(next: Snapshot): void };
  live?: LiveState;
  lastKnown?: () => Promise<Snapshot | undefined>;
}

export type Judged =
  | { answer: HandleResult }
  | { findings: Finding[]; event?: ChangeEvent; snapshot: Snapshot | undefined };

type Log = Logger['log'];

/** An entry the classifier ignored: only a GKE operation's failed `last` entry still matters. */
export async function judgeIgnored(
  deps: JudgeDeps,
  analysis: { delivery: Delivery; reason: string },
  key: string,
  snapshot: Snapshot | undefined,
  log: Log,
): Promise<Judged> {
  if (!isFailedOperation(analysis.delivery, analysis.reason)) {
    log('DEBUG', `ignored: ${analysis.reason}`, { entry: key });
    return { answer: { outcome: 'ignored', reason: analysis.reason, findings: [], incidents: [] } };
  }
  if (await deps.store.isProcessed(key)) return { answer: duplicate(key, log) };
  const bounded = boundFindings(
    await failedOperation(deps.store, analysis.delivery, analysis.reason, snapshot),
  );
  return { findings: [...bounded.findings, ...bounded.summaries], snapshot };
}

/** A change: the findings live state confirms, against the organization before it. */
export async function judgeChange(
  deps: JudgeDeps,
  analysis: Extract<Analysis, { outcome: 'change' }>,
  key: string,
  snapshot: Snapshot | undefined,
  log: Log,
): Promise<Judged> {
  // Live, the organization before the change is the last sweep's: it knows what a deleted GSA or a
  // removed annotation used to serve, which live state no longer shows.
  if (snapshot === undefined && deps.lastKnown && dependsOnBefore(analysis.event, analysis.findings)) {
    // Without it a deleted GSA's KSAs are unknown, but the change is still judged and verified.
    snapshot = await deps.lastKnown().catch((error: Error) => {
      log('WARNING', `the last-known inventory could not be read: ${error.message}`);
      return undefined;
    });
    if (snapshot) analysis = { ...analysis, findings: detect(analysis.event, snapshot) };
  }
  if (analysis.findings.length === 0 && !isOperationEnd(analysis.event)) {
    if (deps.inventory && snapshot) deps.inventory.update(applyChange(snapshot, analysis.event));
    return { answer: { outcome: 'handled', findings: [], incidents: [] } };
  }
  // Evidence for the self-check that watched changes still arrive.
  // A note that cannot be written must not cost the delivery: the self-check allows for gaps.
  await deps.store.noteDelivery(deps.now().toISOString()).catch((error: Error) => {
    log('WARNING', `could not note the delivery for the self-check: ${error.message}`);
  });
  if (await deps.store.isProcessed(key)) return { answer: duplicate(key, log) };
  const event = await withOperation(deps.store, analysis.event, deps.now);
  const findings = event === analysis.event ? analysis.findings : detect(event, snapshot);
  // Live state shows an operation's outcome only once it completes: its last entry is verified.
  if (deps.live && isOperationStart(event)) {
    log('INFO', 'operation started: its findings are verified when it completes', {
      operation: event.source.operation?.id,
    });
    await deps.store.markProcessed(key);
    return { answer: { outcome: 'handled', findings: [], incidents: [] } };
  }
  const confirmDeps = {
    ...(deps.live ? { live: deps.live } : {}),
    simulated: Boolean(deps.inventory),
    now: deps.now,
  };
  // At most so many findings of a delivery are verified and told one by one; the rest as one.
  const bounded = boundFindings(findings);
  const confirmed = await confirm(confirmDeps, bounded.findings, event, snapshot, log);
  return { findings: [...confirmed, ...bounded.summaries], event, snapshot };
}

export function duplicate(key: string, log: Log): HandleResult {
  log('INFO', 'duplicate delivery acknowledged', { entry: key });
  return { outcome: 'duplicate', findings: [], incidents: [] };
}

/**
 * Whether the change's meaning depends on the organization before it: what a KSA's new annotation
 * names, which namespace policies a new one joins, which pools a cluster joining WI left behind. A
 * node pool change says all by itself (unless it already gave findings, whose impact the inventory
 * tells).
 */
function dependsOnBefore(event: ChangeEvent, findings: readonly Finding[]): boolean {
  return findings.length > 0 || event.type !== 'nodepool';
}
