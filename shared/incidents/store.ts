import type { Incident, OperationRecord, Silence } from './incident.ts';

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
  current(fingerprint: string): Promise<Incident | undefined>;
  listOpen(): Promise<Incident[]>;
  /** Whether every effect of the log entry (state and deliveries) is done. */
  isProcessed(entryKey: string): Promise<boolean>;
  markProcessed(entryKey: string): Promise<void>;
  rememberOperation(record: OperationRecord): Promise<void>;
  operation(id: string): Promise<OperationRecord | undefined>;
  listSilences(): Promise<Silence[]>;
  saveSilence(silence: Silence): Promise<void>;
  deleteSilence(id: string): Promise<boolean>;
}
