import type { Incident } from '../domain/incident.ts';
import type { SymptomGroupRecord } from '../domain/symptom-group.ts';
import type { MetadataServerAlert } from '../events/monitoring.ts';
import type { Symptom } from './classify.ts';
import type { Log, SymptomContext } from './context.ts';
import { explains } from './evidence.ts';
import {
  alertKey,
  authFingerprint,
  recordAlert,
  recordSymptom,
  type SymptomOptions,
  takeDue,
  withLinks,
} from './group.ts';
import type { PodIdentity } from './resolve.ts';
import { groupKey } from './window.ts';

/**
 * A failure (or a Cloud Monitoring alert) joins its group: one transaction on one document, which
 * also links the group to the open incidents that explain it (and to its own symptom incident) and
 * marks which of them are due a refresh of its evidence. A redelivered entry changes nothing.
 */

export interface RecordedFailure {
  record: SymptomGroupRecord;
  added: boolean;
  /** The failure opened the group (its first, or the first after a quiet window). */
  opened: boolean;
}

export async function recordFailure(
  ctx: Pick<SymptomContext, 'store' | 'options'>,
  symptom: Symptom,
  { identity, nodePool }: { identity?: PodIdentity; nodePool?: string },
  open: readonly Incident[],
  at: Date,
): Promise<RecordedFailure> {
  const key = groupKey(symptom, identity?.ksa);
  return ctx.store.transactSymptomGroup<RecordedFailure>(key, (current) => {
    const r = recordSymptom(current, symptom, identity, at, {
      ...(nodePool ? { nodePool } : {}),
      options: ctx.options,
    });
    if (!r.added) return { result: { record: r.record, added: false, opened: false } };
    const next = linked(r.record, open, at, ctx.options);
    return { next, result: { record: next, added: true, opened: r.opened } };
  });
}

/** A Monitoring notification: the same incident in the same state again is a duplicate. */
export async function recordNotification(
  ctx: Pick<SymptomContext, 'store' | 'options'>,
  alert: MetadataServerAlert,
  nodePool: string | undefined,
  open: readonly Incident[],
  at: Date,
): Promise<{ record: SymptomGroupRecord; added: boolean }> {
  return ctx.store.transactSymptomGroup<{ record: SymptomGroupRecord; added: boolean }>(
    alertKey(alert),
    (current) => {
      const next = recordAlert(current, alert, at, nodePool);
      const same =
        current?.alert?.incidentId === next.alert?.incidentId && current?.alert?.state === next.alert?.state;
      if (current && same) return { result: { record: current, added: false } };
      const record = linked(next, open, at, ctx.options);
      return { next: record, result: { record, added: true } };
    },
  );
}

/**
 * The group with its links to the open incidents that explain it (and its own symptom incident),
 * the due ones marked pushed now. Pure, for the transaction.
 */
export function linked(
  record: SymptomGroupRecord,
  open: readonly Incident[],
  at: Date,
  options: SymptomOptions,
): SymptomGroupRecord {
  const own = authFingerprint(record);
  const matched = open.filter((i) => i.fingerprint === own || explains(i.finding, record));
  const links = withLinks(record.links, matched, options.maxLinks);
  return { ...record, links: takeDue(links, at, throttle(options)).links };
}

/** The links of a just-linked group that were marked pushed at `at`: those to refresh now. */
export function dueOf(record: SymptomGroupRecord, at: Date): string[] {
  const stamp = at.toISOString();
  return record.links.filter((l) => l.pushedAt === stamp).map((l) => l.fingerprint);
}

export function throttle(options: SymptomOptions) {
  return { everyMs: options.evidenceEveryMs, afterRepairMs: options.afterRepairMs };
}

/**
 * Records on a group that it is evidence of `incident` (already shown to people at `at`), or, once
 * the incident `resolved`, when: failures after that are no longer explained by it.
 */
export async function link(
  ctx: Pick<SymptomContext, 'store' | 'options'>,
  key: string,
  incident: Incident,
  at: Date,
  log: Log,
  resolved = false,
): Promise<void> {
  await ctx.store
    .transactSymptomGroup(key, (current) => {
      if (current === undefined) return { result: undefined };
      const links = resolved
        ? current.links.map((l) =>
            l.fingerprint === incident.fingerprint && l.incident === incident.id
              ? { ...l, resolvedAt: incident.resolvedAt ?? at.toISOString() }
              : l,
          )
        : withLinks(current.links, [incident], ctx.options.maxLinks).map((l) =>
            l.fingerprint === incident.fingerprint && l.pushedAt === undefined
              ? { ...l, pushedAt: at.toISOString() }
              : l,
          );
      return JSON.stringify(links) === JSON.stringify(current.links)
        ? { result: undefined }
        : { next: { ...current, links }, result: undefined };
    })
    .catch((error: Error) => log('WARNING', `could not link group ${key}: ${error.message}`));
}
