import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Silence } from '../../../shared/domain/incident.ts';
import { activeSilence, silenceMatches } from '../../../shared/incidents/silences.ts';
import { bindingFinding } from '../../support/findings.ts';

const now = new Date('2026-11-20T10:00:00Z');
const silence = (matchers: Silence['matchers'], expiresAt = '2026-11-20T12:00:00Z'): Silence => ({
  id: 's-1',
  matchers,
  createdAt: '2026-11-20T09:00:00Z',
  expiresAt,
  author: 'U123',
  reason: 'maintenance',
});

describe('silences', () => {
  const cases: [string, Silence['matchers'], boolean][] = [
    ['project', { project: 'orbit-prod' }, true],
    ['project prefix', { project: 'orbit-*' }, true],
    ['other project', { project: 'acme-prod' }, false],
    ['namespace of a KSA', { namespace: 'checkout' }, true],
    ['ksa', { ksa: 'checkout/cart' }, true],
    ['other ksa', { ksa: 'checkout/pricing' }, false],
    ['cluster of a workload', { cluster: 'core-1' }, true],
    ['kind and namespace', { kind: 'binding-missing', namespace: 'checkout' }, true],
    ['kind matches, namespace does not', { kind: 'binding-missing', namespace: 'search' }, false],
    ['fingerprint', { fingerprint: 'binding-missing/orbit-prod/*' }, true],
    ['no matcher at all matches nothing', {}, false],
  ];
  for (const [name, matchers, expected] of cases) {
    test(`matcher: ${name}`, () => assert.equal(silenceMatches(matchers, bindingFinding()), expected));
  }

  test('an expired silence no longer holds', () => {
    assert.equal(
      activeSilence(bindingFinding(), [silence({ project: 'orbit-prod' }, '2026-11-20T09:59:59Z')], now),
      undefined,
    );
    assert.equal(activeSilence(bindingFinding(), [silence({ project: 'orbit-prod' })], now)?.id, 's-1');
  });
});
