import type { Incident, OperationRecord, Silence } from '../domain/incident.ts';
import type { SymptomGroupRecord } from '../domain/symptom-group.ts';
import type { Snapshot } from '../inventory/snapshot.ts';

/** What a sweep says about the inventory it saves. */
export interface InventoryMeta {
  /** When the sweep read the organization (ISO 8601): a newer sweep's inventory replaces an older one. */
  sweptAt: string;
  /** The projects the sweep covered. */
  projects: string[];
  /** What the sweep could not read (one line each, naming the object and the reason). */
  problems: string[];
}

/** The last-known inventory: the organization as the latest sweep saw it. */
export interface StoredInventory extends InventoryMeta {
  snapshot: Snapshot;
}

/**
 * The one port every state store implements: Firestore in production, memory for tests, `replay`
 * and the embedded default. Implementations must make `transact` atomic per fingerprint.
 */
export interface IncidentStore {
  /**
   * Reads the fingerprint's current incident (open, or the last resolved one) and, atomically, stores
   * `next` when `change` returns one. A `next` with another id than the current one starts a new
   * incident (the old one stays as history). Returns `change`'s result.
   */
  transact<T>(
    fingerprint: string,
    change: (current: Incident | undefined) => { next?: Incident; result: T },
  ): Promise<T>;
  /**
   * `transact` for several fingerprints at once, all or nothing, in one round of the store (one
   * Firestore transaction): what one delivery changes is one write, however many incidents it
   * touches. `change` gets the current incident of each fingerprint, in order, and may return a
   * `next` for each (undefined: unchanged). Fingerprints must be distinct, at most
   * MAX_FINGERPRINTS_AT_ONCE.
   */
  transactAll<T>(
    fingerprints: readonly string[],
    change: (current: (Incident | undefined)[]) => { next?: (Incident | undefined)[]; result: T },
  ): Promise<T>;
  current(fingerprint: string): Promise<Incident | undefined>;
  /** An incident by its id (open, resolved, or replaced since): what a Slack button names. */
  incident(id: string): Promise<Incident | undefined>;
  /**
   * The current incident of the fingerprint whose SHA-256 (hex) is `digest`: PagerDuty's dedup_key is
   * that digest (notify/pagerduty-render.ts), and its webhooks name the incident by it.
   */
  currentByDigest(digest: string): Promise<Incident | undefined>;
  listOpen(): Promise<Incident[]>;
  /** Whether every effect of the log entry (state and deliveries) is done. */
  isProcessed(entryKey: string): Promise<boolean>;
  markProcessed(entryKey: string): Promise<void>;
  rememberOperation(record: OperationRecord): Promise<void>;
  operation(id: string): Promise<OperationRecord | undefined>;
  /**
   * Remembers `key` until `expireAt` (ISO 8601), atomically across instances: true the first time,
   * false while it is remembered. What a signed request is recognised by when it comes again
   * (replay protection); a store may forget it any time after `expireAt`.
   */
  rememberRequest(key: string, expireAt: string): Promise<boolean>;
  listSilences(): Promise<Silence[]>;
  saveSilence(silence: Silence): Promise<void>;
  deleteSilence(id: string): Promise<boolean>;
  /**
   * Keeps `snapshot` as the last-known inventory, whole or not at all: a reader sees the previous
   * inventory or this one, never a mix. An inventory swept before the stored one is dropped (a slow
   * sweep never replaces a later one). Returns whether it was stored.
   */
  saveInventory(snapshot: Snapshot, meta: InventoryMeta): Promise<boolean>;
  /** The last-known inventory; `undefined` before the first sweep saved one. */
  loadInventory(): Promise<StoredInventory | undefined>;
  /** The last-known inventory's metadata only (cheap: no snapshot is read), e.g. how old it is. */
  inventoryMeta(): Promise<InventoryMeta | undefined>;
  /**
   * Notes that an audit entry was delivered and processed at `at` (ISO 8601), for the self-check that
   * deliveries still arrive. Cheap enough for every delivery: a store may keep only one note per
   * DELIVERY_NOTE_INTERVAL_MS, and never moves the note back in time.
   */
  noteDelivery(at: string): Promise<void>;
  /** The latest noted delivery, at most DELIVERY_NOTE_INTERVAL_MS behind the latest `noteDelivery`. */
  lastDelivery(): Promise<string | undefined>;
  /**
   * Reads the symptom group `key` (credential failures of one cluster / namespace / KSA, or one
   * Monitoring alert) and, atomically, stores `next` when `change` returns one. As with `transact`,
   * `change` must be pure: a store may run it again when a concurrent writer got there first.
   */
  transactSymptomGroup<T>(
    key: string,
    change: (current: SymptomGroupRecord | undefined) => { next?: SymptomGroupRecord; result: T },
  ): Promise<T>;
  symptomGroup(key: string): Promise<SymptomGroupRecord | undefined>;
  /**
   * Symptom groups by key; with `activeAt` (ISO 8601), only those still active then (`activeUntil`
   * later). Groups are forgotten some time after they stop being active (SYMPTOM_RETENTION_MS).
   */
  listSymptomGroups(options?: { activeAt?: string }): Promise<SymptomGroupRecord[]>;
}

/**
 * The most fingerprints one `transactAll` may change: each costs up to three writes (the incident,
 * its pointer, the incident it replaces) and Firestore takes 500 in a transaction.
 * https://firebase.google.com/docs/firestore/quotas#writes_and_transactions
 */
export const MAX_FINGERPRINTS_AT_ONCE = 100;

/** How long a symptom group is kept once inactive: its incident links outlive the quiet window. */
export const SYMPTOM_RETENTION_MS = 24 * 60 * 60 * 1000;

/** How far `lastDelivery` may lag behind the latest `noteDelivery`: readers allow this much slack. */
export const DELIVERY_NOTE_INTERVAL_MS = 60_000;
