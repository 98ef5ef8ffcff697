import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accountId } from '../../../shared/detect/hygiene.ts';
import { checkCase } from './cases/case.ts';
import { BINDING_ORPHANED, GSA_BROAD_ROLE, GSA_SHARED } from './cases/hygiene.ts';

describe('gsa-broad-role', () => {
  for (const c of GSA_BROAD_ROLE) test(c.name, () => void checkCase(c));
});

describe('binding-orphaned', () => {
  for (const c of BINDING_ORPHANED) test(c.name, () => void checkCase(c));
});

describe('gsa-shared', () => {
  for (const c of GSA_SHARED) test(c.name, () => void checkCase(c));
});

describe('accountId', () => {
  const cases: [string, string, string][] = [
    ['analytics', 'report', 'analytics-report'],
    ['a', 'b', 'a-b-wi-gsa'],
    ['9lives', 'cat', 'lives-cat'],
    ['Team_A', 'Svc.Worker', 'team-a-svc-worker'],
    ['a-very-long-namespace-name', 'and-a-long-ksa-name', 'a-very-long-namespace-name-and'],
    ['namespace-of-twenty-n', 'x', 'namespace-of-twenty-n-x'],
  ];
  for (const [namespace, name, want] of cases) {
    test(`${namespace}/${name} → ${want}`, () => {
      const id = accountId(namespace, name);
      assert.equal(id, want);
      // GSA account ids: 6 to 30 characters of [a-z0-9-], starting with a letter, not ending with a hyphen.
      assert.match(id, /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/);
    });
  }
});
