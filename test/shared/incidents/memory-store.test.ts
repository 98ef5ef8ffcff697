import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import { runStoreContract, symptomGroup } from './store-contract.ts';

runStoreContract('memory', () => createMemoryStore());

describe('memory store', () => {
  it('forgets the oldest processed markers beyond its bound', async () => {
    const store = createMemoryStore({ maxEntries: 2 });
    await store.markProcessed('a');
    await store.markProcessed('b');
    await store.markProcessed('a'); // seen again: now the newest
    await store.markProcessed('c');
    assert.deepEqual(await Promise.all(['a', 'b', 'c'].map((key) => store.isProcessed(key))), [
      true,
      false,
      true,
    ]);
  });

  it('forgets the oldest operations beyond its bound', async () => {
    const store = createMemoryStore({ maxOperations: 1 });
    await store.rememberOperation({ id: 'op-1', event: {}, recordedAt: 't1' });
    await store.rememberOperation({ id: 'op-2', event: {}, recordedAt: 't2' });
    assert.equal(await store.operation('op-1'), undefined);
    assert.equal((await store.operation('op-2'))?.recordedAt, 't2');
  });

  it('forgets the symptom groups whose activity ends first beyond its bound, never the one written', async () => {
    const store = createMemoryStore({ maxSymptomGroups: 2 });
    const put = (key: string, activeUntil: string) =>
      store.transactSymptomGroup(key, () => ({
        next: symptomGroup({ key, activeUntil }),
        result: undefined,
      }));
    await put('a', '2026-11-28T10:30:00Z');
    await put('b', '2026-11-28T10:10:00Z');
    await put('c', '2026-11-28T10:05:00Z');
    assert.deepEqual(
      (await store.listSymptomGroups()).map((g) => g.key),
      ['a', 'c'],
    );
  });
});
