import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { keyFileOverride } from '../../../shared/detect/key-file-override.ts';
import { loadSnapshot } from '../../support/snapshots.ts';
import { checkCase } from './cases/case.ts';
import { CASES } from './cases/key-file-override.ts';

describe('key-file-override', () => {
  for (const c of CASES) test(c.name, () => void checkCase(c));

  test('a scan twice gives the same findings (a sweep is idempotent)', () => {
    const snapshot = loadSnapshot();
    assert.ok(keyFileOverride.scan);
    assert.deepEqual(keyFileOverride.scan(snapshot), keyFileOverride.scan(snapshot));
  });

  test('fingerprints of one scan are unique', () => {
    const snapshot = loadSnapshot();
    for (const pod of snapshot.projects[0]?.clusters.flatMap((c) => c.pods) ?? []) {
      pod.env.push('GOOGLE_APPLICATION_CREDENTIALS');
    }
    const prints = keyFileOverride.scan?.(snapshot).map((f) => f.fingerprint) ?? [];
    assert.ok(prints.length >= 4, `findings: ${prints.join(', ')}`);
    assert.equal(new Set(prints).size, prints.length);
  });
});
