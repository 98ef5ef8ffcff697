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
  OPERATION_TTL_MS,
} from '../../../shared/incidents/firestore-store.ts';
import { type Emulator, startFirestoreEmulator } from '../../support/emulators.ts';
import { REPO_ROOT } from '../../support/paths.ts';
import { FINGERPRINT, incident, runStoreContract } from './store-contract.ts';

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
