import type { Finding } from '../domain/finding.ts';
import type { ChangeEvent } from '../events/change-event.ts';
import type { Snapshot } from '../inventory/snapshot.ts';
import { annotationMissing } from './annotation-missing.ts';
import { bindingMissing } from './binding-missing.ts';
import { clusterWiDisabled } from './cluster-wi-disabled.ts';
import type { Detector } from './detector.ts';
import { gsaDisabled, gsaMissing } from './gsa-lifecycle.ts';
import { bindingOrphaned, gsaBroadRole, gsaShared } from './hygiene.ts';
import { keyFileOverride } from './key-file-override.ts';
import { metadataEgressBlocked } from './metadata-egress-blocked.ts';
import { nodepoolMetadataDisabled } from './nodepool-metadata-disabled.ts';

/** One detector per finding kind of the contract. */
export const DETECTORS: readonly Detector[] = [
  clusterWiDisabled,
  nodepoolMetadataDisabled,
  bindingMissing,
  annotationMissing,
  gsaMissing,
  gsaDisabled,
  metadataEgressBlocked,
  keyFileOverride,
  gsaShared,
  gsaBroadRole,
  bindingOrphaned,
];

/** Every finding the change produces, judged against the inventory before it when one is given. */
export function detect(event: ChangeEvent, snapshot?: Snapshot): Finding[] {
  return DETECTORS.flatMap((detector) => detector.detect(event, snapshot));
}

/**
 * Every firing finding the whole inventory shows, detector by detector (the sweep). Scans have no
 * event: their findings carry no cause, and the same inventory always gives the same findings.
 */
export function scanAll(snapshot: Snapshot): Finding[] {
  return DETECTORS.flatMap((detector) => detector.scan?.(snapshot) ?? []);
}

export type { Detector, Finding };
