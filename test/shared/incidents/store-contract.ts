import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Finding } from '../../../shared/domain/finding.ts';
import type { Incident, OperationRecord, Silence } from '../../../shared/domain/incident.ts';
import type { SymptomGroupRecord } from '../../../shared/domain/symptom-group.ts';
import { StoreError } from '../../../shared/errors.ts';
import { DELIVERY_NOTE_INTERVAL_MS, type IncidentStore } from '../../../shared/incidents/store.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { loadSnapshot } from '../../support/snapshots.ts';
import { largeInventory } from './large-inventory.ts';

/**
 * The behaviour every IncidentStore owes, run against each implementation. `makeStore` is called
 * once per test and must return an empty store that no other test sees.
 */

export const FINGERPRINT =
  'binding-missing/acme-prod/payments-api@acme-prod.iam.gserviceaccount.com/acme-prod.svc.id.goog/payments/api';

export function finding(fingerprint = FINGERPRINT, overrides: Partial<Finding> = {}): Finding {
  return {
    kind: 'binding-missing',
    status: 'firing',
    severity: 'critical',
    fingerprint,
    project: 'acme-prod',
    cluster: { location: 'us-central1', name: 'prod-1' },
    gsa: 'payments-api@acme-prod.iam.gserviceaccount.com',
    ksas: [{ workloadPool: 'acme-prod.svc.id.goog', namespace: 'payments', name: 'api' }],
    workloads: [{ cluster: 'prod-1', namespace: 'payments', kind: 'Deployment', name: 'api', pods: 3 }],
    cause: {
      method: 'google.iam.admin.v1.SetIAMPolicy',
      actor: 'alice@example.com',
      time: '2026-11-28T10:00:00Z',
      insertId: 'abc',
    },
    summary: 'payments/api lost roles/iam.workloadIdentityUser on payments-api',
    remediation: [
      { title: 'Restore the binding', command: 'gcloud iam service-accounts add-iam-policy-binding' },
    ],
    ...overrides,
  };
}

export function incident(overrides: Partial<Incident> = {}): Incident {
  const fingerprint = overrides.fingerprint ?? FINGERPRINT;
  return {
    id: 'inc-1',
    fingerprint,
    kind: 'binding-missing',
    status: 'open',
    severity: 'critical',
    finding: finding(fingerprint),
    openedAt: '2026-11-28T10:00:05Z',
    updatedAt: '2026-11-28T10:00:05Z',
    seq: 1,
    transitions: [{ seq: 1, type: 'opened', at: '2026-11-28T10:00:05Z', summary: 'opened' }],
    entries: ['audit/abc'],
    notifications: {
      'slack:#wi-alerts': { seq: 1, slack: { channel: 'C123', ts: '1700000000.000100' } },
      // Destination keys with dots and slashes must survive as map keys.
      'pagerduty:5f2b.9/x': { seq: 0, error: 'invalid routing key' },
    },
    ...overrides,
  };
}

function silence(overrides: Partial<Silence> = {}): Silence {
  return {
    id: 'sil-1',
    matchers: { project: 'acme-prod', namespace: 'pay*' },
    createdAt: '2026-11-28T09:00:00Z',
    expiresAt: '2026-11-29T09:00:00Z',
    author: 'bob@example.com',
    reason: 'migration',
    ...overrides,
  };
}

export const GROUP_KEY = 'orbit-prod/europe-west4/core-1/checkout/cart';

/** A symptom group as the symptom path stores it: active until 10:17, linked to one incident. */
export function symptomGroup(overrides: Partial<SymptomGroupRecord> = {}): SymptomGroupRecord {
  return {
    key: GROUP_KEY,
    project: 'orbit-prod',
    cluster: { location: 'europe-west4', name: 'core-1' },
    namespace: 'checkout',
    ksa: 'cart',
    gsa: 'cart@orbit-prod.iam.gserviceaccount.com',
    workloadPool: 'orbit-prod.svc.id.goog',
    firstSeen: '2026-11-28T10:02:00Z',
    lastSeen: '2026-11-28T10:02:30Z',
    count: 2,
    buckets: [{ start: Date.parse('2026-11-28T10:02:00Z'), count: 2 }],
    kinds: { 'token-denied': 2 },
    libraries: { go: 2 },
    pods: ['cart-6d8-a'],
    nodePools: ['general'],
    workloads: ['Deployment/cart'],
    samples: [
      {
        time: '2026-11-28T10:02:00Z',
        pod: 'cart-6d8-a',
        container: 'cart',
        kind: 'token-denied',
        library: 'go',
        message: "compute: Received 403 `Permission 'iam.serviceAccounts.getAccessToken' denied`",
      },
    ],
    recentIds: ['a', 'b'],
    scope: 'ksa',
    activeUntil: '2026-11-28T10:17:30Z',
    updatedAt: '2026-11-28T10:02:31Z',
    // Keys with slashes and dots, in an array of maps.
    links: [{ fingerprint: FINGERPRINT, incident: 'inc-1', pushedAt: '2026-11-28T10:02:31Z' }],
    ...overrides,
  };
}

