import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeInventory,
  encodeInventory,
  INVENTORY_ENCODING,
  snapshotJson,
} from '../../../shared/incidents/inventory-codec.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { loadSnapshot } from '../../support/snapshots.ts';
import { largeInventory } from './large-inventory.ts';

describe('inventory codec', () => {
  test('the JSON written in pieces is JSON.stringify’s, byte for byte', () => {
    const odd = {
      ...loadSnapshot(),
      generatedBy: 'test',
      skipped: undefined,
    } as unknown as Snapshot;
    const first = odd.projects[0];
    assert.ok(first);
    Object.assign(first, { note: 'é ✓ "quoted"', iamPolicy: undefined });
    for (const snapshot of [
      loadSnapshot(),
      odd,
      { projects: [] },
      largeInventory({ projects: 2, clustersPerProject: 2, podsPerCluster: 50 }),
    ]) {
      assert.equal([...snapshotJson(snapshot)].join(''), JSON.stringify(snapshot));
    }
  });

  test('encodes in pieces, decodes to the same inventory, and counts the JSON’s bytes', async () => {
    const snapshot = largeInventory({ projects: 2, clustersPerProject: 3, podsPerCluster: 400 });
    const encoded = await encodeInventory(snapshot);
    const json = JSON.stringify(snapshot);
    assert.equal(encoded.jsonBytes, Buffer.byteLength(json));
    assert.ok(encoded.data.length < encoded.jsonBytes / 5);
    const decoded = await decodeInventory(encoded.data, {
      encoding: INVENTORY_ENCODING,
      jsonBytes: encoded.jsonBytes,
      sha256: encoded.sha256,
      what: 'the test inventory',
    });
    assert.equal(JSON.stringify(decoded), json);
  });
});
