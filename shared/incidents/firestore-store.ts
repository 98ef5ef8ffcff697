import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  CollectionReference,
  DocumentData,
  DocumentReference,
  Firestore,
  Settings,
  Transaction,
} from '@google-cloud/firestore';
import type { Incident, OperationRecord, Silence } from '../domain/incident.ts';
import type { SymptomGroupRecord } from '../domain/symptom-group.ts';
import { ConfigError, StoreError } from '../errors.ts';
import { chunksOf, decodeInventory, encodeInventory, INVENTORY_ENCODING } from './inventory-codec.ts';
import {
  DELIVERY_NOTE_INTERVAL_MS,
  type IncidentStore,
  type InventoryMeta,
  SYMPTOM_RETENTION_MS,
} from './store.ts';
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

/**
 * The IncidentStore on Firestore (native mode). Collections, each name preceded by `prefix`:
 *
 * - `incidents/{id}`: `{ id, fingerprint, status, current, open, updatedAt, incident }`; `current`
 *   is false once a newer incident replaced it (kept as history), `open` is `current && status ==
 *   'open'` so `listOpen` is one single-field query (no composite index).
 * - `fingerprints/{id}`: `{ fingerprint, current }`, the pointer to the current incident's id.
 * - `entries/{id}`: `{ key, processedAt, expireAt }` processed markers, expiring after 7 days.
 * - `operations/{id}`: `{ id, event (JSON text), recordedAt, expireAt }`, expiring after a day.
 * - `silences/{id}`: the Silence as it is.
 * - `requests/{id}`: `{ expireAt }`, a signed request already taken (replay protection), expiring
 *   once its signature is too old to be accepted anyway.
 * - `inventory/current`: the manifest of the last-known inventory (InventoryManifest): its
 *   generation, sweep metadata, and how to read and check its chunks.
 * - `inventory-chunks/{generation}-{index}`: `{ generation, index, data (bytes), writtenAt }`, the
 *   compressed Snapshot cut in pieces under the 1 MiB document limit (inventory-codec.ts).
 * - `sentinel/deliveries`: `{ lastAt }`, when an audit entry was last delivered (self-checks).
 * - `symptoms/{id}`: `{ key, activeUntilMs, expireAt, group }`, one symptom group (SymptomGroupRecord)
 *   per key; `activeUntilMs` answers "which groups are active" in one single-field query, and
 *   `expireAt` (SYMPTOM_RETENTION_MS after the group stops being active) is for a TTL policy on the
 *   `symptoms` collection group.
 *
 * An inventory is written under a new generation id: chunks first, then the manifest is switched in
 * a transaction (only to a sweep at least as recent as the stored one), then the old generation is
 * deleted. Chunks are never overwritten, so a reader that finds every chunk the manifest names has
 * one whole inventory; one that misses a chunk (replaced while it read) reads the manifest again.
 *
 * Every document id is the SHA-256 (hex) of its key (fingerprint, incident id, entry key, operation
 * id, silence id): keys contain `/`, may exceed 1,500 bytes or look like `__reserved__`, and the key
 * itself is kept in the document. `expireAt` is a timestamp for Firestore TTL policies on the
 * `entries` and `operations` collection groups (TTL deletes within about a day of expiry, so markers
 * are honoured while they exist rather than compared with the clock).
 *
 * `@google-cloud/firestore` is imported on first use, so a cold start that touches no state never
 * loads it. The Firestore client retries transient failures for minutes; every call here is bounded
 * by `timeoutMs` instead and then fails with a retryable StoreError, so Pub/Sub redelivers while the
 * function still lives (a late commit is harmless: the lifecycle ignores entries already applied).
 */

export interface FirestoreStoreOptions {
  projectId?: string;
  databaseId?: string;
  /** Put before every collection name (letters, digits, `-`, `_`): separates deployments and tests. */
  prefix?: string;
  /** A ready `Firestore` instance (the caller closes it); otherwise one is built on first use. */
  firestore?: unknown;
  /** `host:port` of the Firestore emulator (plain text, no credentials); FIRESTORE_EMULATOR_HOST wins. */
  emulatorHost?: string;
  /** Bound on each store call, ms (default 15 s). */
  timeoutMs?: number;
  /** Clock for `expireAt`, ms since the epoch. */
  now?: () => number;
  /** Bytes per inventory chunk (default INVENTORY_CHUNK_BYTES; tests make it small). */
  inventoryChunkBytes?: number;
}

