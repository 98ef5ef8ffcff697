import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_WINDOW,
  ratePerMinute,
  recentCount,
  type SymptomGroup,
  symptomCounts,
} from '../../../shared/domain/symptom-group.ts';
import type { Symptom } from '../../../shared/symptoms/classify.ts';
import { classifySymptom } from '../../../shared/symptoms/classify.ts';
import type { PodIdentity } from '../../../shared/symptoms/resolve.ts';
import { applySymptom, emptyWindow, groupKey, observe } from '../../../shared/symptoms/window.ts';
import { matchSamples } from './fixtures.ts';

function symptomFrom(file: string): Symptom {
  const found = matchSamples().find((s) => s.file === file);
  assert.ok(found, file);
  const result = classifySymptom(found.entry);
  if (result.type !== 'symptom') assert.fail(result.reason);
  return result.symptom;
}

const BASE = symptomFrom('match/go/token-denied.json');
const T0 = Date.parse('2026-11-28T10:02:00Z');
const CART: PodIdentity = {
  ksa: 'cart',
  gsa: 'cart@orbit-prod.iam.gserviceaccount.com',
  owner: { kind: 'Deployment', name: 'cart' },
  nodePool: 'general',
  match: 'pod',
};

/** The same failure `seconds` after T0, from `pod`, with its own insertId. */
function at(seconds: number, pod = 'cart-6d8-a', extra: Partial<Symptom> = {}): Symptom {
  return {
    ...BASE,
    pod,
    time: new Date(T0 + seconds * 1000).toISOString(),
    insertId: `id-${pod}-${seconds}`,
    ...extra,
  };
}

function feed(symptoms: Symptom[], identity: PodIdentity | undefined = CART): SymptomGroup {
  let group: SymptomGroup | undefined;
  for (const symptom of symptoms) group = applySymptom(group, symptom, identity).group;
  assert.ok(group);
  return group;
}

describe('window: one group per cluster / namespace / KSA', () => {
  it('a crash-looping pod makes one group with a count, not one message per failure', () => {
    const group = feed(Array.from({ length: 500 }, (_, i) => at(i)));
    assert.equal(group.key, 'orbit-prod/europe-west4/core-1/checkout/cart');
    assert.equal(group.count, 500);
    assert.equal(group.firstSeen, at(0).time);
    assert.equal(group.lastSeen, at(499).time);
    assert.deepEqual(group.pods, ['cart-6d8-a']);
    assert.deepEqual(group.kinds, { 'token-denied': 500 });
    assert.deepEqual(group.libraries, { go: 500 });
    assert.equal(group.samples.length, 1, 'one message repeated is one sample');
    assert.equal(group.gsa, 'cart@orbit-prod.iam.gserviceaccount.com');
    assert.deepEqual(group.workloads, ['Deployment/cart']);
    assert.deepEqual(group.nodePools, ['general']);
  });

  it('opens once, then updates', () => {
    const first = applySymptom(undefined, at(0), CART);
    assert.equal(first.opened, true);
    const second = applySymptom(first.group, at(1), CART);
    assert.equal(second.opened, false);
    assert.equal(second.added, true);
  });

  it('counts the same entry delivered twice once', () => {
    const once = applySymptom(undefined, at(0), CART).group;
    const again = applySymptom(once, at(0), CART);
    assert.equal(again.added, false);
    assert.equal(again.group, once);
  });

  it('keys a pod it could not resolve by namespace, with the KSA unknown', () => {
    assert.equal(groupKey(at(0)), 'orbit-prod/europe-west4/core-1/checkout/*');
    const group = applySymptom(undefined, at(0), undefined).group;
    assert.equal(group.ksa, undefined);
    assert.equal('ksa' in group, false);
  });

  it('refuses a symptom of another group', () => {
    const group = applySymptom(undefined, at(0), CART).group;
    assert.throws(
      () => applySymptom(group, at(1), { ...CART, ksa: 'pricing' }),
      /symptom for .*\/pricing applied to the group .*\/cart/,
    );
  });

  it('counts distinct pods, listing at most maxPods', () => {
    const group = feed(Array.from({ length: 30 }, (_, i) => at(i, `cart-6d8-${i}`)));
    assert.equal(group.pods.length, DEFAULT_WINDOW.maxPods);
    assert.equal(group.podsCapped, true);
    assert.equal(feed([at(0, 'a-1'), at(1, 'a-2'), at(2, 'a-1')]).pods.length, 2);
  });

  it('keeps the first failure and the latest distinct messages as samples', () => {
    const kinds = ['token-denied', 'metadata-unreachable', 'no-credentials'] as const;
    const symptoms = Array.from({ length: 12 }, (_, i) =>
      at(i, 'cart-6d8-a', { message: `failure ${i}`, kind: kinds[i % 3] ?? 'token-denied' }),
    );
    const group = feed(symptoms);
    assert.equal(group.samples.length, DEFAULT_WINDOW.maxSamples);
    assert.equal(group.samples[0]?.message, 'failure 0');
    assert.deepEqual(
      group.samples.slice(1).map((s) => s.message),
      ['failure 8', 'failure 9', 'failure 10', 'failure 11'],
    );
  });
});

