import type { Finding } from '../domain/finding.ts';
import type { Incident, TransitionType } from '../domain/incident.ts';
import type { SymptomGroupRecord } from '../domain/symptom-group.ts';
import type { LiveState } from '../gcp/ports.ts';
import type { StepOptions } from '../incidents/lifecycle.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { Snapshot } from '../inventory/snapshot.ts';
import { snapshotState } from '../live/snapshot-state.ts';
import type { Logger } from '../log.ts';
import type { Routing } from '../notify/routing.ts';
import type { Senders } from '../notify/types.ts';
import { DEFAULT_SYMPTOM_OPTIONS, type SymptomOptions } from './group.ts';
import type { ChangeDeps } from './incident-change.ts';

/**
 * What the units of the symptom path share (path.ts joins them): the store, the options, the clock,
 * the way incidents are told, alerting's applyFindings, the organization, and two lists an instance
 * reads once and shares between the deliveries of a few seconds.
 */

export interface PathResult {
  outcome: 'invalid' | 'ignored' | 'duplicate' | 'handled';
  reason?: string;
  findings: Finding[];
  incidents: { incident: Incident; transition?: TransitionType; sent: string[] }[];
  /** Failures a retry can cure: the delivery fails so Pub/Sub brings it back. */
  retryable: Error[];
}

export type Settled = Omit<PathResult, 'outcome'>;

export type Log = Logger['log'];

/** alerting's applyFindings: `wi-auth-failures` opens and resolves through the common path. */
export type ApplyFindings = (
  findings: readonly Finding[],
  key: string,
  log: Log,
  options: StepOptions,
) => Promise<{ incidents: PathResult['incidents']; retryable: Error[] }>;

export interface SymptomDeps {
  store: IncidentStore;
  senders: Senders;
  routing: Routing;
  logger: Logger;
  now?: () => Date;
  /** The simulated organization (WI_SNAPSHOT, replay): who a pod is, and live state for diagnoses. */
  inventory?: { current(): Snapshot | undefined };
  /** Live: the last sweep's inventory, who a pod is. */
  lastKnown?: () => Promise<Snapshot | undefined>;
  /** Live state: pods the inventory does not know, and diagnoses. */
  live?: LiveState;
  claimTtlMs?: number;
  applyFindings: ApplyFindings;
  options?: Partial<SymptomOptions>;
}

/** A list read once and shared for `options.openCacheMs`; a failed read is not kept. */
export interface SharedList<T> {
  get(at: Date): Promise<T[]>;
  invalidate(): void;
}

export interface SymptomContext {
  store: IncidentStore;
  routing: Routing;
  options: SymptomOptions;
  now: () => Date;
  /** How evidence and explanations reach an incident's destinations (changeIncident). */
  tell: ChangeDeps;
  applyFindings: ApplyFindings;
  /** Open incidents (the incident side catches up anyway). */
  open: SharedList<Incident>;
  /** Active groups, for incidents that open: most deliveries with findings meet none. */
  active: SharedList<SymptomGroupRecord>;
  /** The organization: simulated, else the last sweep's. */
  inventory(): Promise<Snapshot | undefined>;
  /** Live state for diagnoses: the ports, else the organization as its own live state. */
  liveState(snapshot: Snapshot | undefined): LiveState | undefined;
}

export function sharedList<T>(everyMs: number, read: (at: Date) => Promise<T[]>): SharedList<T> {
  let cached: { at: number; list: Promise<T[]> } | undefined;
  return {
    async get(at) {
      if (cached === undefined || at.getTime() - cached.at >= everyMs) {
        cached = { at: at.getTime(), list: read(at) };
      }
      const mine = cached;
      try {
        return await mine.list;
      } catch (error) {
        if (cached === mine) cached = undefined;
        throw error;
      }
    },
    invalidate() {
      cached = undefined;
    },
  };
}

export function createContext(deps: SymptomDeps): SymptomContext {
  const options: SymptomOptions = { ...DEFAULT_SYMPTOM_OPTIONS, ...deps.options };
  const now = deps.now ?? (() => new Date());
  const { store } = deps;
  return {
    store,
    routing: deps.routing,
    options,
    now,
    tell: {
      store,
      senders: deps.senders,
      routing: deps.routing,
      now,
      ...(deps.claimTtlMs !== undefined ? { claimTtlMs: deps.claimTtlMs } : {}),
    },
    applyFindings: deps.applyFindings,
    open: sharedList(options.openCacheMs, () => store.listOpen()),
    active: sharedList(options.openCacheMs, (at) => store.listSymptomGroups({ activeAt: at.toISOString() })),
    async inventory() {
      return deps.inventory?.current() ?? (await deps.lastKnown?.());
    },
    liveState(snapshot) {
      if (deps.live) return deps.live;
      // A simulated organization is its own live state, read as it is now.
      return deps.inventory
        ? snapshotState(() => deps.inventory?.current())
        : snapshot
          ? snapshotState(() => snapshot)
          : undefined;
    },
  };
}

/** An answer with nothing done: invalid, ignored. */
export function answer(outcome: PathResult['outcome'], reason: string): PathResult {
  return { outcome, reason, findings: [], incidents: [], retryable: [] };
}
