import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { snapshotState } from '../../../shared/live/snapshot-state.ts';
import { createLogger } from '../../../shared/log.ts';
import { defaultRouting } from '../../../shared/notify/routing.ts';
import { createContext, type SymptomDeps, sharedList } from '../../../shared/symptoms/context.ts';
import { DEFAULT_SYMPTOM_OPTIONS } from '../../../shared/symptoms/group.ts';
import { loadSnapshot, ORBIT, variant } from '../../support/snapshots.ts';
import { cartFailures, storeGroup } from '../../support/symptom-groups.ts';
import { watched } from '../../support/watched.ts';

const AT = new Date('2026-11-28T10:00:00Z');
const later = (ms: number) => new Date(AT.getTime() + ms);

describe('sharedList: one read shared by the deliveries of a few seconds', () => {
  test('read once within the interval, again after it', async () => {
    const store = watched(createMemoryStore());
    const open = sharedList(15_000, () => store.value.listOpen());
    await Promise.all([open.get(AT), open.get(AT), open.get(later(14_999))]);
    assert.equal(store.touched.filter((name) => name === 'listOpen').length, 1);
    await open.get(later(15_000));
    assert.equal(store.touched.filter((name) => name === 'listOpen').length, 2);
  });

  test('invalidated: the next delivery reads afresh, and sees what changed', async () => {
    const store = createMemoryStore();
    const active = sharedList(15_000, (at) => store.listSymptomGroups({ activeAt: at.toISOString() }));
    assert.deepEqual(await active.get(AT), []);
    await storeGroup(store, cartFailures(AT));
    assert.deepEqual(await active.get(AT), [], 'still the list read before');
    active.invalidate();
    assert.deepEqual(
      (await active.get(AT)).map((g) => g.key),
      ['orbit-prod/europe-west4/core-1/checkout/cart'],
    );
  });

  test('a failed read is not kept: the next delivery tries again', async () => {
    let reads = 0;
    const list = sharedList(15_000, async () => {
      reads += 1;
      if (reads === 1) throw new Error('DEADLINE_EXCEEDED');
      return ['read'];
    });
    await assert.rejects(list.get(AT), /DEADLINE_EXCEEDED/);
    assert.deepEqual(await list.get(AT), ['read']);
    assert.equal(reads, 2);
  });
});

describe('createContext: what the units of the symptom path share', () => {
  const base = (overrides: Partial<SymptomDeps> = {}): SymptomDeps => ({
    store: createMemoryStore(),
    senders: {},
    routing: defaultRouting({}),
    logger: createLogger(() => {}),
    now: () => AT,
    // Not reached by these tests: nothing here opens or resolves an incident.
    applyFindings: async () => ({ incidents: [], retryable: [] }),
    ...overrides,
  });

  test('options are the defaults with what the deployment overrides', () => {
    const ctx = createContext(base({ options: { graceMs: 30_000 } }));
    assert.deepEqual(ctx.options, { ...DEFAULT_SYMPTOM_OPTIONS, graceMs: 30_000 });
  });

  test('the organization: the simulated one, else the last sweep’s', async () => {
    const simulated = loadSnapshot();
    const swept = loadSnapshot();
    const both = createContext(
      base({ inventory: { current: () => simulated }, lastKnown: async () => swept }),
    );
    assert.equal(await both.inventory(), simulated);
    assert.equal(await createContext(base({ lastKnown: async () => swept })).inventory(), swept);
    assert.equal(await createContext(base()).inventory(), undefined);
  });

  test('live state: the ports; else the simulated organization as it is now; else the snapshot given', async () => {
    const ports = snapshotState(() => loadSnapshot());
    assert.equal(createContext(base({ live: ports })).liveState(undefined), ports);
    let current: Snapshot = loadSnapshot();
    const simulated = createContext(base({ inventory: { current: () => current } })).liveState(undefined);
    current = variant((s) => {
      const gsa = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.cart);
      if (gsa) gsa.disabled = true;
    });
    assert.equal((await simulated?.iam.getServiceAccount(ORBIT.cart))?.disabled, true, 'read as it is now');
    const given = createContext(base()).liveState(loadSnapshot());
    assert.equal((await given?.iam.getServiceAccount(ORBIT.cart))?.disabled, false);
    assert.equal(createContext(base()).liveState(undefined), undefined);
  });
});
