import type { Incident, Silence } from '../domain/incident.ts';
import type { SymptomGroupRecord } from '../domain/symptom-group.ts';
import { illFormedPath } from '../domain/well-formed.ts';
import { StoreError } from '../errors.ts';
import { MAX_FINGERPRINTS_AT_ONCE } from './store.ts';

/**
 * What every store implementation shares: the same checks on what `transact` may store and the same
 * copy semantics (stored state is plain JSON, so memory behaves as Firestore does).
 */

/**
 * Firestore refuses documents over 1 MiB (https://firebase.google.com/docs/firestore/quotas#collections_documents_and_fields).
 * An incident whose JSON exceeds this is refused before the write, with a message that says why,
 * leaving room for the document's envelope and Firestore's per-field overhead.
 */
export const MAX_INCIDENT_BYTES = 900_000;

/** A deep copy as JSON would keep it: `undefined` members dropped, no shared references. */
export function toPlain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Checks `next` and returns the plain copy to store. Throws a permanent StoreError when it is unfit. */
function checkNext(fingerprint: string, next: Incident): Incident {
  if (next.fingerprint !== fingerprint) {
    throw new StoreError(
      `incident ${next.id} has fingerprint ${next.fingerprint}, not the transacted ${fingerprint}`,
      { retryable: false },
    );
  }
  checkText(`incident ${next.id}`, next);
  const json = JSON.stringify(next);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > MAX_INCIDENT_BYTES) {
    throw new StoreError(
      `incident ${next.id} is ${bytes} bytes as JSON, over the ${MAX_INCIDENT_BYTES}-byte limit ` +
        `(${next.finding.ksas.length} KSAs, ${next.finding.workloads?.length ?? 0} workloads)`,
      { retryable: false },
    );
  }
  return JSON.parse(json) as Incident;
}

/** What `transactAll`'s change returned to store, each checked (checkNext) before any is kept: all or nothing. */
export function checkAll(
  fingerprints: readonly string[],
  next: readonly (Incident | undefined)[] = [],
): (Incident | undefined)[] {
  return fingerprints.map((fingerprint, i) => {
    const incident = next[i];
    return incident === undefined ? undefined : checkNext(fingerprint, incident);
  });
}

/**
 * Firestore stores strings as UTF-8 and refuses a lone surrogate (INVALID_ARGUMENT; the emulator
 * answers UNKNOWN, which its transaction retries until our deadline). Input is made well formed
 * where it is decoded; what still is not is refused here, permanently, saying where.
 */
function checkText(what: string, value: unknown): void {
  const at = illFormedPath(value);
  if (at === undefined) return;
  throw new StoreError(`${what}: ${at} is not well-formed text (a lone UTF-16 surrogate)`, {
    retryable: false,
    status: 'INVALID_ARGUMENT',
  });
}

/** Refuses what `transactAll` cannot take: the same fingerprint twice, or more than a transaction holds. */
export function checkFingerprints(fingerprints: readonly string[]): void {
  if (new Set(fingerprints).size !== fingerprints.length) {
    throw new StoreError('transactAll: a fingerprint is given twice', { retryable: false });
  }
  if (fingerprints.length > MAX_FINGERPRINTS_AT_ONCE) {
    throw new StoreError(
      `transactAll: ${fingerprints.length} fingerprints, over the ${MAX_FINGERPRINTS_AT_ONCE} one transaction takes`,
      { retryable: false },
    );
  }
}

/** `transact` as `transactAll` of one fingerprint: the one way both stores change incidents. */
export function oneOfAll<T>(
  change: (current: Incident | undefined) => { next?: Incident; result: T },
): (current: (Incident | undefined)[]) => { next?: (Incident | undefined)[]; result: T } {
  return ([current]) => {
    const { next, result } = change(current);
    return { ...(next === undefined ? {} : { next: [next] }), result };
  };
}

/**
 * Runs callbacks one at a time per key, in call order, across awaits: what `transact` needs to be
 * atomic per fingerprint within one process. Keys with nothing queued hold no memory.
 */
export type KeyedLock = <T>(key: string, run: () => Promise<T>) => Promise<T>;

/** Holds the locks of every key (taken in sorted order, so two callers never wait on each other). */
export function withEvery<T>(lock: KeyedLock, keys: readonly string[], run: () => Promise<T>): Promise<T> {
  return [...keys].sort().reduceRight<() => Promise<T>>((inner, key) => () => lock(key, inner), run)();
}

export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<void>>();
  return async (key, run) => {
    const previous = tails.get(key);
    let release = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    tails.set(key, mine);
    try {
      if (previous !== undefined) await previous;
      return await run();
    } finally {
      release();
      if (tails.get(key) === mine) tails.delete(key);
    }
  };
}

/** Current incidents first opened first, then by id: the order both stores list them in. */
export function byOpening(a: Incident, b: Incident): number {
  return a.openedAt.localeCompare(b.openedAt) || a.id.localeCompare(b.id);
}

/** Silences oldest first, then by id. */
export function bySilenceCreation(a: Silence, b: Silence): number {
  return a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);
}

/** Epoch ms of an ISO 8601 time handed to a store; a permanent StoreError names the field otherwise. */
export function timeOf(field: string, value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new StoreError(`${field} ${JSON.stringify(value)} is not an ISO 8601 time`, { retryable: false });
  }
  return ms;
}

/** Whether an inventory swept at `candidate` may replace one swept at `stored` (ties: the later save wins). */
export function supersedes(stored: string | undefined, candidate: string): boolean {
  const at = timeOf('sweptAt', candidate);
  return stored === undefined || at >= timeOf('sweptAt', stored);
}

/** A symptom group is bounded by construction (window.ts); far more than that is a bug, refused. */
export const MAX_SYMPTOM_GROUP_BYTES = 200_000;

/** Checks a symptom group before it is stored and returns the plain copy to store. */
export function checkSymptomGroup(key: string, next: SymptomGroupRecord): SymptomGroupRecord {
  if (next.key !== key) {
    throw new StoreError(`symptom group ${next.key} stored under the key ${key}`, { retryable: false });
  }
  timeOf('activeUntil', next.activeUntil);
  checkText(`symptom group ${key}`, next);
  const json = JSON.stringify(next);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > MAX_SYMPTOM_GROUP_BYTES) {
    throw new StoreError(
      `symptom group ${key} is ${bytes} bytes as JSON, over the ${MAX_SYMPTOM_GROUP_BYTES}-byte limit`,
      { retryable: false },
    );
  }
  return JSON.parse(json) as SymptomGroupRecord;
}

/** Symptom groups by key: the order both stores list them in. */
export function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
