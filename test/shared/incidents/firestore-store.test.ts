import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Firestore, Timestamp } from '@google-cloud/firestore';
import { ConfigError, StoreError } from '../../../shared/errors.ts';
import {
  classify,
  createFirestoreStore,
  ENTRY_TTL_MS,
  type FirestoreStore,
  firestoreSettings,
  INVENTORY_CHUNK_BYTES,
  OPERATION_TTL_MS,
  ORPHAN_AGE_MS,
  runTransaction,
} from '../../../shared/incidents/firestore-store.ts';
import { SYMPTOM_RETENTION_MS } from '../../../shared/incidents/store.ts';
import { type Emulator, startFirestoreEmulator } from '../../support/emulators.ts';
import { REPO_ROOT } from '../../support/paths.ts';
import { loadSnapshot } from '../../support/snapshots.ts';
import { largeInventory } from './large-inventory.ts';
import { FINGERPRINT, GROUP_KEY, incident, runStoreContract, symptomGroup } from './store-contract.ts';

// One emulator for the file; every store gets its own collection prefix, so tests share no data.
let emulator: Emulator | undefined;
let client: Firestore | undefined;
const owned: FirestoreStore[] = [];
let namespaces = 0;
const nextPrefix = () => `t${++namespaces}-`;

before(async () => {
  emulator = await startFirestoreEmulator();
  client = new Firestore(firestoreSettings({ emulatorHost: emulator.host, projectId: emulator.projectId }));
});

after(async () => {
  await Promise.all(owned.map((store) => store.close()));
  await client?.terminate();
  await emulator?.stop();
});

function db(): Firestore {
  assert.ok(client, 'the Firestore emulator did not start');
  return client;
}

