import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { annotationMissing } from '../../../shared/detect/annotation-missing.ts';
import { loadSnapshot, ORBIT } from '../../support/snapshots.ts';
import { CASES } from './cases/annotation-missing.ts';
import { checkCase } from './cases/case.ts';
import { annotationPatch, ksa } from './cases/events.ts';

describe('annotation-missing', () => {
  for (const c of CASES) test(c.name, () => void checkCase(c));

  test('firing and resolved of one KSA share a fingerprint', () => {
    const [firing] = annotationMissing.detect(annotationPatch('checkout', 'cart', null), loadSnapshot());
    const [resolved] = annotationMissing.detect(annotationPatch('checkout', 'cart', ORBIT.cart));
    assert.equal(firing?.status, 'firing');
    assert.equal(resolved?.status, 'resolved');
    assert.equal(firing?.fingerprint, resolved?.fingerprint);
  });

  test('an empty annotation value is a removal', () => {
    const event = ksa('update', 'checkout', 'cart', {
      annotations: { 'iam.gke.io/gcp-service-account': '' },
    });
    assert.deepEqual(
      annotationMissing.detect(event, loadSnapshot()).map((f) => f.status),
      ['firing'],
    );
  });
});
