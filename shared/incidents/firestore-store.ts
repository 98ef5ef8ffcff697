import { createHash } from 'node:crypto';
import type { CollectionReference, DocumentData, Firestore, Settings } from '@google-cloud/firestore';
import { ConfigError, StoreError } from '../errors.ts';
import type { Incident, OperationRecord, Silence } from './incident.ts';
import type { IncidentStore } from './store.ts';
import { byOpening, bySilenceCreation, checkNext, createKeyedLock, toPlain } from './store-support.ts';

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
  let database: Promise<Firestore> | undefined;

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

  return {
    transact(fingerprint, change) {
      // One transaction per fingerprint at a time within this instance: they would only abort each
      // other. Across instances Firestore's transaction keeps the read-modify-write atomic.
      return withLock(fingerprint, () => {
        const changeErrors = new Set<unknown>();
        return call(
          'transact',
          async () => {
            const [incidents, fingerprints] = await Promise.all([
              collection('incidents'),
              collection('fingerprints'),
            ]);
            return (await db()).runTransaction(
              async (transaction) => {
                const pointerRef = fingerprints.doc(documentId(fingerprint));
                const pointer = await transaction.get(pointerRef);
                const currentId = pointer.get('current') as string | undefined;
                const currentRef = currentId === undefined ? undefined : incidents.doc(documentId(currentId));
                const currentDoc = currentRef === undefined ? undefined : await transaction.get(currentRef);
                const current = currentDoc?.exists ? (currentDoc.data() as IncidentDoc).incident : undefined;
                let outcome: ReturnType<typeof change>;
                try {
                  // May run again when Firestore retries the transaction: `change` must be pure.
                  outcome = change(current);
                } catch (error) {
                  changeErrors.add(error);
                  throw error;
                }
                if (outcome.next !== undefined) {
                  const next = checkNext(fingerprint, outcome.next);
                  transaction.set(incidents.doc(documentId(next.id)), incidentDoc(next, true));
                  if (next.id !== currentId) {
                    transaction.set(pointerRef, { fingerprint, current: next.id });
                    if (currentRef !== undefined && currentDoc?.exists) {
                      transaction.update(currentRef, { current: false, open: false });
                    }
                  }
                }
                return outcome.result;
              },
              { maxAttempts: TRANSACTION_ATTEMPTS },
            );
          },
          (error) => changeErrors.has(error),
        );
      });
    },

    current(fingerprint) {
      return call('current', async () => {
        const pointer = await (await collection('fingerprints')).doc(documentId(fingerprint)).get();
        const currentId = pointer.get('current') as string | undefined;
        if (currentId === undefined) return undefined;
        const doc = await (await collection('incidents')).doc(documentId(currentId)).get();
        return doc.exists ? (doc.data() as IncidentDoc).incident : undefined;
      });
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

    async close() {
      if (owned && database !== undefined) {
        const client = await database.catch(() => undefined);
        await client?.terminate();
      }
    },
  };
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
