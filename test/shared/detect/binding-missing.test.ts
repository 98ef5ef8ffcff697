import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bindingMissing, diffPolicies } from '../../../shared/detect/binding-missing.ts';
import { applyDeltas } from '../../../shared/inventory/apply.ts';
import { loadSnapshot, ORBIT } from '../../support/snapshots.ts';
import { CASES } from './cases/binding-missing.ts';
import { checkCase } from './cases/case.ts';
import { add, gsaPolicy, remove, wiPolicy } from './cases/events.ts';

describe('binding-missing', () => {
  for (const c of CASES) test(c.name, () => void checkCase(c));

  test('firing and resolved of one link share a fingerprint, whatever the member form', () => {
    const snapshot = loadSnapshot();
    const events = [
      gsaPolicy(ORBIT.cart, [remove(ORBIT.classic('checkout', 'cart'))], { policy: wiPolicy() }),
      gsaPolicy(ORBIT.cart, [add(ORBIT.principal('checkout', 'cart'))], {
        policy: wiPolicy(ORBIT.principal('checkout', 'cart')),
      }),
    ];
    const [firing, resolved] = events.flatMap((event) => bindingMissing.detect(event, snapshot));
    assert.equal(firing?.status, 'firing');
    assert.equal(resolved?.status, 'resolved');
    assert.equal(firing?.fingerprint, resolved?.fingerprint);
  });

  test('without policyDelta or an inventory there is nothing to compare', () => {
    assert.deepEqual(bindingMissing.detect(gsaPolicy(ORBIT.cart, [], { policy: wiPolicy() })), []);
  });
});

describe('diffPolicies and applyDeltas', () => {
  const before = wiPolicy(ORBIT.classic('checkout', 'cart'), ORBIT.classic('checkout', 'pricing'));
  const after = wiPolicy(ORBIT.classic('checkout', 'pricing'), ORBIT.principal('checkout', 'cart'));
  const deltas = [remove(ORBIT.classic('checkout', 'cart')), add(ORBIT.principal('checkout', 'cart'))];

  test('diffPolicies names what was removed and what was added', () => {
    assert.deepEqual(diffPolicies(before, after), deltas);
    assert.deepEqual(diffPolicies(undefined, after), []);
    assert.deepEqual(diffPolicies(before, undefined), []);
  });

  test('applyDeltas is the inverse: the deltas turn the policy before into the one after', () => {
    const applied = applyDeltas(before, deltas);
    assert.deepEqual(diffPolicies(applied, after), []);
    assert.deepEqual(applyDeltas(wiPolicy(), [add('user:a@example.com', 'roles/viewer')]).bindings, [
      { role: 'roles/viewer', members: ['user:a@example.com'] },
    ]);
  });
});
