import { CASES as annotationMissing } from './annotation-missing.ts';
import { CASES as bindingMissing } from './binding-missing.ts';
import type { DetectorCase } from './case.ts';
import { CASES as clusterWiDisabled } from './cluster-wi-disabled.ts';
import { CASES as gsaLifecycle } from './gsa-lifecycle.ts';
import { CASES as hygiene } from './hygiene.ts';
import { CASES as keyFileOverride } from './key-file-override.ts';
import { CASES as metadataEgressBlocked } from './metadata-egress-blocked.ts';
import { CASES as nodepoolMetadataDisabled } from './nodepool-metadata-disabled.ts';

/** Every detector table, keyed by the detector source file it tests (the registry meta-tests read it). */
export const CASES_BY_FILE: Record<string, readonly DetectorCase[]> = {
  'annotation-missing.ts': annotationMissing,
  'binding-missing.ts': bindingMissing,
  'cluster-wi-disabled.ts': clusterWiDisabled,
  'gsa-lifecycle.ts': gsaLifecycle,
  'hygiene.ts': hygiene,
  'key-file-override.ts': keyFileOverride,
  'metadata-egress-blocked.ts': metadataEgressBlocked,
  'nodepool-metadata-disabled.ts': nodepoolMetadataDisabled,
};

export const ALL_CASES: readonly DetectorCase[] = Object.values(CASES_BY_FILE).flat();