export interface FirestoreStore extends IncidentStore {
  /** Ends the client this store built (waiting for calls in flight); an injected one is left open. */
  close(): Promise<void>;
}

export const ENTRY_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const OPERATION_TTL_MS = 24 * 60 * 60 * 1000;
const DEFAULT_TIMEOUT_MS = 15_000;
/** Contention between instances aborts transactions; the client's default is 5 attempts. */
const TRANSACTION_ATTEMPTS = 10;
const ABORTED = 10;
/** The project the emulator serves when none is given ("demo-" projects never reach Google). */
const EMULATOR_PROJECT = 'demo-wi-sentinel';

/** gRPC status codes by number (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const GRPC_STATUS = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;
const TRANSIENT = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'ABORTED', 'RESOURCE_EXHAUSTED', 'INTERNAL']);
/** Socket failures that surface without a gRPC status. */
const TRANSIENT_SOCKET = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;

/**
 * Bytes per inventory chunk: under Firestore's 1 MiB document limit with room for the other fields
 * (https://firebase.google.com/docs/firestore/quotas#collections_documents_and_fields).
 */
export const INVENTORY_CHUNK_BYTES = 900_000;
/** Chunk writes in flight at once: fast enough, and far below Firestore's 10 MiB per request. */
const CHUNK_WRITES = 4;
/** A generation never switched to (its writer died) is deleted by a later save after this long. */
export const ORPHAN_AGE_MS = 60 * 60 * 1000;
/** A reader that keeps finding its inventory replaced gives up (retryably) after this many reads. */
const INVENTORY_READS = 3;

/** The `inventory/current` document. */
interface InventoryManifest extends InventoryMeta {
  generation: string;
  chunks: number;
  encoding: string;
  jsonBytes: number;
  storedBytes: number;
  sha256: string;
  savedAt: string;
}

interface SymptomDoc {
  key: string;
  activeUntilMs: number;
  expireAt: Date;
  group: SymptomGroupRecord;
}

interface IncidentDoc {
  id: string;
  fingerprint: string;
  status: Incident['status'];
  current: boolean;
  open: boolean;
  updatedAt: string;
  incident: Incident;
}

