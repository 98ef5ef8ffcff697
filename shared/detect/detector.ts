import type { ChangeEvent } from '../events/change-event.ts';
import type { Snapshot } from '../inventory/snapshot.ts';
import type { Finding, FindingKind, FindingSeverity } from './finding.ts';

/**
 * A detector is a value with one pure function: from a change (and the inventory before it, when
 * one is given) to every finding of its kind. It never throws on odd data and does no I/O.
 */
export interface Detector {
  kind: FindingKind;
  /** The severity when the break hits running workloads. */
  severity: FindingSeverity;
  /** What the kind means, for people. */
  title: string;
  detect(event: ChangeEvent, snapshot?: Snapshot): Finding[];
  /** Kinds whose signal is not in the audit stream judge the whole inventory instead. */
  scan?(snapshot: Snapshot): Finding[];
}