function sha256(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A store with its own client talking to the emulator (closed after the file). */
function ownStore(options: { prefix: string; timeoutMs?: number }): FirestoreStore {
  assert.ok(emulator);
  const store = createFirestoreStore({
    emulatorHost: emulator.host,
    projectId: emulator.projectId,
    ...options,
  });
  owned.push(store);
  return store;
}

runStoreContract('firestore', () => createFirestoreStore({ firestore: db(), prefix: nextPrefix() }));

describe('firestore store', () => {
  it('keys documents by SHA-256 and keeps a replaced incident as history', async () => {
    const prefix = nextPrefix();
    const store = createFirestoreStore({ firestore: db(), prefix });
    await store.transact(FINGERPRINT, () => ({ next: incident(), result: undefined }));
    const reopened = incident({ id: 'inc-2', openedAt: '2026-11-28T12:00:00Z' });
    await store.transact(FINGERPRINT, () => ({ next: reopened, result: undefined }));

    const pointer = await db().collection(`${prefix}fingerprints`).doc(sha256(FINGERPRINT)).get();
    assert.deepEqual(pointer.data(), { fingerprint: FINGERPRINT, current: 'inc-2' });

    const docs = await db().collection(`${prefix}incidents`).get();
    const byId = new Map(docs.docs.map((doc) => [doc.id, doc.data()]));
    assert.deepEqual([...byId.keys()].sort(), [sha256('inc-1'), sha256('inc-2')].sort());
    assert.deepEqual(
      { ...byId.get(sha256('inc-1')), incident: undefined },
      {
        id: 'inc-1',
        fingerprint: FINGERPRINT,
        status: 'open',
        current: false,
        open: false,
        updatedAt: incident().updatedAt,
        incident: undefined,
      },
    );
    assert.deepEqual(byId.get(sha256('inc-1'))?.incident, incident());
    assert.equal(byId.get(sha256('inc-2'))?.current, true);
    assert.equal(byId.get(sha256('inc-2'))?.open, true);
  });

  it('writes expireAt timestamps for the TTL policies: 7 days for entries, 1 day for operations', async () => {
    const prefix = nextPrefix();
    const at = Date.parse('2026-11-28T10:00:00Z');
    const store = createFirestoreStore({ firestore: db(), prefix, now: () => at });
    const entryKey = 'projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity/abc';
    await store.markProcessed(entryKey);
    await store.rememberOperation({ id: 'op/1', event: { a: [[1]] }, recordedAt: 'then' });

    const entry = (await db().collection(`${prefix}entries`).doc(sha256(entryKey)).get()).data();
    assert.ok(entry?.expireAt instanceof Timestamp);
    assert.equal(entry.expireAt.toMillis(), at + ENTRY_TTL_MS);
    assert.equal(entry.key, entryKey);

    const operation = (await db().collection(`${prefix}operations`).doc(sha256('op/1')).get()).data();
    assert.ok(operation?.expireAt instanceof Timestamp);
    assert.equal(operation.expireAt.toMillis(), at + OPERATION_TTL_MS);
    assert.equal(operation.event, '{"a":[[1]]}');
  });

  it('keeps a symptom group under the SHA-256 of its key, with activeUntilMs and a TTL a day later', async () => {
    const prefix = nextPrefix();
    const store = createFirestoreStore({ firestore: db(), prefix });
    const group = symptomGroup();
    await store.transactSymptomGroup(GROUP_KEY, () => ({ next: group, result: undefined }));
    const doc = (await db().collection(`${prefix}symptoms`).doc(sha256(GROUP_KEY)).get()).data();
    assert.ok(doc?.expireAt instanceof Timestamp);
    const activeUntil = Date.parse(group.activeUntil);
    assert.equal(doc.expireAt.toMillis(), activeUntil + SYMPTOM_RETENTION_MS);
    assert.equal(doc.activeUntilMs, activeUntil);
    assert.equal(doc.key, GROUP_KEY);
    assert.deepEqual(doc.group, group);
  });

  it('keeps a symptom group atomic across instances', async () => {
    const prefix = nextPrefix();
    const instances = [ownStore({ prefix }), ownStore({ prefix })];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        instances[i % 2]?.transactSymptomGroup(GROUP_KEY, (current) => ({
          next: symptomGroup({ count: (current?.count ?? 0) + 1 }),
          result: undefined,
        })),
      ),
    );
    assert.equal((await instances[1]?.symptomGroup(GROUP_KEY))?.count, 8);
  });

  it('keeps read-modify-write atomic across instances (separate clients, real transactions)', async () => {
    const prefix = nextPrefix();
    const instances = [ownStore({ prefix }), ownStore({ prefix })];
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        instances[i % 2]?.transact(FINGERPRINT, (current) => {
          const seq = (current?.seq ?? 0) + 1;
          return { next: current === undefined ? incident({ seq }) : { ...current, seq }, result: seq };
        }),
      ),
    );
    assert.deepEqual(
      results.map(Number).sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.equal((await instances[0]?.current(FINGERPRINT))?.seq, 8);
  });

  it('loads @google-cloud/firestore only when state is first touched', async () => {
    assert.ok(emulator);
    const storeUrl = pathToFileURL(`${REPO_ROOT}shared/incidents/firestore-store.ts`).href;
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const loaded = () => Object.keys(require.cache).some((file) => file.includes('@google-cloud/firestore'));
      const { createFirestoreStore } = await import(${JSON.stringify(storeUrl)});
      const store = createFirestoreStore({ emulatorHost: ${JSON.stringify(emulator.host)}, projectId: 'lazy' });
      const atCreation = loaded();
      const processed = await store.isProcessed('x');
      const afterUse = loaded();
      await store.close();
      process.stdout.write(JSON.stringify({ atCreation, processed, afterUse }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      timeout: 15_000,
    });
    assert.deepEqual(JSON.parse(stdout), { atCreation: false, processed: false, afterUse: true });
  });

  it('refuses a collection prefix that is not a plain name', () => {
    assert.throws(() => createFirestoreStore({ prefix: 'a/b' }), ConfigError);
  });

  it('classifies Firestore failures: transient ones are retryable', () => {
    const cases: [unknown, string | undefined, boolean][] = [
      [{ code: 14, message: '14 UNAVAILABLE: no connection' }, 'UNAVAILABLE', true],
      [{ code: 4, message: 'deadline' }, 'DEADLINE_EXCEEDED', true],
      [{ code: 10, message: 'contention' }, 'ABORTED', true],
      [{ code: 8, message: 'quota' }, 'RESOURCE_EXHAUSTED', true],
      [{ code: 13, message: 'internal' }, 'INTERNAL', true],
      [{ code: 'ECONNRESET', message: 'socket hang up' }, 'ECONNRESET', true],
      [{ code: 7, message: 'denied' }, 'PERMISSION_DENIED', false],
      [{ code: 3, message: 'too big' }, 'INVALID_ARGUMENT', false],
      [{ code: 16, message: 'bad token' }, 'UNAUTHENTICATED', false],
      [{ code: 9, message: 'no index' }, 'FAILED_PRECONDITION', false],
      [new Error('Could not load the default credentials'), undefined, false],
    ];
    for (const [error, status, retryable] of cases) {
      const classified = classify('current', error);
      assert.ok(classified instanceof StoreError);
      assert.equal(classified.code, 'store');
      assert.deepEqual([classified.status, classified.retryable], [status, retryable], JSON.stringify(error));
      assert.equal(classified.cause, error);
    }
  });

  it('a write Firestore refuses in a transaction fails at once with its own status, not as "no answer"', async () => {
    // The emulator answers UNKNOWN to a lone surrogate; the client would retry that with backoff
    // for longer than the store's deadline, which then reported a retryable "no answer".
    const ref = db().collection(`${nextPrefix()}raw`).doc('x');
    const started = Date.now();
    let caught: unknown;
    await assert.rejects(
      runTransaction(db(), async (transaction) => {
        transaction.set(ref, { text: 'bad \ud800 text' });
      }),
      (error) => {
        caught = error;
        return true;
      },
    );
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
    const classified = classify('transact', caught);
    assert.equal(classified.retryable, false);
    assert.ok(classified.status === 'UNKNOWN' || classified.status === 'INVALID_ARGUMENT', classified.status);
  });

  it('retries a transaction aborted by contention, and it completes', async () => {
    const ref = db().collection(`${nextPrefix()}raw`).doc('counter');
    await ref.set({ n: 0 });
    await Promise.all(
      Array.from({ length: 5 }, () =>
        runTransaction(db(), async (transaction) => {
          const n = ((await transaction.get(ref)).get('n') as number) + 1;
          transaction.set(ref, { n });
        }),
      ),
    );
    assert.equal((await ref.get()).get('n'), 5);
  });

  describe('inventory', () => {
    const SWEEP = { sweptAt: '2026-11-28T10:00:00.000Z', projects: ['orbit-prod'], problems: [] };
    const MIB = 1024 * 1024;

    /** The chunk documents of the prefix, by generation. */
    async function chunksByGeneration(prefix: string): Promise<Map<string, number[]>> {
      const docs = await db().collection(`${prefix}inventory-chunks`).get();
      const map = new Map<string, number[]>();
      for (const doc of docs.docs) {
        const generation = doc.get('generation') as string;
        map.set(
          generation,
          [...(map.get(generation) ?? []), doc.get('index') as number].sort((a, b) => a - b),
        );
      }
      return map;
    }

    it('stores a 20 MB inventory compressed, in chunks under 1 MiB, and keeps one generation', async () => {
      const prefix = nextPrefix();
      const store = createFirestoreStore({ firestore: db(), prefix });
      const snapshot = largeInventory();
      const jsonBytes = Buffer.byteLength(JSON.stringify(snapshot));
      assert.equal(await store.saveInventory(snapshot, SWEEP), true);
      const manifest = (await db().collection(`${prefix}inventory`).doc('current').get()).data();
      assert.ok(manifest);
      assert.equal(manifest.jsonBytes, jsonBytes);
      assert.equal(manifest.encoding, 'br');
      assert.ok(
        manifest.storedBytes < jsonBytes / 10,
        `${manifest.storedBytes} bytes stored for ${jsonBytes}`,
      );
      assert.equal(manifest.chunks, Math.ceil(manifest.storedBytes / INVENTORY_CHUNK_BYTES));
      assert.ok(manifest.chunks >= 2, `${manifest.chunks} chunks`);
      const chunks = await db().collection(`${prefix}inventory-chunks`).get();
      assert.equal(chunks.size, manifest.chunks);
      for (const chunk of chunks.docs) {
        const data = chunk.get('data') as Buffer;
        assert.ok(Buffer.isBuffer(data) && data.length <= INVENTORY_CHUNK_BYTES && data.length < MIB);
        assert.equal(chunk.get('generation'), manifest.generation);
      }

      const later = { ...SWEEP, sweptAt: '2026-11-28T11:00:00.000Z' };
      await store.saveInventory(loadSnapshot(), later);
      const generations = await chunksByGeneration(prefix);
      const current = (await db().collection(`${prefix}inventory`).doc('current').get()).get('generation');
      assert.deepEqual([...generations.keys()], [current], 'the replaced generation is deleted');
    });

    it('writes many small chunks when told to, and readers during the write still see one whole inventory', async () => {
      const prefix = nextPrefix();
      const writer = createFirestoreStore({ firestore: db(), prefix, inventoryChunkBytes: 32 * 1024 });
      const reader = createFirestoreStore({ firestore: db(), prefix });
      const old = largeInventory({ seed: 3, podsPerCluster: 400 });
      const next = largeInventory({ seed: 4, podsPerCluster: 400 });
      const [oldJson, nextJson] = [JSON.stringify(old), JSON.stringify(next)];
      await writer.saveInventory(old, SWEEP);
      const later = { ...SWEEP, sweptAt: '2026-11-28T11:00:00.000Z' };
      let done = false;
      const saving = writer.saveInventory(next, later).finally(() => {
        done = true;
      });
      const seen: string[] = [];
      while (!done) {
        const loaded = await reader.loadInventory();
        const json = JSON.stringify(loaded?.snapshot);
        seen.push(
          json === oldJson ? (loaded?.sweptAt ?? '') : json === nextJson ? `${loaded?.sweptAt} new` : 'a mix',
        );
      }
      await saving;
      for (const outcome of seen)
        assert.ok([SWEEP.sweptAt, `${later.sweptAt} new`].includes(outcome), outcome);
      const generations = await chunksByGeneration(prefix);
      assert.equal(generations.size, 1);
      const [indexes = []] = generations.values();
      assert.ok(indexes.length >= 10, `${indexes.length} chunks`);
      assert.deepEqual(
        indexes,
        Array.from({ length: indexes.length }, (_, i) => i),
      );
    });

    it('deletes chunks whose writer died before switching, once they are an hour old, and no others', async () => {
      const prefix = nextPrefix();
      const at = Date.parse('2026-11-28T12:00:00Z');
      const store = createFirestoreStore({ firestore: db(), prefix, now: () => at });
      const chunks = db().collection(`${prefix}inventory-chunks`);
      const orphan = { generation: 'dead-writer', index: 0, data: Buffer.from('x') };
      await chunks.doc('dead-writer-00000').set({ ...orphan, writtenAt: new Date(at - ORPHAN_AGE_MS - 1) });
      await chunks.doc('busy-writer-00000').set({
        ...orphan,
        generation: 'busy-writer',
        writtenAt: new Date(at - 60_000),
      });
      await store.saveInventory(loadSnapshot(), SWEEP);
      const generations = await chunksByGeneration(prefix);
      assert.equal(generations.has('dead-writer'), false);
      assert.equal(generations.has('busy-writer'), true, 'a writer still at work keeps its chunks');
      assert.equal(generations.size, 2);
    });

    it('rejects retryably when chunks keep vanishing, and permanently when the bytes are corrupt', async () => {
      const prefix = nextPrefix();
      const store = createFirestoreStore({ firestore: db(), prefix, inventoryChunkBytes: 256 });
      await store.saveInventory(loadSnapshot(), SWEEP);
      const current = db().collection(`${prefix}inventory`).doc('current');
      const generation = (await current.get()).get('generation') as string;
      const chunk = db().collection(`${prefix}inventory-chunks`).doc(`${generation}-00001`);
      const saved = (await chunk.get()).data();
      assert.ok(saved);

      await chunk.set({ ...saved, data: Buffer.from('not the bytes that were written') });
      await assert.rejects(
        store.loadInventory(),
        (error) => error instanceof StoreError && !error.retryable && /corrupt/.test(error.message),
      );

      await chunk.delete();
      await assert.rejects(
        store.loadInventory(),
        (error) => error instanceof StoreError && error.retryable && /replaced 3 times/.test(error.message),
      );
    });

    it('notes deliveries at most once a minute per instance, keeping the latest across instances', async () => {
      const prefix = nextPrefix();
      const [one, two] = [
        createFirestoreStore({ firestore: db(), prefix }),
        createFirestoreStore({ firestore: db(), prefix }),
      ];
      const doc = db().collection(`${prefix}sentinel`).doc('deliveries');
      await one.noteDelivery('2026-11-28T10:00:00.000Z');
      await one.noteDelivery('2026-11-28T10:00:30.000Z');
      assert.equal((await doc.get()).get('lastAt'), '2026-11-28T10:00:00.000Z', 'the second note is skipped');
      await two.noteDelivery('2026-11-28T10:00:45.000Z');
      await one.noteDelivery('2026-11-28T10:00:40.000Z');
      assert.equal(await one.lastDelivery(), '2026-11-28T10:00:45.000Z');
      await one.noteDelivery('2026-11-28T10:01:10.000Z');
      assert.equal(await two.lastDelivery(), '2026-11-28T10:01:10.000Z');
    });
  });

  // Last: it stops the file's emulator. The store runs in a child process, which exits once it has
  // answered: the Firestore client keeps retrying the calls it had in flight for minutes.
  it('fails with a retryable StoreError within its deadline when Firestore goes away mid-way', async () => {
    assert.ok(emulator);
    const stopped = emulator;
    const storeUrl = pathToFileURL(`${REPO_ROOT}shared/incidents/firestore-store.ts`).href;
    const contractUrl = pathToFileURL(`${REPO_ROOT}test/shared/incidents/store-contract.ts`).href;
    const script = `
      import { once } from 'node:events';
      const { createFirestoreStore } = await import(${JSON.stringify(storeUrl)});
      const { FINGERPRINT, incident } = await import(${JSON.stringify(contractUrl)});
      const store = createFirestoreStore({
        emulatorHost: ${JSON.stringify(stopped.host)}, projectId: 'midway', timeoutMs: 1500,
      });
      // The first call also loads the client and connects: on a busy machine that can take longer than
      // the 1.5 s deadline under test, so the set-up tries again (a timeout is retryable by design).
      for (let attempt = 1; ; attempt += 1) {
        try {
          await store.transact(FINGERPRINT, () => ({ next: incident(), result: undefined }));
          break;
        } catch (error) {
          if (!error.retryable || attempt === 10) throw error;
        }
      }
      process.stdout.write('ready\\n');
      await once(process.stdin, 'data');
      const started = Date.now();
      const outcomes = await Promise.all([
        store.current(FINGERPRINT),
        store.transact(FINGERPRINT, (current) => ({ next: { ...current, seq: 2 }, result: 0 })),
        store.markProcessed('entry'),
      ].map((call) => call.then(
        () => 'answered',
        (error) => ({ name: error.name, code: error.code, retryable: error.retryable, status: error.status }),
      )));
      process.stdout.write(JSON.stringify({ elapsed: Date.now() - started, outcomes }) + '\\n');
      process.exit(0);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const stderr: string[] = [];
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
      const ready = await lines.next();
      assert.equal(ready.value, 'ready', stderr.join(''));
      await stopped.stop();
      child.stdin.end('go\n');
      const report = await lines.next();
      assert.equal(typeof report.value, 'string', stderr.join(''));
      const { elapsed, outcomes } = JSON.parse(String(report.value)) as {
        elapsed: number;
        outcomes: ({ status: string } | 'answered')[];
      };
      assert.equal(outcomes.length, 3);
      for (const outcome of outcomes) {
        assert.ok(outcome !== 'answered', 'a call answered with Firestore stopped');
        const { status, ...error } = outcome;
        assert.deepEqual(error, { name: 'StoreError', code: 'store', retryable: true });
        assert.ok(['DEADLINE_EXCEEDED', 'UNAVAILABLE'].includes(status), status);
      }
      // The deadline is 1.5 s; the rest is slack for a loaded 2-core machine.
      assert.ok(elapsed < 6_000, `took ${elapsed} ms`);
    } finally {
      if (child.exitCode === null) child.kill();
      await exited;
    }
  });
});