/** The document id for a key: safe whatever the key holds. */
export function documentId(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function createFirestoreStore(options: FirestoreStoreOptions = {}): FirestoreStore {
  const prefix = options.prefix ?? '';
  if (!/^[A-Za-z0-9_-]*$/.test(prefix)) {
    throw new ConfigError(
      `Firestore collection prefix ${JSON.stringify(prefix)}: use letters, digits, - or _`,
    );
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const owned = options.firestore === undefined;
  const withLock = createKeyedLock();
  const chunkBytes = options.inventoryChunkBytes ?? INVENTORY_CHUNK_BYTES;
  let database: Promise<Firestore> | undefined;
  /** The last delivery this instance wrote: notes in between are skipped (DELIVERY_NOTE_INTERVAL_MS). */
  let deliveryWritten: number | undefined;

  const db = (): Promise<Firestore> => {
    database ??=
      options.firestore !== undefined ? Promise.resolve(options.firestore as Firestore) : connect(options);
    return database;
  };
  const collection = async (name: string): Promise<CollectionReference<DocumentData>> =>
    (await db()).collection(`${prefix}${name}`);

  /** Bounds `run` by the deadline and turns every failure into a classified StoreError. */
  const call = async <T>(
    operation: string,
    run: () => Promise<T>,
    passThrough?: (error: unknown) => boolean,
  ) => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new StoreError(`firestore ${operation}: no answer within ${timeoutMs} ms`, {
              retryable: true,
              status: 'DEADLINE_EXCEEDED',
            }),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([run(), deadline]);
    } catch (error) {
      if (error instanceof StoreError || passThrough?.(error)) throw error;
      throw classify(operation, error);
    } finally {
      clearTimeout(timer);
    }
  };

  const transactAll: IncidentStore['transactAll'] = async (fingerprints, change) => {
    checkFingerprints(fingerprints);
    // One transaction per fingerprint at a time within this instance: they would only abort each
    // other. Across instances Firestore's transaction keeps the read-modify-write atomic.
    return withEvery(withLock, fingerprints, () => {
      const changeErrors = new Set<unknown>();
      return call(
        'transact',
        async () => {
          const [incidents, pointers] = await Promise.all([
            collection('incidents'),
            collection('fingerprints'),
          ]);
          return runTransaction(await db(), async (transaction) => {
            const pointerRefs = fingerprints.map((fingerprint) => pointers.doc(documentId(fingerprint)));
            const read = pointerRefs.length > 0 ? await transaction.getAll(...pointerRefs) : [];
            const currentIds = read.map((pointer) => pointer.get('current') as string | undefined);
            const currentRefs = currentIds.map((id) =>
              id === undefined ? undefined : incidents.doc(documentId(id)),
            );
            const toRead = currentRefs.filter((ref) => ref !== undefined);
            const docs = toRead.length > 0 ? await transaction.getAll(...toRead) : [];
            const byPath = new Map(docs.map((doc) => [doc.ref.path, doc]));
            const currentDocs = currentRefs.map((ref) =>
              ref === undefined ? undefined : byPath.get(ref.path),
            );
            const current = currentDocs.map((doc) =>
              doc?.exists ? (doc.data() as IncidentDoc).incident : undefined,
            );
            // May run again when Firestore retries the transaction: `change` must be pure.
            const outcome = noting(changeErrors, () => change(current));
            const next = checkAll(fingerprints, outcome.next);
            for (const [i, fingerprint] of fingerprints.entries()) {
              const incident = next[i];
              if (incident === undefined) continue;
              transaction.set(incidents.doc(documentId(incident.id)), incidentDoc(incident, true));
              if (incident.id === currentIds[i]) continue;
              transaction.set(pointerRefs[i] as DocumentReference, { fingerprint, current: incident.id });
              const replaced = currentRefs[i];
              if (replaced !== undefined && currentDocs[i]?.exists) {
                transaction.update(replaced, { current: false, open: false });
              }
            }
            return outcome.result;
          });
        },
        (error) => changeErrors.has(error),
      );
    });
  };

  /** The current incident of the pointer document `pointerId` (a fingerprint's documentId). */
  const currentAt = async (pointerId: string): Promise<Incident | undefined> => {
    const pointer = await (await collection('fingerprints')).doc(pointerId).get();
    const currentId = pointer.get('current') as string | undefined;
    if (currentId === undefined) return undefined;
    const doc = await (await collection('incidents')).doc(documentId(currentId)).get();
    return doc.exists ? (doc.data() as IncidentDoc).incident : undefined;
  };

  return {
    transact: (fingerprint, change) => transactAll([fingerprint], oneOfAll(change)),
    transactAll,

    current(fingerprint) {
      return call('current', () => currentAt(documentId(fingerprint)));
    },

    incident(id) {
      return call('incident', async () => {
        const doc = await (await collection('incidents')).doc(documentId(id)).get();
        return doc.exists ? (doc.data() as IncidentDoc).incident : undefined;
      });
    },

    // A fingerprint's pointer document is named by the SHA-256 of the fingerprint (documentId).
    currentByDigest(digest) {
      return call('currentByDigest', async () =>
        /^[0-9a-f]{64}$/.test(digest) ? currentAt(digest) : undefined,
      );
    },

    listOpen() {
      return call('listOpen', async () => {
        const snapshot = await (await collection('incidents')).where('open', '==', true).get();
        return snapshot.docs.map((doc) => (doc.data() as IncidentDoc).incident).sort(byOpening);
      });
    },

    isProcessed(entryKey) {
      return call('isProcessed', async () => {
        const doc = await (await collection('entries')).doc(documentId(entryKey)).get();
        return doc.exists;
      });
    },

    markProcessed(entryKey) {
      return call('markProcessed', async () => {
        const at = now();
        await (await collection('entries')).doc(documentId(entryKey)).set({
          key: entryKey,
          processedAt: new Date(at).toISOString(),
          expireAt: new Date(at + ENTRY_TTL_MS),
        });
      });
    },

    rememberOperation(record) {
      return call('rememberOperation', async () => {
        await (await collection('operations')).doc(documentId(record.id)).set({
          id: record.id,
          // JSON text: a ChangeEvent may hold arrays of arrays, which Firestore cannot store.
          event: JSON.stringify(record.event),
          recordedAt: record.recordedAt,
          expireAt: new Date(now() + OPERATION_TTL_MS),
        });
      });
    },

    operation(id) {
      return call('operation', async () => {
        const doc = await (await collection('operations')).doc(documentId(id)).get();
        if (!doc.exists) return undefined;
        const data = doc.data() as { id: string; event: string; recordedAt: string };
        const record: OperationRecord = {
          id: data.id,
          event: JSON.parse(data.event) as unknown,
          recordedAt: data.recordedAt,
        };
        return record;
      });
    },

    async rememberRequest(key, expireAt) {
      const until = new Date(timeOf('expireAt', expireAt));
      return call('rememberRequest', async () => {
        const ref = (await collection('requests')).doc(documentId(key));
        try {
          // One write in the usual case: create fails when the document exists.
          await ref.create({ expireAt: until });
          return true;
        } catch (error) {
          if ((error as { code?: unknown }).code !== ALREADY_EXISTS) throw error;
        }
        // Known: still remembered, unless its expiry passed (TTL deletes within a day of it).
        return runTransaction(await db(), async (transaction) => {
          const stored = (await transaction.get(ref)).get('expireAt') as { toMillis(): number } | undefined;
          if (stored !== undefined && stored.toMillis() > now()) return false;
          transaction.set(ref, { expireAt: until });
          return true;
        });
      });
    },

    listSilences() {
      return call('listSilences', async () => {
        const snapshot = await (await collection('silences')).get();
        return snapshot.docs.map((doc) => doc.data() as Silence).sort(bySilenceCreation);
      });
    },

    saveSilence(silence) {
      return call('saveSilence', async () => {
        await (await collection('silences')).doc(documentId(silence.id)).set(toPlain(silence));
      });
    },

    deleteSilence(id) {
      return call('deleteSilence', async () => {
        try {
          await (await collection('silences')).doc(documentId(id)).delete({ exists: true });
          return true;
        } catch (error) {
          if ((error as { code?: unknown }).code === NOT_FOUND) return false;
          throw error;
        }
      });
    },

    async saveInventory(snapshot, { sweptAt, projects, problems }) {
      timeOf('sweptAt', sweptAt);
      const encoded = await encodeInventory(snapshot);
      const chunks = chunksOf(encoded.data, chunkBytes);
      const generation = `${new Date(now()).toISOString()}-${randomUUID()}`;
      const [inventory, chunkCollection] = await Promise.all([
        collection('inventory'),
        collection('inventory-chunks'),
      ]);
      const chunkRef = (gen: string, index: number) => chunkCollection.doc(chunkId(gen, index));
      const writtenAt = new Date(now());
      await forEachLimited(chunks, CHUNK_WRITES, (data, index) =>
        call('saveInventory (chunk)', async () => {
          await chunkRef(generation, index).set({ generation, index, data, writtenAt });
        }),
      );
      const manifest: InventoryManifest = {
        generation,
        sweptAt,
        projects: [...projects],
        problems: [...problems],
        chunks: chunks.length,
        encoding: INVENTORY_ENCODING,
        jsonBytes: encoded.jsonBytes,
        storedBytes: encoded.data.length,
        sha256: encoded.sha256,
        savedAt: new Date(now()).toISOString(),
      };
      const pointer = inventory.doc('current');
      const replaced = await call('saveInventory (switch)', async () =>
        runTransaction(await db(), async (transaction) => {
          const current = (await transaction.get(pointer)).data() as InventoryManifest | undefined;
          if (!supersedes(current?.sweptAt, sweptAt)) return { switched: false, previous: current };
          transaction.set(pointer, manifest);
          return { switched: true, previous: current };
        }),
      );
      // What no manifest names any more goes: the generation replaced (or this one, when a later sweep
      // was stored first), and generations whose writer died before switching. A failure here only
      // leaves garbage that the next save removes.
      const kept = replaced.switched ? manifest : replaced.previous;
      const stale = replaced.switched ? replaced.previous : manifest;
      const refs = stale === undefined ? [] : range(stale.chunks).map((i) => chunkRef(stale.generation, i));
      await call('saveInventory (cleanup)', async () => {
        await deleteAll(refs);
        const orphans = await chunkCollection
          .where('writtenAt', '<', new Date(now() - ORPHAN_AGE_MS))
          .select('generation')
          .get();
        await deleteAll(
          orphans.docs.filter((doc) => doc.get('generation') !== kept?.generation).map((doc) => doc.ref),
        );
      }).catch(() => undefined);
      return replaced.switched;
    },

    loadInventory() {
      return call('loadInventory', async () => {
        const [inventory, chunkCollection] = await Promise.all([
          collection('inventory'),
          collection('inventory-chunks'),
        ]);
        for (let read = 1; read <= INVENTORY_READS; read += 1) {
          const manifest = (await inventory.doc('current').get()).data() as InventoryManifest | undefined;
          if (manifest === undefined) return undefined;
          const refs = range(manifest.chunks).map((i) =>
            chunkCollection.doc(chunkId(manifest.generation, i)),
          );
          const docs = await (await db()).getAll(...refs);
          // A missing chunk: a newer inventory replaced this one while it was read.
          if (docs.some((doc) => !doc.exists)) continue;
          const data = Buffer.concat(docs.map((doc) => doc.get('data') as Buffer));
          const snapshot = await decodeInventory(data, {
            ...manifest,
            what: `inventory generation ${manifest.generation}`,
          });
          const { sweptAt, projects, problems } = manifest;
          return { snapshot, sweptAt, projects, problems };
        }
        throw new StoreError(`firestore loadInventory: replaced ${INVENTORY_READS} times while being read`, {
          retryable: true,
          status: 'ABORTED',
        });
      });
    },

    inventoryMeta() {
      return call('inventoryMeta', async () => {
        const manifest = (await (await collection('inventory')).doc('current').get()).data() as
          | InventoryManifest
          | undefined;
        if (manifest === undefined) return undefined;
        const { sweptAt, projects, problems } = manifest;
        return { sweptAt, projects, problems };
      });
    },

    noteDelivery(at) {
      return call('noteDelivery', async () => {
        const ms = timeOf('delivery', at);
        if (deliveryWritten !== undefined && ms - deliveryWritten < DELIVERY_NOTE_INTERVAL_MS) return;
        const ref = (await collection('sentinel')).doc('deliveries');
        await runTransaction(await db(), async (transaction) => {
          const stored = (await transaction.get(ref)).get('lastAt') as string | undefined;
          // Instances note in any order: the note only moves forward.
          if (stored === undefined || timeOf('delivery', stored) < ms) transaction.set(ref, { lastAt: at });
        });
        deliveryWritten = ms;
      });
    },

    lastDelivery() {
      return call('lastDelivery', async () => {
        const doc = await (await collection('sentinel')).doc('deliveries').get();
        return doc.get('lastAt') as string | undefined;
      });
    },

    transactSymptomGroup(key, change) {
      // As `transact`: serialised per key within the instance, a Firestore transaction across them.
      return withLock(`symptoms\u0000${key}`, () => {
        const changeErrors = new Set<unknown>();
        return call(
          'transactSymptomGroup',
          async () => {
            const ref = (await collection('symptoms')).doc(documentId(key));
            return runTransaction(await db(), async (transaction) => {
              const doc = await transaction.get(ref);
              const current = doc.exists ? (doc.data() as SymptomDoc).group : undefined;
              const outcome = noting(changeErrors, () => change(current));
              if (outcome.next !== undefined) transaction.set(ref, symptomDoc(key, outcome.next));
              return outcome.result;
            });
          },
          (error) => changeErrors.has(error),
        );
      });
    },

    symptomGroup(key) {
      return call('symptomGroup', async () => {
        const doc = await (await collection('symptoms')).doc(documentId(key)).get();
        return doc.exists ? (doc.data() as SymptomDoc).group : undefined;
      });
    },

    listSymptomGroups({ activeAt } = {}) {
      return call('listSymptomGroups', async () => {
        const symptoms = await collection('symptoms');
        const query =
          activeAt === undefined
            ? symptoms
            : symptoms.where('activeUntilMs', '>', timeOf('activeAt', activeAt));
        const snapshot = await query.get();
        return snapshot.docs.map((doc) => (doc.data() as SymptomDoc).group).sort(byKey);
      });
    },

    async close() {
      if (owned && database !== undefined) {
        const client = await database.catch(() => undefined);
        await client?.terminate();
      }
    },
  };
}

