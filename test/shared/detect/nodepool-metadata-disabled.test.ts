import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nodepoolMetadataDisabled } from '../../../shared/detect/nodepool-metadata-disabled.ts';
import { loadSnapshot } from '../../support/snapshots.ts';
import { checkCase } from './cases/case.ts';
import { metadata, nodePool } from './cases/events.ts';
import { CASES } from './cases/nodepool-metadata-disabled.ts';

describe('nodepool-metadata-disabled', () => {
  for (const c of CASES) test(c.name, () => void checkCase(c));

  test('firing and resolved of the same pool share one fingerprint, with or without inventory', () => {
    const snapshot = loadSnapshot();
    const prints = [
      nodepoolMetadataDisabled.detect(nodePool('update', 'spot', metadata(false)), snapshot),
      nodepoolMetadataDisabled.detect(nodePool('update', 'spot', metadata(false))),
      nodepoolMetadataDisabled.detect(nodePool('update', 'spot', metadata(true)), snapshot),
      nodepoolMetadataDisabled.detect(nodePool('update', 'spot', metadata(true))),
    ].map((findings) => findings.map((f) => f.fingerprint));
    assert.deepEqual(
      new Set(prints.flat()),
      new Set(['nodepool-metadata-disabled/orbit-prod/europe-west4/core-1/spot']),
    );
    assert.deepEqual(
      prints.map((p) => p.length),
      [1, 1, 1, 1],
    );
  });
});
