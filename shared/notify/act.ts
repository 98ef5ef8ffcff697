import { randomUUID } from 'node:crypto';
import type { Incident } from '../domain/incident.ts';
import type { ActOutcome } from '../incidents/acts.ts';
import type { IncidentStore } from '../incidents/store.ts';
import { changeAndTell, type TellDeps, type Told } from './tell.ts';

/**
 * Applies what someone did (incidents/acts.ts) to an incident, if it is still its fingerprint's
 * current one, and tells its destinations what that owes them (the message edited, PagerDuty
 * acknowledged), exactly once each, as every incident change is told (tell.ts). The Slack buttons
 * (slack/incident-actions.ts) and PagerDuty's webhooks (functions/pagerduty-webhook.ts) both act so.
 */
export function actAndTell(
  deps: TellDeps & { store: Pick<IncidentStore, 'transactAll' | 'listSilences'> },
  incident: Pick<Incident, 'id' | 'fingerprint'>,
  act: (current: Incident) => ActOutcome,
  at: Date = new Date(),
): Promise<Told<ActOutcome>> {
  return deps.store.listSilences().then((silences) =>
    changeAndTell<ActOutcome>(
      deps,
      incident.fingerprint,
      (current) => {
        // A newer incident of the same fingerprint is not the one acted on; the old one is resolved.
        if (current?.id !== incident.id) return { result: { outcome: 'unchanged', why: 'resolved' } };
        const outcome = act(current);
        return outcome.outcome === 'changed' ? { next: outcome.next, result: outcome } : { result: outcome };
      },
      { silences, at, token: randomUUID() },
    ),
  );
}
