import type { Finding, FindingKind, FindingSeverity } from '../domain/finding.ts';
import type { ChangeEvent } from '../events/change-event.ts';
import type { Snapshot } from '../inventory/snapshot.ts';

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
  /**
   * The sweep: every firing finding of this kind the whole inventory shows, with the fingerprint
   * `detect` gives the same link, so an incident an event opened is confirmed or resolved by a sweep
   * and the other way round. Kinds whose signal is not in the audit stream (key-file-override) are
   * found only this way.
   */
  scan?(snapshot: Snapshot): Finding[];
}
