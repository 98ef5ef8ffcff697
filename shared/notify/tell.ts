import type { Incident, Silence } from '../domain/incident.ts';
import type { IncidentStore } from '../incidents/store.ts';
import {
  CLAIM_TTL_MS,
  type Claims,
  claimDestinations,
  type DeliveryReport,
  deliver,
  settleClaims,
} from './deliver.ts';
import { destinationKey, type Routing, routeIncident } from './routing.ts';
import type { Senders } from './types.ts';

/**
 * Changes an incident and tells its destinations what they are owed, exactly once each: one
 * transaction applies `change` and claims the destinations still owed (so a delivery running at the
 * same time cannot decide to tell them too), the claimed ones are told, and the outcome is settled
 * in a second transaction. Findings (alerting's applyFindings) and symptom evidence both go this way.
 */
export interface TellDeps {
  store: Pick<IncidentStore, 'transactAll'>;
  senders: Senders;
  routing: Routing;
  claimTtlMs?: number;
}

export interface Told<T> {
  /** The incident as stored after telling (undefined when there is none for the fingerprint). */
  incident?: Incident;
  result: T;
  /** Destinations another delivery is telling right now. */
  busy: string[];
  /** `destination transition`, one per destination told. */
  sent: string[];
  permanent: Error[];
  retryable: Error[];
}

/** One incident change: the pure step of its fingerprint's current incident. */
export interface IncidentChange<T> {
  fingerprint: string;
  change: (current: Incident | undefined) => { next?: Incident; result: T };
}

export interface TellOptions {
  silences: readonly Silence[];
  at: Date;
  /** This delivery's identity in claims. */
  token: string;
}

export async function changeAndTell<T>(
  deps: TellDeps,
  fingerprint: string,
  change: (current: Incident | undefined) => { next?: Incident; result: T },
  options: TellOptions,
): Promise<Told<T>> {
  const [told] = await changeAndTellAll(deps, [{ fingerprint, change }], options);
  return told as Told<T>;
}

/** How many destinations are told at once: a delivery of many incidents does not open a socket each. */
const SENDS_AT_ONCE = 8;

/**
 * `changeAndTell` for all the changes of one delivery, in two store writes however many there are:
 * one transaction steps every incident (changes of the same fingerprint in order, each seeing the
 * one before) and claims what each owes, the claimed destinations are told, and one transaction
 * settles every outcome. Results come in the order of `changes`; what a fingerprint's destinations
 * were told is reported on its last change.
 */
export async function changeAndTellAll<T>(
  deps: TellDeps,
  changes: readonly IncidentChange<T>[],
  { silences, at, token }: TellOptions,
): Promise<Told<T>[]> {
  const fingerprints = [...new Set(changes.map((c) => c.fingerprint))];
  const stepped = await deps.store.transactAll(fingerprints, (stored) => {
    const current = new Map(fingerprints.map((fingerprint, i) => [fingerprint, stored[i]]));
    const changed = new Set<string>();
    const results = changes.map(({ fingerprint, change }) => {
      const { next, result } = change(current.get(fingerprint));
      if (next !== undefined) {
        current.set(fingerprint, next);
        changed.add(fingerprint);
      }
      return result;
    });
    const claims = fingerprints.map((fingerprint) => {
      const incident = current.get(fingerprint);
      if (incident === undefined) return { mine: [], busy: [] } satisfies Partial<Claims>;
      return claimDestinations(
        incident,
        routeIncident(incident, deps.routing),
        token,
        at,
        deps.claimTtlMs ?? CLAIM_TTL_MS,
      );
    });
    const next = fingerprints.map((fingerprint, i) => {
      const claim = claims[i];
      const claimed = claim && 'incident' in claim ? claim.incident : undefined;
      return changed.has(fingerprint) || (claim?.mine.length ?? 0) > 0 ? claimed : undefined;
    });
    return { next, result: { results, claims } };
  });
  const { results, claims } = stepped;

  // Tell what was claimed, a few destinations at a time.
  const reports = new Map<string, DeliveryReport>();
  const owed = fingerprints.flatMap((fingerprint, i) => {
    const claim = claims[i];
    return claim && 'incident' in claim && claim.mine.length > 0 ? [{ fingerprint, claim }] : [];
  });
  await forEachLimited(owed, SENDS_AT_ONCE, async ({ fingerprint, claim }) => {
    const claimed = routeIncident(claim.incident, deps.routing).filter((d) =>
      claim.mine.includes(destinationKey(d)),
    );
    reports.set(fingerprint, await deliver(claim.incident, claimed, deps.senders, { silences, now: at }));
  });

  let stored = new Map<string, Incident | undefined>();
  const settled = fingerprints.filter((fingerprint) => reports.has(fingerprint));
  if (settled.length > 0) {
    stored = await deps.store.transactAll(settled, (current) => {
      const next = settled.map((fingerprint, i) => {
        const incident = claims[fingerprints.indexOf(fingerprint)] as Claims;
        const report = reports.get(fingerprint) as DeliveryReport;
        const now = current[i];
        if (now?.id !== incident.incident.id) return undefined;
        const settledIncident: Incident = {
          ...now,
          notifications: settleClaims(now, report, incident.mine, token),
        };
        if (report.silencedBy) settledIncident.silencedBy = report.silencedBy;
        return settledIncident;
      });
      return {
        next,
        result: new Map(settled.map((fingerprint, i) => [fingerprint, next[i] ?? current[i]])),
      };
    });
  }

  const lastOf = new Map(changes.map((c, i) => [c.fingerprint, i]));
  return changes.map(({ fingerprint }, index) => {
    const claim = claims[fingerprints.indexOf(fingerprint)];
    const incident = stored.get(fingerprint) ?? (claim && 'incident' in claim ? claim.incident : undefined);
    const result = results[index] as T;
    const told: Told<T> = { result, busy: [], sent: [], permanent: [], retryable: [] };
    if (incident === undefined) return told;
    if (lastOf.get(fingerprint) !== index) return { ...told, incident };
    const report = reports.get(fingerprint);
    return {
      ...told,
      incident,
      busy: claim?.busy ?? [],
      ...(report
        ? {
            sent: report.sent.map((s) => `${s.destination} ${s.transition}`),
            permanent: report.permanent,
            retryable: report.retryable,
          }
        : {}),
    };
  });
}

/** Runs `run` over `items`, at most `limit` at a time. */
async function forEachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
