import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastKnownInventory } from '../../../shared/incidents/last-known.ts';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import { loadSnapshot } from '../../support/snapshots.ts';

/** A memory store whose inventory reads are counted. */
function countingStore() {
  const store = createMemoryStore();
  const reads = { meta: 0, load: 0 };
  return {
    store,
    reads,
    port: {
      inventoryMeta: () => {
        reads.meta++;
        return store.inventoryMeta();
      },
      loadInventory: () => {
        reads.load++;
        return store.loadInventory();
      },
    },
  };
}

const meta = (sweptAt: string) => ({ sweptAt, projects: ['orbit-prod'], problems: [] });

describe('lastKnownInventory', () => {
  it('is undefined before the first sweep saved one', async () => {
    const { port } = countingStore();
    assert.equal(await lastKnownInventory(port)(), undefined);
  });

  it('loads once, checks for a newer sweep at most once a minute, and reloads only when there is one', async () => {
    const { store, port, reads } = countingStore();
    await store.saveInventory(loadSnapshot(), meta('2026-11-29T10:00:00Z'));
    let clock = 0;
    const current = lastKnownInventory(port, { checkEveryMs: 60_000, now: () => clock });
    const first = await current();
    assert.equal(first?.projects[0]?.projectId, 'orbit-prod');
    await current();
    assert.deepEqual(reads, { meta: 1, load: 1 });

    clock = 61_000;
    assert.equal(await current(), first, 'same sweep: the cached object');
    assert.deepEqual(reads, { meta: 2, load: 1 });

    const newer = loadSnapshot();
    newer.projects[0]?.clusters.pop();
    await store.saveInventory(newer, meta('2026-11-29T10:10:00Z'));
    clock = 122_000;
    assert.equal((await current())?.projects[0]?.clusters.length, newer.projects[0]?.clusters.length);
    assert.deepEqual(reads, { meta: 3, load: 2 });
  });

  it('shares one read between events handled at the same time', async () => {
    const { store, port, reads } = countingStore();
    await store.saveInventory(loadSnapshot(), meta('2026-11-29T10:00:00Z'));
    const current = lastKnownInventory(port);
    await Promise.all([current(), current(), current()]);
    assert.deepEqual(reads, { meta: 1, load: 1 });
  });
});
