import type { Finding } from '../../../shared/domain/finding.ts';
import type { Incident } from '../../../shared/domain/incident.ts';
import { step } from '../../../shared/incidents/lifecycle.ts';
import type { IncidentStore } from '../../../shared/incidents/store.ts';

/** Incidents as the lifecycle opens them, for tests of what /wi-status says about them. */
export function incidentOf(
  finding: Finding,
  openedAt: string,
  entryKey = `entry-${finding.fingerprint}`,
): Incident {
  const next = step(undefined, finding, entryKey, new Date(openedAt)).next;
  if (next === undefined) throw new Error(`the lifecycle opened no incident for ${finding.fingerprint}`);
  return next;
}

/** Opens the finding's incident in the store, as auditEvents would. */
export async function openIncident(
  store: IncidentStore,
  finding: Finding,
  openedAt: string,
): Promise<Incident> {
  const incident = incidentOf(finding, openedAt);
  await store.transact(finding.fingerprint, () => ({ next: incident, result: undefined }));
  return incident;
}
