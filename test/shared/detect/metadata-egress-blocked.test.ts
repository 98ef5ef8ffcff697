import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { metadataEgressBlocked } from '../../../shared/detect/metadata-egress-blocked.ts';
import { loadSnapshot } from '../../support/snapshots.ts';
import { checkCase } from './cases/case.ts';
import { DENY_EGRESS, networkPolicy } from './cases/events.ts';
import { CASES } from './cases/metadata-egress-blocked.ts';

describe('metadata-egress-blocked', () => {
  for (const c of CASES) test(c.name, () => void checkCase(c));

  test('firing and resolved of one namespace share a fingerprint', () => {
    const snapshot = loadSnapshot();
    const [firing] = metadataEgressBlocked.detect(
      networkPolicy('create', 'checkout', 'deny-all', DENY_EGRESS),
      snapshot,
    );
    const [resolved] = metadataEgressBlocked.detect(networkPolicy('delete', 'checkout', 'deny-all'));
    assert.equal(firing?.fingerprint, resolved?.fingerprint);
    assert.deepEqual([firing?.status, resolved?.status], ['firing', 'resolved']);
  });

  test('the inventory is not changed by judging', () => {
    const snapshot = loadSnapshot();
    const before = JSON.stringify(snapshot);
    metadataEgressBlocked.detect(networkPolicy('patch', 'checkout', 'web-egress', DENY_EGRESS), snapshot);
    assert.equal(JSON.stringify(snapshot), before);
  });
});
