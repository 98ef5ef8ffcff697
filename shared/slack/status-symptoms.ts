import type { MetadataServerAlertLine, StatusSymptoms } from '../status/symptoms.ts';
import { DEFAULT_WINDOW, type SymptomGroup, symptomCounts, type WindowOptions } from '../symptoms/window.ts';

/**
 * What `/wi-status` and `wi-sentinel status` are given of what workloads feel: the stored symptom
 * groups counted at `now` (symptomCounts), and the metadata server's alerts Monitoring holds open.
 */

/** A stored symptom group: the window's aggregate and, for a Monitoring alert, its state. */
export type StatusGroup = SymptomGroup & {
  alert?: {
    state: 'open' | 'closed';
    startedAt: string;
    observedValue?: string;
    thresholdValue?: string;
    url?: string;
  };
};

/** The counts and open alerts of the stored groups at `now`. */
export function statusSymptoms(
  groups: readonly StatusGroup[],
  now: Date,
  options: WindowOptions = DEFAULT_WINDOW,
): StatusSymptoms {
  const failing = groups.filter((group) => group.alert === undefined && group.count > 0);
  const state = { groups: Object.fromEntries(failing.map((group) => [group.key, group])) };
  const alerts = groups.flatMap((group): MetadataServerAlertLine[] =>
    group.alert?.state === 'open'
      ? [
          {
            project: group.project,
            cluster: group.cluster,
            startedAt: group.alert.startedAt,
            ...(group.alert.observedValue ? { observedValue: group.alert.observedValue } : {}),
            ...(group.alert.thresholdValue ? { thresholdValue: group.alert.thresholdValue } : {}),
            ...(group.alert.url ? { url: group.alert.url } : {}),
          },
        ]
      : [],
  );
  return {
    counts: symptomCounts(state, now.getTime(), options),
    alerts,
    at: now.toISOString(),
    windowMs: options.windowMs,
  };
}