/** Two generated organizations of 50 clusters and 60,000 pods each, built once for every store. */
let large: { a: Snapshot; aJson: string; b: Snapshot; bJson: string } | undefined;
function largeInventories() {
  if (large === undefined) {
    const a = largeInventory({ seed: 1 });
    const b = largeInventory({ seed: 2 });
    large = { a, aJson: JSON.stringify(a), b, bJson: JSON.stringify(b) };
  }
  return large;
}

const SWEEP = { sweptAt: '2026-11-28T10:00:00.000Z', projects: ['orbit-prod'], problems: [] };

/** Stores `value` as the fingerprint's current incident. */
async function put(store: IncidentStore, value: Incident): Promise<void> {
  await store.transact(value.fingerprint, () => ({ next: value, result: undefined }));
}

export function runStoreContract(
  name: string,
  makeStore: () => Promise<IncidentStore> | IncidentStore,
): void {
  describe(`${name}: IncidentStore contract`, () => {
    describe('transact', () => {
      it('sees no incident for a new fingerprint and stores nothing without `next`', async () => {
        const store = await makeStore();
        const seen: (Incident | undefined)[] = [];
        const result = await store.transact(FINGERPRINT, (current) => {
          seen.push(current);
          return { result: 'nothing to do' };
        });
        assert.equal(result, 'nothing to do');
        assert.deepEqual(seen, [undefined]);
        assert.equal(await store.current(FINGERPRINT), undefined);
        assert.deepEqual(await store.listOpen(), []);
      });

      it('creates an incident and returns the change result', async () => {
        const store = await makeStore();
        const created = incident();
        const result = await store.transact(FINGERPRINT, (current) => ({
          next: created,
          result: { opened: current === undefined },
        }));
        assert.deepEqual(result, { opened: true });
        assert.deepEqual(await store.current(FINGERPRINT), created);
        assert.deepEqual(await store.listOpen(), [created]);
      });

      it('updates the current incident in place, handing the change what was stored', async () => {
        const store = await makeStore();
        await put(store, incident());
        const updated = await store.transact(FINGERPRINT, (current) => {
          assert.deepEqual(current, incident());
          assert.ok(current);
          const next: Incident = {
            ...current,
            seq: 2,
            updatedAt: '2026-11-28T10:05:00Z',
            transitions: [
              ...current.transitions,
              { seq: 2, type: 'updated', at: '2026-11-28T10:05:00Z', summary: 'one more KSA' },
            ],
            entries: [...current.entries, 'audit/def'],
          };
          return { next, result: next };
        });
        assert.deepEqual(await store.current(FINGERPRINT), updated);
        assert.deepEqual(await store.listOpen(), [updated]);
      });

      it('keeps a resolved incident as current but not as open', async () => {
        const store = await makeStore();
        await put(store, incident());
        const resolved = incident({
          status: 'resolved',
          seq: 2,
          resolvedAt: '2026-11-28T11:00:00Z',
          resolution: {
            summary: 'binding restored',
            cause: { method: 'SetIAMPolicy', actor: 'bob@example.com' },
          },
        });
        await put(store, resolved);
        assert.deepEqual(await store.current(FINGERPRINT), resolved);
        assert.deepEqual(await store.listOpen(), []);
      });

      it('starts a new incident when `next` has another id: current points to the new one', async () => {
        const store = await makeStore();
        await put(store, incident({ status: 'resolved', resolvedAt: '2026-11-28T11:00:00Z' }));
        const reopened = incident({
          id: 'inc-2',
          openedAt: '2026-11-28T12:00:00Z',
          updatedAt: '2026-11-28T12:00:00Z',
        });
        const previous = await store.transact(FINGERPRINT, (current) => ({
          next: reopened,
          result: current?.id,
        }));
        assert.equal(previous, 'inc-1');
        assert.deepEqual(await store.current(FINGERPRINT), reopened);
        assert.deepEqual(await store.listOpen(), [reopened]);
        // The next change builds on the new incident, not on the history.
        const seen = await store.transact(FINGERPRINT, (current) => ({ result: current?.id }));
        assert.equal(seen, 'inc-2');
      });

      it('lists only the current incident of a fingerprint even when the replaced one was open', async () => {
        const store = await makeStore();
        await put(store, incident());
        const replacement = incident({ id: 'inc-2', openedAt: '2026-11-28T12:00:00Z' });
        await put(store, replacement);
        assert.deepEqual(await store.listOpen(), [replacement]);
      });

      it('lists open incidents of every fingerprint, first opened first', async () => {
        const store = await makeStore();
        const late = incident({
          id: 'b',
          fingerprint: 'gsa-disabled/acme-prod/x',
          openedAt: '2026-11-28T12:00:00Z',
        });
        const early = incident({
          id: 'c',
          fingerprint: 'gsa-disabled/acme-prod/y',
          openedAt: '2026-11-28T08:00:00Z',
        });
        const resolved = incident({ id: 'a', fingerprint: 'gsa-disabled/acme-prod/z', status: 'resolved' });
        await Promise.all([put(store, late), put(store, early), put(store, resolved)]);
        assert.deepEqual(await store.listOpen(), [early, late]);
        assert.deepEqual(await store.current('gsa-disabled/acme-prod/z'), resolved);
      });

      it('applies concurrent changes to one fingerprint one after another: no lost update', async () => {
        const store = await makeStore();
        const results = await Promise.all(
          Array.from({ length: 20 }, () =>
            store.transact(FINGERPRINT, (current) => {
              const seq = (current?.seq ?? 0) + 1;
              const next = current === undefined ? incident({ seq }) : { ...current, seq };
              return { next, result: seq };
            }),
          ),
        );
        assert.deepEqual(
          [...results].sort((a, b) => a - b),
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        assert.equal((await store.current(FINGERPRINT))?.seq, 20);
      });

      it('keeps concurrent changes of different fingerprints apart', async () => {
        const store = await makeStore();
        const other = 'gsa-disabled/acme-prod/other';
        await Promise.all([
          store.transact(FINGERPRINT, () => ({ next: incident(), result: 1 })),
          store.transact(other, () => ({
            next: incident({ id: 'inc-other', fingerprint: other }),
            result: 2,
          })),
        ]);
        assert.equal((await store.current(other))?.id, 'inc-other');
        assert.equal((await store.current(FINGERPRINT))?.id, 'inc-1');
      });

      it('rejects with the change’s own error and stores nothing; later changes still run', async () => {
        const store = await makeStore();
        const boom = new Error('lifecycle bug');
        await assert.rejects(
          store.transact(FINGERPRINT, () => {
            throw boom;
          }),
          (error) => error === boom,
        );
        assert.equal(await store.current(FINGERPRINT), undefined);
        assert.equal(await store.transact(FINGERPRINT, () => ({ next: incident(), result: 'ok' })), 'ok');
      });

      it('refuses a `next` of another fingerprint with a permanent StoreError', async () => {
        const store = await makeStore();
        await assert.rejects(
          store.transact(FINGERPRINT, () => ({
            next: incident({ fingerprint: 'gsa-disabled/x' }),
            result: 0,
          })),
          (error) => error instanceof StoreError && !error.retryable && /fingerprint/.test(error.message),
        );
        assert.equal(await store.current(FINGERPRINT), undefined);
      });

      it('refuses an incident too large for one document with a permanent StoreError', async () => {
        const store = await makeStore();
        const workloads = Array.from({ length: 12_000 }, (_, i) => ({
          cluster: 'prod-1',
          namespace: 'payments',
          kind: 'Deployment',
          name: `api-${i}-${'x'.repeat(40)}`,
        }));
        const huge = incident({ finding: finding(FINGERPRINT, { workloads }) });
        await assert.rejects(
          put(store, huge),
          (error) => error instanceof StoreError && !error.retryable && /12000 workloads/.test(error.message),
        );
        assert.equal(await store.current(FINGERPRINT), undefined);
      });
      it('refuses text that is not well formed (a lone surrogate) permanently, saying where', async () => {
        const store = await makeStore();
        const bad = incident({ finding: finding(FINGERPRINT, { summary: 'broken by \ud800mallory' }) });
        await assert.rejects(
          store.transact(FINGERPRINT, () => ({ next: bad, result: undefined })),
          (error) =>
            error instanceof StoreError &&
            !error.retryable &&
            error.status === 'INVALID_ARGUMENT' &&
            /incident inc-1: finding\.summary is not well-formed text/.test(error.message),
        );
        assert.equal(await store.current(FINGERPRINT), undefined);
      });
    });

    describe('lookups by incident id and by fingerprint digest (Slack buttons, PagerDuty webhooks)', () => {
      it('finds an incident by id, replaced or not, and the current one by its fingerprint digest', async () => {
        const store = await makeStore();
        await put(store, incident());
        const digest = createHash('sha256').update(FINGERPRINT, 'utf8').digest('hex');
        assert.deepEqual(await store.incident('inc-1'), incident());
        assert.deepEqual(await store.currentByDigest(digest), incident());
        await store.transact(FINGERPRINT, () => ({ next: incident({ id: 'inc-2' }), result: null }));
        assert.equal((await store.incident('inc-1'))?.id, 'inc-1', 'the replaced one stays readable');
        assert.equal((await store.currentByDigest(digest))?.id, 'inc-2');
        assert.equal(await store.incident('inc-404'), undefined);
        assert.equal(await store.currentByDigest('0'.repeat(64)), undefined);
        assert.equal(await store.currentByDigest('not a digest'), undefined);
      });
    });

    describe('transactAll: one delivery, one write', () => {
      const other = `${FINGERPRINT}-b`;
      const third = `${FINGERPRINT}-c`;
      const of = (fingerprint: string, id: string, seq = 1) =>
        incident({ id, fingerprint, finding: finding(fingerprint), seq });

      it('changes several incidents at once, handing the change each one as stored, in order', async () => {
        const store = await makeStore();
        await store.transact(other, () => ({ next: of(other, 'b-1'), result: undefined }));
        const seen = await store.transactAll([FINGERPRINT, other, third], (current) => ({
          next: [of(FINGERPRINT, 'a-1'), current[1] ? { ...current[1], seq: 2 } : undefined, undefined],
          result: current.map((c) => c?.id),
        }));
        assert.deepEqual(seen, [undefined, 'b-1', undefined]);
        assert.equal((await store.current(FINGERPRINT))?.id, 'a-1');
        assert.equal((await store.current(other))?.seq, 2);
        assert.equal(await store.current(third), undefined);
      });

      it('is all or nothing: one unfit incident, none stored', async () => {
        const store = await makeStore();
        await assert.rejects(
          store.transactAll([FINGERPRINT, other], () => ({
            next: [of(FINGERPRINT, 'a-1'), of(third, 'c-1')],
            result: undefined,
          })),
          (error) => error instanceof StoreError && !error.retryable,
        );
        assert.equal(await store.current(FINGERPRINT), undefined);
      });

      it('refuses a fingerprint given twice, or more than one transaction takes', async () => {
        const store = await makeStore();
        await assert.rejects(
          store.transactAll([FINGERPRINT, FINGERPRINT], () => ({ result: undefined })),
          (error) => error instanceof StoreError && /given twice/.test(error.message),
        );
        const many = Array.from({ length: 101 }, (_, i) => `${FINGERPRINT}-${i}`);
        await assert.rejects(
          store.transactAll(many, () => ({ result: undefined })),
          (error) => error instanceof StoreError && /101 fingerprints/.test(error.message),
        );
      });

      it('loses no update when it runs beside single changes of the same fingerprints', async () => {
        const store = await makeStore();
        await store.transactAll([FINGERPRINT, other], () => ({
          next: [of(FINGERPRINT, 'a', 0), of(other, 'b', 0)],
          result: undefined,
        }));
        const bump = (i: Incident | undefined) => (i ? { ...i, seq: i.seq + 1 } : undefined);
        await Promise.all([
          ...Array.from({ length: 5 }, () =>
            store.transactAll([other, FINGERPRINT], (c) => ({ next: c.map(bump), result: undefined })),
          ),
          ...Array.from({ length: 5 }, () =>
            store.transact(FINGERPRINT, (c) => ({
              ...(c ? { next: { ...c, seq: c.seq + 1 } } : {}),
              result: undefined,
            })),
          ),
        ]);
        assert.equal((await store.current(FINGERPRINT))?.seq, 10);
        assert.equal((await store.current(other))?.seq, 5);
      });
    });

    describe('copies', () => {
      it('is not changed by mutating what was stored, read or handed to a change', async () => {
        const store = await makeStore();
        const original = incident();
        const stored = incident();
        await put(store, stored);
        stored.seq = 99;
        stored.entries.push('mutated');
        const read = await store.current(FINGERPRINT);
        assert.ok(read);
        read.transitions.length = 0;
        read.finding.ksas.length = 0;
        const [listed] = await store.listOpen();
        assert.ok(listed);
        listed.notifications = {};
        await store.transact(FINGERPRINT, (current) => {
          assert.ok(current);
          current.status = 'resolved';
          current.finding.summary = 'mutated';
          return { result: undefined };
        });
        assert.deepEqual(await store.current(FINGERPRINT), original);
      });

      it('is not changed by mutating saved or listed silences and remembered operations', async () => {
        const store = await makeStore();
        const saved = silence();
        await store.saveSilence(saved);
        saved.matchers.project = 'mutated';
        const [listed] = await store.listSilences();
        assert.ok(listed);
        listed.reason = 'mutated';
        assert.deepEqual(await store.listSilences(), [silence()]);

        const record: OperationRecord = { id: 'op-1', event: { type: 'x', list: [1] }, recordedAt: 'now' };
        await store.rememberOperation(record);
        (record.event as { list: number[] }).list.push(2);
        const read = await store.operation('op-1');
        assert.ok(read);
        (read.event as { list: number[] }).list.push(3);
        assert.deepEqual((await store.operation('op-1'))?.event, { type: 'x', list: [1] });
      });
    });

    describe('processed markers', () => {
      it('marks entries processed, idempotently, for any key', async () => {
        const store = await makeStore();
        const keys = [
          'abc',
          'projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity/abc',
          `x${'y'.repeat(2_000)}`,
        ];
        for (const key of keys) assert.equal(await store.isProcessed(key), false);
        await store.markProcessed(keys[0] ?? '');
        await store.markProcessed(keys[0] ?? '');
        await store.markProcessed(keys[1] ?? '');
        await store.markProcessed(keys[2] ?? '');
        for (const key of keys) assert.equal(await store.isProcessed(key), true);
        assert.equal(await store.isProcessed('other'), false);
      });
    });

    describe('operations', () => {
      it('remembers an operation’s first entry by id and replaces it when remembered again', async () => {
        const store = await makeStore();
        const id = 'projects/acme-prod/locations/us-central1/operations/operation-1700000000000-abc';
        assert.equal(await store.operation(id), undefined);
        const record: OperationRecord = {
          id,
          // Arrays of arrays are plain JSON but not something every database stores as-is.
          event: {
            kind: 'node-pool-update',
            actor: 'alice@example.com',
            matrix: [[1, 2], [3]],
            nested: { a: null },
          },
          recordedAt: '2026-11-28T10:00:00Z',
        };
        await store.rememberOperation(record);
        assert.deepEqual(await store.operation(id), record);
        const again = { ...record, recordedAt: '2026-11-28T10:00:01Z' };
        await store.rememberOperation(again);
        assert.deepEqual(await store.operation(id), again);
        assert.equal(await store.operation('operation-other'), undefined);
      });
    });

    describe('inventory', () => {
      it('has none before the first sweep saved one', async () => {
        const store = await makeStore();
        assert.equal(await store.loadInventory(), undefined);
      });

      it('gives back the snapshot and its sweep metadata as saved', async () => {
        const store = await makeStore();
        const meta = {
          sweptAt: '2026-11-28T10:00:00.000Z',
          projects: ['orbit-prod', 'orbit-dev'],
          problems: ['orbit-dev: clusters not listed (container answered 403)'],
        };
        assert.equal(await store.inventoryMeta(), undefined);
        assert.equal(await store.saveInventory(loadSnapshot(), meta), true);
        assert.deepEqual(await store.loadInventory(), { snapshot: loadSnapshot(), ...meta });
        assert.deepEqual(await store.inventoryMeta(), meta);
      });

      it('keeps the later sweep: an earlier one saved after it is dropped', async () => {
        const store = await makeStore();
        const later = { ...SWEEP, sweptAt: '2026-11-28T11:00:00.000Z' };
        const smaller: Snapshot = {
          projects: [{ projectId: 'orbit-dev', clusters: [], serviceAccounts: [] }],
        };
        assert.equal(await store.saveInventory(smaller, SWEEP), true);
        assert.equal(await store.saveInventory(loadSnapshot(), later), true);
        assert.equal(await store.saveInventory(smaller, SWEEP), false);
        assert.deepEqual(await store.loadInventory(), { snapshot: loadSnapshot(), ...later });
      });

      it('is not changed by mutating the snapshot saved or loaded', async () => {
        const store = await makeStore();
        const saved = loadSnapshot();
        await store.saveInventory(saved, SWEEP);
        saved.projects.length = 0;
        const loaded = await store.loadInventory();
        assert.ok(loaded);
        loaded.snapshot.projects[0]?.clusters.splice(0);
        loaded.projects.push('mutated');
        assert.deepEqual(await store.loadInventory(), { snapshot: loadSnapshot(), ...SWEEP });
      });

      it('refuses a sweep time that is not a time, with a permanent StoreError', async () => {
        const store = await makeStore();
        await assert.rejects(
          store.saveInventory(loadSnapshot(), { ...SWEEP, sweptAt: 'yesterday' }),
          (error) =>
            error instanceof StoreError && !error.retryable && /sweptAt "yesterday"/.test(error.message),
        );
        assert.equal(await store.loadInventory(), undefined);
      });

      it('keeps a large organization whole: 50 clusters, 60,000 pods, over 20 MB of JSON', async () => {
        const store = await makeStore();
        const { a, aJson } = largeInventories();
        assert.ok(aJson.length > 20_000_000, `${aJson.length} bytes of JSON`);
        assert.equal(await store.saveInventory(a, SWEEP), true);
        const loaded = await store.loadInventory();
        assert.ok(loaded);
        assert.equal(loaded.snapshot.projects.flatMap((p) => p.clusters).length, 50);
        assert.equal(
          loaded.snapshot.projects.flatMap((p) => p.clusters.flatMap((c) => c.pods)).length,
          60_000,
        );
        // Compared as text: a deep comparison's failure message would print megabytes.
        assert.ok(JSON.stringify(loaded.snapshot) === aJson, 'the loaded snapshot is the saved one');
      });

      it('shows a reader during a write the old inventory or the new one, never a mix', async () => {
        const store = await makeStore();
        const { a, aJson, b, bJson } = largeInventories();
        const later = { ...SWEEP, sweptAt: '2026-11-28T11:00:00.000Z' };
        await store.saveInventory(a, SWEEP);
        let saved = false;
        const saving = store.saveInventory(b, later).finally(() => {
          saved = true;
        });
        const seen: string[] = [];
        do {
          const loaded = await store.loadInventory();
          assert.ok(loaded, 'an inventory is there throughout');
          const json = JSON.stringify(loaded.snapshot);
          const which = json === aJson ? 'old' : json === bJson ? 'new' : 'a mix';
          assert.equal(
            which,
            loaded.sweptAt === later.sweptAt ? 'new' : 'old',
            'snapshot and metadata agree',
          );
          seen.push(which);
        } while (!saved);
        assert.equal(await saving, true);
        assert.ok(seen.length >= 1);
        const after = await store.loadInventory();
        assert.equal(after?.sweptAt, later.sweptAt);
        assert.ok(JSON.stringify(after?.snapshot) === bJson, 'the new inventory once the save is done');
      });
    });

    describe('deliveries', () => {
      it('notes the latest delivery, never moving back in time', async () => {
        const store = await makeStore();
        assert.equal(await store.lastDelivery(), undefined);
        const first = Date.parse('2026-11-28T10:00:00.000Z');
        const iso = (ms: number) => new Date(ms).toISOString();
        await store.noteDelivery(iso(first));
        assert.equal(await store.lastDelivery(), iso(first));
        await store.noteDelivery(iso(first - 3_600_000));
        assert.equal(await store.lastDelivery(), iso(first), 'an older note changes nothing');
        const later = first + 2 * DELIVERY_NOTE_INTERVAL_MS;
        await store.noteDelivery(iso(first + 1_000));
        await store.noteDelivery(iso(later));
        const last = Date.parse((await store.lastDelivery()) ?? '');
        assert.ok(
          last <= later && last >= later - DELIVERY_NOTE_INTERVAL_MS,
          `${iso(last)}: within the note interval of ${iso(later)}`,
        );
      });
    });

    describe('symptom groups', () => {
      it('creates a group, gives it back as stored, and stores nothing without `next`', async () => {
        const store = await makeStore();
        const seen: (SymptomGroupRecord | undefined)[] = [];
        assert.equal(
          await store.transactSymptomGroup(GROUP_KEY, (current) => {
            seen.push(current);
            return { result: 'nothing' };
          }),
          'nothing',
        );
        assert.deepEqual(seen, [undefined]);
        assert.equal(await store.symptomGroup(GROUP_KEY), undefined);
        const created = symptomGroup();
        const result = await store.transactSymptomGroup(GROUP_KEY, (current) => ({
          next: created,
          result: current === undefined,
        }));
        assert.equal(result, true);
        assert.deepEqual(await store.symptomGroup(GROUP_KEY), created);
        assert.deepEqual(await store.listSymptomGroups(), [created]);
      });

      it('hands the change what was stored, and keeps what it returns', async () => {
        const store = await makeStore();
        await store.transactSymptomGroup(GROUP_KEY, () => ({ next: symptomGroup(), result: undefined }));
        const count = await store.transactSymptomGroup(GROUP_KEY, (current) => {
          assert.deepEqual(current, symptomGroup());
          const next = symptomGroup({ count: (current?.count ?? 0) + 1, lastSeen: '2026-11-28T10:03:00Z' });
          return { next, result: next.count };
        });
        assert.equal(count, 3);
        assert.equal((await store.symptomGroup(GROUP_KEY))?.lastSeen, '2026-11-28T10:03:00Z');
      });

      it('is atomic per key: 20 concurrent increments count 20', async () => {
        const store = await makeStore();
        await Promise.all(
          Array.from({ length: 20 }, () =>
            store.transactSymptomGroup(GROUP_KEY, (current) => {
              const next = symptomGroup({ count: (current?.count ?? 0) + 1 });
              return { next, result: undefined };
            }),
          ),
        );
        assert.equal((await store.symptomGroup(GROUP_KEY))?.count, 20);
      });

      it('lists by key, and with activeAt only the groups still active then', async () => {
        const store = await makeStore();
        const keys = {
          quiet: 'orbit-prod/europe-west4/core-1/search/indexer',
          active: GROUP_KEY,
          alert: 'orbit-prod/europe-west4/core-1/~monitoring/metadata-server-errors',
        };
        const groups = [
          symptomGroup({ key: keys.quiet, activeUntil: '2026-11-28T10:05:00Z' }),
          symptomGroup({ key: keys.active, activeUntil: '2026-11-28T10:17:30.250Z' }),
          symptomGroup({ key: keys.alert, activeUntil: '2026-12-05T10:00:00Z' }),
        ];
        for (const group of groups) {
          await store.transactSymptomGroup(group.key, () => ({ next: group, result: undefined }));
        }
        assert.deepEqual(
          (await store.listSymptomGroups()).map((g) => g.key),
          [keys.active, keys.quiet, keys.alert].sort(),
        );
        const at = async (activeAt: string) =>
          (await store.listSymptomGroups({ activeAt })).map((g) => g.key);
        assert.deepEqual(await at('2026-11-28T10:04:59Z'), [keys.active, keys.quiet, keys.alert].sort());
        assert.deepEqual(await at('2026-11-28T10:05:00Z'), [keys.active, keys.alert].sort());
        assert.deepEqual(await at('2026-11-28T10:17:30.249Z'), [keys.active, keys.alert].sort());
        assert.deepEqual(await at('2026-11-28T10:17:30.250Z'), [keys.alert]);
      });

      it('is not changed by mutating what was stored or read', async () => {
        const store = await makeStore();
        const group = symptomGroup();
        await store.transactSymptomGroup(GROUP_KEY, () => ({ next: group, result: undefined }));
        group.count = 99;
        group.links.push({ fingerprint: 'x', incident: 'y' });
        const read = await store.symptomGroup(GROUP_KEY);
        assert.ok(read);
        read.pods.push('other');
        await store.transactSymptomGroup(GROUP_KEY, (current) => {
          assert.ok(current);
          current.kinds['token-denied'] = 1000;
          return { result: undefined };
        });
        assert.deepEqual(await store.symptomGroup(GROUP_KEY), symptomGroup());
      });

      it('refuses a group under another key, or with an activeUntil that is no time', async () => {
        const store = await makeStore();
        await assert.rejects(
          store.transactSymptomGroup('other/key', () => ({ next: symptomGroup(), result: undefined })),
          (error) =>
            error instanceof StoreError &&
            !error.retryable &&
            /stored under the key other\/key/.test(error.message),
        );
        await assert.rejects(
          store.transactSymptomGroup(GROUP_KEY, () => ({
            next: symptomGroup({ activeUntil: 'soon' }),
            result: undefined,
          })),
          (error) => error instanceof StoreError && /activeUntil "soon"/.test(error.message),
        );
        await assert.rejects(store.listSymptomGroups({ activeAt: 'now' }), StoreError);
        assert.deepEqual(await store.listSymptomGroups(), []);
      });
    });

    describe('silences', () => {
      it('saves, lists (oldest first), replaces and deletes silences', async () => {
        const store = await makeStore();
        assert.deepEqual(await store.listSilences(), []);
        const newer = silence({
          id: 'sil/2',
          createdAt: '2026-11-28T09:30:00Z',
          matchers: { fingerprint: FINGERPRINT },
        });
        const older = silence();
        await store.saveSilence(newer);
        await store.saveSilence(older);
        assert.deepEqual(await store.listSilences(), [older, newer]);

        const extended = { ...older, expiresAt: '2026-11-30T09:00:00Z' };
        await store.saveSilence(extended);
        assert.deepEqual(await store.listSilences(), [extended, newer]);

        assert.equal(await store.deleteSilence('sil-1'), true);
        assert.equal(await store.deleteSilence('sil-1'), false);
        assert.equal(await store.deleteSilence('never'), false);
        assert.deepEqual(await store.listSilences(), [newer]);
      });

      it('keeps planned changes beside them, as they are (effect, actor and tool matchers)', async () => {
        const store = await makeStore();
        const plan = silence({
          id: 'p-0a1b2c3d4e',
          matchers: { actor: 'deployer@*', tool: 'terraform', namespace: 'checkout' },
          effect: 'plan',
        });
        await store.saveSilence(plan);
        assert.deepEqual(await store.listSilences(), [plan]);
        assert.equal(await store.deleteSilence('p-0a1b2c3d4e'), true);
      });
    });

    describe('remembered requests (replay protection)', () => {
      const later = () => new Date(Date.now() + 10 * 60_000).toISOString();

      it('takes a request once while it is remembered, and others beside it', async () => {
        const store = await makeStore();
        assert.equal(await store.rememberRequest('slack/abc', later()), true);
        assert.equal(await store.rememberRequest('slack/abc', later()), false);
        assert.equal(await store.rememberRequest('slack/def', later()), true);
      });

      it('takes exactly one of 20 concurrent copies', async () => {
        const store = await makeStore();
        const until = later();
        const taken = await Promise.all(
          Array.from({ length: 20 }, () => store.rememberRequest('slack/race', until)),
        );
        assert.equal(taken.filter(Boolean).length, 1);
      });

      it('takes a request again once its memory expired', async () => {
        const store = await makeStore();
        const past = new Date(Date.now() - 1_000).toISOString();
        assert.equal(await store.rememberRequest('slack/old', past), true);
        assert.equal(await store.rememberRequest('slack/old', later()), true);
        assert.equal(await store.rememberRequest('slack/old', later()), false);
      });

      it('refuses an expiry that is not a time, with a permanent StoreError', async () => {
        const store = await makeStore();
        await assert.rejects(
          store.rememberRequest('slack/x', 'soon'),
          (error) => error instanceof StoreError && !error.retryable && /expireAt "soon"/.test(error.message),
        );
      });
    });
  });
}
