import { fingerprintDigest, type Incident, type OperationRecord, type Silence } from '../domain/incident.ts';
import type { SymptomGroupRecord } from '../domain/symptom-group.ts';
import type { IncidentStore, InventoryMeta } from './store.ts';
import {
  byKey,
  byOpening,
  bySilenceCreation,
  checkAll,
  checkFingerprints,
  checkSymptomGroup,
  createKeyedLock,
  oneOfAll,
  supersedes,
  timeOf,
  toPlain,
  withEvery,
} from './store-support.ts';

export interface MemoryStoreOptions {
  /** Processed markers kept; the oldest are forgotten first (Firestore expires them after 7 days). */
  maxEntries?: number;
  /** Operation records kept; the oldest are forgotten first (Firestore expires them after a day). */
  maxOperations?: number;
  /** Symptom groups kept; those active the shortest are forgotten first (Firestore expires them). */
  maxSymptomGroups?: number;
  /** Remembered requests kept past their expiry before they are swept out. */
  maxRequests?: number;
}

/**
 * The store for tests, `replay` and the embedded default: one process, no I/O. Everything is copied
 * as plain JSON on the way in and out, so a caller that mutates what it passed or got back never
 * changes stored state. Old incidents replaced by a new id stay in memory as history.
 */
export function createMemoryStore({
  maxEntries = 100_000,
  maxOperations = 10_000,
  maxSymptomGroups = 10_000,
  maxRequests = 10_000,
}: MemoryStoreOptions = {}): IncidentStore {
  const incidents = new Map<string, Incident>();
  /** fingerprint → id of its current incident */
  const pointers = new Map<string, string>();
  const entries = new Set<string>();
  const operations = new Map<string, OperationRecord>();
  const silences = new Map<string, Silence>();
  /** Remembered request → when it may be forgotten (ms). */
  const requests = new Map<string, number>();
  const symptoms = new Map<string, SymptomGroupRecord>();
  const withLock = createKeyedLock();
  const withGroupLock = createKeyedLock();
  /** The inventory as JSON text: saved and loaded whole, never shared with a caller. */
  let inventory: { json: string; meta: InventoryMeta } | undefined;
  let delivered: string | undefined;

  const currentOf = (fingerprint: string): Incident | undefined => {
    const id = pointers.get(fingerprint);
    return id === undefined ? undefined : incidents.get(id);
  };

  const transactAll: IncidentStore['transactAll'] = async (fingerprints, change) => {
    checkFingerprints(fingerprints);
    return withEvery(withLock, fingerprints, async () => {
      const stored = fingerprints.map((fingerprint) => {
        const incident = currentOf(fingerprint);
        return incident === undefined ? undefined : toPlain(incident);
      });
      const { next, result } = change(stored);
      const kept = checkAll(fingerprints, next);
      for (const [i, fingerprint] of fingerprints.entries()) {
        const plain = kept[i];
        if (plain === undefined) continue;
        incidents.set(plain.id, plain);
        pointers.set(fingerprint, plain.id);
      }
      return result;
    });
  };

  return {
    transact: (fingerprint, change) => transactAll([fingerprint], oneOfAll(change)),
    transactAll,
    async current(fingerprint) {
      const stored = currentOf(fingerprint);
      return stored === undefined ? undefined : toPlain(stored);
    },
    async incident(id) {
      const stored = incidents.get(id);
      return stored === undefined ? undefined : toPlain(stored);
    },
    async currentByDigest(digest) {
      for (const fingerprint of pointers.keys()) {
        if (fingerprintDigest(fingerprint) !== digest) continue;
        const stored = currentOf(fingerprint);
        return stored === undefined ? undefined : toPlain(stored);
      }
      return undefined;
    },
    async listOpen() {
      const open: Incident[] = [];
      for (const fingerprint of pointers.keys()) {
        const stored = currentOf(fingerprint);
        if (stored?.status === 'open') open.push(toPlain(stored));
      }
      return open.sort(byOpening);
    },
    async isProcessed(entryKey) {
      return entries.has(entryKey);
    },
    async markProcessed(entryKey) {
      entries.delete(entryKey);
      entries.add(entryKey);
      evictOldest(entries, maxEntries);
    },
    async rememberOperation(record) {
      operations.delete(record.id);
      operations.set(record.id, toPlain(record));
      evictOldest(operations, maxOperations);
    },
    async operation(id) {
      const record = operations.get(id);
      return record === undefined ? undefined : toPlain(record);
    },
    async rememberRequest(key, expireAt) {
      const until = timeOf('expireAt', expireAt);
      const now = Date.now();
      const known = requests.get(key);
      if (known !== undefined && known > now) return false;
      requests.set(key, until);
      // Expired ones go first; live ones are never forgotten (that would let a replay through).
      if (requests.size > maxRequests) {
        for (const [stored, at] of requests) if (at <= now) requests.delete(stored);
      }
      return true;
    },
    async listSilences() {
      return [...silences.values()].map(toPlain).sort(bySilenceCreation);
    },
    async saveSilence(silence) {
      silences.set(silence.id, toPlain(silence));
    },
    async deleteSilence(id) {
      return silences.delete(id);
    },
    async saveInventory(snapshot, { sweptAt, projects, problems }) {
      if (!supersedes(inventory?.meta.sweptAt, sweptAt)) return false;
      inventory = { json: JSON.stringify(snapshot), meta: toPlain({ sweptAt, projects, problems }) };
      return true;
    },
    async loadInventory() {
      if (inventory === undefined) return undefined;
      return { snapshot: JSON.parse(inventory.json), ...toPlain(inventory.meta) };
    },
    async inventoryMeta() {
      return inventory === undefined ? undefined : toPlain(inventory.meta);
    },
    async noteDelivery(at) {
      if (delivered === undefined || timeOf('delivery', at) > timeOf('delivery', delivered)) delivered = at;
    },
    async lastDelivery() {
      return delivered;
    },
    transactSymptomGroup(key, change) {
      return withGroupLock(key, async () => {
        const stored = symptoms.get(key);
        const { next, result } = change(stored === undefined ? undefined : toPlain(stored));
        if (next !== undefined) {
          symptoms.set(key, checkSymptomGroup(key, next));
          if (symptoms.size > maxSymptomGroups) forgetShortestActive(symptoms, key, maxSymptomGroups);
        }
        return result;
      });
    },
    async symptomGroup(key) {
      const stored = symptoms.get(key);
      return stored === undefined ? undefined : toPlain(stored);
    },
    async listSymptomGroups({ activeAt } = {}) {
      const at = activeAt === undefined ? undefined : timeOf('activeAt', activeAt);
      return [...symptoms.values()]
        .filter((group) => at === undefined || Date.parse(group.activeUntil) > at)
        .map(toPlain)
        .sort(byKey);
    },
  };
}

/** Drops the groups whose activity ends first (never `keep`, the one just written) down to `max`. */
function forgetShortestActive(groups: Map<string, SymptomGroupRecord>, keep: string, max: number): void {
  const order = [...groups.values()]
    .filter((group) => group.key !== keep)
    .sort((a, b) => Date.parse(a.activeUntil) - Date.parse(b.activeUntil));
  for (const group of order.slice(0, groups.size - max)) groups.delete(group.key);
}

/** Sets and maps iterate in insertion order, so the first keys are the oldest. */
function evictOldest(collection: Set<string> | Map<string, unknown>, max: number): void {
  for (const key of collection.keys()) {
    if (collection.size <= max) return;
    collection.delete(key);
  }
}