describe('window: sliding counts and rate', () => {
  it('counts failures in the window ending now, and their rate per minute', () => {
    // 2 a minute for 30 minutes.
    const group = feed(Array.from({ length: 60 }, (_, i) => at(i * 30)));
    const now = T0 + 30 * 60_000;
    assert.equal(group.count, 60);
    assert.equal(recentCount(group, now), 30);
    assert.equal(ratePerMinute(group, now), 2);
    assert.ok(group.buckets.length <= DEFAULT_WINDOW.windowMs / DEFAULT_WINDOW.bucketMs + 1);
  });

  it('rates a young group over its age, not the whole window', () => {
    const group = feed(Array.from({ length: 10 }, (_, i) => at(i * 6)));
    assert.equal(ratePerMinute(group, T0 + 60_000), 10);
  });

  it('takes late and out-of-order entries: first seen moves back, the window stays on the latest', () => {
    const group = feed([at(600), at(10), at(700)]);
    assert.equal(group.firstSeen, at(10).time);
    assert.equal(group.lastSeen, at(700).time);
    assert.equal(group.count, 3);
    assert.equal(recentCount(group, T0 + 700_000), 3);
  });

  it('counts an entry older than one window in the total only', () => {
    const group = feed([at(3_600), at(0)]);
    assert.equal(group.count, 2);
    assert.equal(recentCount(group, T0 + 3_600_000), 1);
  });
});

describe('window: state fit for Firestore', () => {
  function hasNestedArray(value: unknown, inArray = false): boolean {
    if (Array.isArray(value)) return inArray || value.some((item) => hasNestedArray(item, true));
    if (typeof value === 'object' && value !== null)
      return Object.values(value).some((v) => hasNestedArray(v));
    return false;
  }

  it('stays small after a long storm of distinct, long messages from many pods', () => {
    const long = 'x'.repeat(600);
    const group = feed(
      Array.from({ length: 10_000 }, (_, i) => at(i * 3, `cart-6d8-${i % 50}`, { message: `${i} ${long}` })),
    );
    const bytes = Buffer.byteLength(JSON.stringify(group));
    assert.ok(bytes < 16 * 1024, `a group is ${bytes} bytes`);
    assert.equal(group.recentIds.length, DEFAULT_WINDOW.maxRecentIds);
  });

  it('is plain JSON: no nested arrays, no undefined, survives a JSON round trip', () => {
    const group = feed([at(0), at(1, 'cart-6d8-b')], { ksa: 'cart', match: 'sibling' });
    assert.equal(hasNestedArray(group), false);
    assert.deepEqual(JSON.parse(JSON.stringify(group)), group);
  });

  it('observe keeps at most maxGroups, dropping the longest quiet', () => {
    const options = { ...DEFAULT_WINDOW, maxGroups: 3 };
    let state = emptyWindow();
    for (let i = 0; i < 5; i += 1) {
      state = observe(state, at(i * 60, `p-${i}`, { namespace: `ns-${i}` }), undefined, options).state;
    }
    assert.deepEqual(
      Object.values(state.groups)
        .map((g) => g.namespace)
        .sort(),
      ['ns-2', 'ns-3', 'ns-4'],
    );
  });
});

describe('window: counts beside each KSA', () => {
  it('lists count, recent count and rate per group', () => {
    let state = emptyWindow();
    for (let i = 0; i < 6; i += 1) state = observe(state, at(i * 10), CART).state;
    state = observe(state, at(30, 'query-1', { namespace: 'search' }), { ksa: 'query', match: 'pod' }).state;
    assert.deepEqual(symptomCounts(state, T0 + 60_000), [
      {
        key: 'orbit-prod/europe-west4/core-1/checkout/cart',
        project: 'orbit-prod',
        cluster: { location: 'europe-west4', name: 'core-1' },
        namespace: 'checkout',
        ksa: 'cart',
        count: 6,
        recent: 6,
        ratePerMinute: 6,
        firstSeen: at(0).time,
        lastSeen: at(50).time,
      },
      {
        key: 'orbit-prod/europe-west4/core-1/search/query',
        project: 'orbit-prod',
        cluster: { location: 'europe-west4', name: 'core-1' },
        namespace: 'search',
        ksa: 'query',
        count: 1,
        recent: 1,
        ratePerMinute: 1,
        firstSeen: at(30).time,
        lastSeen: at(30).time,
      },
    ]);
  });
});
