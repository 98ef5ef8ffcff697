import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notATime, rfc3339 } from '../../../shared/events/time.ts';

describe('RFC 3339 times', () => {
  it('keeps what Cloud Logging writes, with T and Z upper case', () => {
    assert.equal(rfc3339('2026-11-20T09:00:00Z'), '2026-11-20T09:00:00Z');
    assert.equal(rfc3339('2026-11-20T09:00:00.123456789Z'), '2026-11-20T09:00:00.123456789Z');
    assert.equal(rfc3339('2026-11-20t09:00:00+01:00'), '2026-11-20T09:00:00+01:00');
    assert.equal(rfc3339('2026-11-20 09:00:00z'), '2026-11-20T09:00:00Z');
  });

  it('refuses what is not one, even what Date.parse would take', () => {
    for (const value of [
      'yesterday',
      '1',
      'Fri, 20 Nov 2026 09:00:00 GMT',
      '2026-11-20',
      '2026-13-40T25:61:00Z',
      '',
    ])
      assert.equal(rfc3339(value), undefined, value);
    assert.equal(rfc3339(undefined), undefined);
  });

  it('says what was left out, bounded', () => {
    assert.equal(notATime('timestamp', 'soon'), 'timestamp "soon" is not an RFC 3339 time: left out');
    assert.ok(notATime('timestamp', 'x'.repeat(500)).length < 100);
  });
});
