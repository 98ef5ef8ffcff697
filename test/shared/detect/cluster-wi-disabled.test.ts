import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clusterWiDisabled } from '../../../shared/detect/cluster-wi-disabled.ts';
import { ORBIT } from '../../support/snapshots.ts';
import { checkCase } from './cases/case.ts';
import { CASES } from './cases/cluster-wi-disabled.ts';
import { cluster } from './cases/events.ts';

describe('cluster-wi-disabled', () => {
  for (const c of CASES) test(c.name, () => void checkCase(c));

  test('firing and resolved of the same cluster share one fingerprint', () => {
    const [firing] = clusterWiDisabled.detect(cluster('update', ORBIT.core, { workloadPool: null }));
    const [resolved] = clusterWiDisabled.detect(cluster('update', ORBIT.core, { workloadPool: ORBIT.pool }));
    assert.equal(firing?.status, 'firing');
    assert.equal(resolved?.status, 'resolved');
    assert.equal(firing?.fingerprint, resolved?.fingerprint);
  });

  test('the two clusters of one pool are two links', () => {
    const [core] = clusterWiDisabled.detect(cluster('update', ORBIT.core, { workloadPool: null }));
    const [edge] = clusterWiDisabled.detect(cluster('update', ORBIT.edge, { workloadPool: null }));
    assert.notEqual(core?.fingerprint, edge?.fingerprint);
  });
});
