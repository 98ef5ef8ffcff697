import { detect } from '../detect/index.ts';
import type { Finding } from '../domain/finding.ts';
import type { ChangeEvent } from '../events/change-event.ts';
import type { Delivery } from '../events/decode.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { Snapshot } from '../inventory/snapshot.ts';

/**
 * GKE long-running operations: GKE logs the request and actor on an operation's `first` entry and
 * only the outcome on its `last` one. The first is kept, the last confirms it with the first's
 * request and actor, and a failed last entry resolves what the first opened.
 */

export type OperationStore = Pick<IncidentStore, 'rememberOperation' | 'operation'>;

/** A GKE long-running operation (Kubernetes entries carry `operation` too, always first and last). */
export function isOperation(event: ChangeEvent): boolean {
  return event.source.operation !== undefined && !event.source.method.startsWith('io.k8s.');
}

/** The `first` entry of a GKE operation still running: it says what was asked, not what happened. */
export function isOperationStart(event: ChangeEvent): boolean {
  return isOperation(event) && event.source.operation?.first === true && !event.source.operation.last;
}

/** The `last` entry of a GKE operation: only its `first` entry can say what it did. */
export function isOperationEnd(event: ChangeEvent): boolean {
  return isOperation(event) && event.source.operation?.last === true && !event.source.operation.first;
}

/** The `last` entry of an operation whose request failed (the classifier ignored it for that). */
export function isFailedOperation(delivery: Delivery, reason: string): boolean {
  const operation = delivery.entry.operation;
  return Boolean(
    operation?.id && operation.last && !operation.first && reason.startsWith('the request failed'),
  );
}

/**
 * The event to judge: a first entry is remembered as it is; a last entry becomes its first entry
 * (request, actor) with the last entry's identity and time.
 */
export async function withOperation(
  store: OperationStore,
  event: ChangeEvent,
  now: () => Date,
): Promise<ChangeEvent> {
  const operation = event.source.operation;
  if (operation === undefined || !isOperation(event)) return event;
  // A first entry gets here only with findings (the rest returned early): worth remembering.
  if (operation.first && !operation.last) {
    await store.rememberOperation({ id: operation.id, event, recordedAt: now().toISOString() });
    return event;
  }
  if (!operation.last || operation.first) return event;
  const first = (await store.operation(operation.id))?.event as ChangeEvent | undefined;
  if (first === undefined || first.type !== event.type) return event;
  return { ...first, source: { ...first.source, ...pick(event.source), operation } } as ChangeEvent;
}

/** An operation whose `last` entry failed never happened: its first entry's findings resolve. */
export async function failedOperation(
  store: OperationStore,
  delivery: Delivery,
  reason: string,
  snapshot: Snapshot | undefined,
): Promise<Finding[]> {
  const operation = delivery.entry.operation;
  if (!operation?.id || !isFailedOperation(delivery, reason)) return [];
  const first = (await store.operation(operation.id))?.event as ChangeEvent | undefined;
  if (first === undefined) return [];
  return detect(first, snapshot)
    .filter((finding) => finding.status === 'firing')
    .map((finding) => ({
      ...finding,
      status: 'resolved' as const,
      summary: `the operation that would have broken this failed (${reason}): ${finding.summary}`,
      cause: {
        ...(finding.cause ?? { method: first.source.method }),
        ...(delivery.entry.insertId ? { insertId: delivery.entry.insertId } : {}),
      },
    }));
}

function pick(source: ChangeEvent['source']) {
  return {
    ...(source.insertId ? { insertId: source.insertId } : {}),
    ...(source.time ? { time: source.time } : {}),
  };
}