/**
 * A transaction, retried here on contention (ABORTED) only. The client would retry it by itself
 * on UNKNOWN, INTERNAL and more as well, with backoff, until our deadline took it for "no answer":
 * a write Firestore refuses (the emulator answers UNKNOWN to text that is not UTF-8) must fail with
 * its own status, so it is classified by it, permanent or retryable.
 */
export async function runTransaction<T>(
  firestore: Firestore,
  update: (transaction: Transaction) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await firestore.runTransaction(update, { maxAttempts: 1 });
    } catch (error) {
      if ((error as { code?: unknown }).code !== ABORTED || attempt >= TRANSACTION_ATTEMPTS) throw error;
      await sleep(Math.min(1_000, 25 * 2 ** attempt) * (0.5 + Math.random()));
    }
  }
}

/** Runs a caller's change, noting what it throws: that error is the caller's, not a store failure. */
function noting<T>(errors: Set<unknown>, run: () => T): T {
  try {
    return run();
  } catch (error) {
    errors.add(error);
    throw error;
  }
}

function chunkId(generation: string, index: number): string {
  return `${generation}-${String(index).padStart(5, '0')}`;
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/** Deletes in batches of at most 500 writes (Firestore's limit per batch). */
async function deleteAll(refs: readonly DocumentReference[]): Promise<void> {
  for (let start = 0; start < refs.length; start += 500) {
    const slice = refs.slice(start, start + 500);
    const first = slice[0];
    if (first === undefined) return;
    const batch = first.firestore.batch();
    for (const ref of slice) batch.delete(ref);
    await batch.commit();
  }
}

/** Runs `run` over `items` with at most `limit` in flight; rejects with the first failure. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  run: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      await run(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function symptomDoc(key: string, next: SymptomGroupRecord): SymptomDoc {
  const group = checkSymptomGroup(key, next);
  const activeUntilMs = Date.parse(group.activeUntil);
  return { key, activeUntilMs, expireAt: new Date(activeUntilMs + SYMPTOM_RETENTION_MS), group };
}

function incidentDoc(incident: Incident, current: boolean): IncidentDoc {
  return {
    id: incident.id,
    fingerprint: incident.fingerprint,
    status: incident.status,
    current,
    open: current && incident.status === 'open',
    updatedAt: incident.updatedAt,
    incident,
  };
}

async function connect(options: FirestoreStoreOptions): Promise<Firestore> {
  let Firestore: typeof import('@google-cloud/firestore').Firestore;
  try {
    ({ Firestore } = await import('@google-cloud/firestore'));
  } catch (error) {
    throw new StoreError(`cannot load @google-cloud/firestore: ${(error as Error).message}`, {
      retryable: false,
      cause: error,
    });
  }
  return new Firestore(firestoreSettings(options));
}

/** The client settings for these options (exported so tests build their clients alike). */
export function firestoreSettings(
  options: Pick<FirestoreStoreOptions, 'projectId' | 'databaseId' | 'emulatorHost'>,
) {
  // Incidents are stored as plain JSON; an optional member left undefined is simply absent.
  const settings: Settings = { ignoreUndefinedProperties: true };
  if (options.projectId !== undefined) settings.projectId = options.projectId;
  if (options.databaseId !== undefined) settings.databaseId = options.databaseId;
  if (options.emulatorHost !== undefined) {
    settings.host = options.emulatorHost;
    settings.ssl = false;
    settings.projectId ??= EMULATOR_PROJECT;
    // Otherwise google-gax asks Application Default Credentials for the universe domain before the
    // first call, which probes the GCE metadata server: slow, and noisy off Google Cloud.
    settings.universeDomain = 'googleapis.com';
  }
  return settings;
}

/** Transient Firestore failures are retryable (Pub/Sub redelivers); everything else is permanent. */
export function classify(operation: string, error: unknown): StoreError {
  const code = (error as { code?: unknown } | null)?.code;
  const status =
    typeof code === 'number'
      ? (GRPC_STATUS[code] ?? String(code))
      : typeof code === 'string'
        ? code
        : undefined;
  const retryable = status !== undefined && (TRANSIENT.has(status) || TRANSIENT_SOCKET.has(status));
  const message = error instanceof Error ? error.message : String(error);
  return new StoreError(`firestore ${operation} failed: ${message}`, {
    retryable,
    ...(status === undefined ? {} : { status }),
    cause: error,
  });
}
