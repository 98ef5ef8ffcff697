import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { illFormedPath, toWellFormed } from '../../../shared/domain/well-formed.ts';

describe('well-formed text', () => {
  it('replaces every lone surrogate, in values and keys, with U+FFFD', () => {
    const value = { a: 'x\ud800y', b: ['ok', '\udc00'], 'k\ud83d': { deep: 'fine \ud83d\ude00' } };
    assert.deepEqual(toWellFormed(value), {
      a: 'x\uFFFDy',
      b: ['ok', '\uFFFD'],
      'k\uFFFD': { deep: 'fine \ud83d\ude00' },
    });
  });

  it('gives back the same object when nothing needs cleaning (no copy on the hot path)', () => {
    const value = { a: 'fine', b: [1, 'two', { c: null }], emoji: '😀' };
    assert.equal(toWellFormed(value), value);
  });

  it('names the path of the first string that is not well formed', () => {
    assert.equal(
      illFormedPath({ finding: { ksas: [{ name: 'ok' }, { name: 'bad\ud800' }] } }),
      'finding.ksas[1].name',
    );
    assert.equal(illFormedPath({ 'bad\udc00key': 1 }), 'bad\uFFFDkey');
    assert.equal(illFormedPath({ a: ['😀'] }), undefined);
  });
});
