import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { step } from '../../../shared/incidents/lifecycle.ts';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import { defaultRouting } from '../../../shared/notify/routing.ts';
import { changeAndTell, changeAndTellAll } from '../../../shared/notify/tell.ts';
import type { Delivery, Senders } from '../../../shared/notify/types.ts';
import { bindingFinding } from '../../support/findings.ts';

const at = new Date('2026-11-20T10:00:00Z');
const routing = defaultRouting({ slackChannel: '#alerts', pagerdutyRoutingKey: 'k'.repeat(32) });

function recording() {
  const calls: string[] = [];
  const senders: Senders = {
    slack: {
      async send(channel: string, delivery: Delivery) {
        calls.push(`slack ${channel} ${delivery.transition}`);
        return delivery.slack ?? { channel: 'C1', ts: '1700000000.000100' };
      },
    },
    pagerduty: {
      async send(_key: string, delivery: Delivery) {
        calls.push(`pagerduty ${delivery.transition}`);
      },
    },
  };
  return { senders, calls };
}

describe('changeAndTell', () => {
  test('a change is told to each destination once; the same change again tells nobody', async () => {
    const store = createMemoryStore();
    const { senders, calls } = recording();
    const deps = { store, senders, routing };
    const open = (current: Parameters<typeof step>[0]) => {
      const next = step(current, bindingFinding(), 'e-1', at);
      return { ...(next.next ? { next: next.next } : {}), result: next.transition };
    };
    const first = await changeAndTell(deps, bindingFinding().fingerprint, open, {
      silences: [],
      at,
      token: 't1',
    });
    assert.equal(first.result, 'opened');
    assert.deepEqual(calls.sort(), ['pagerduty opened', 'slack #alerts opened']);
    assert.equal(first.sent.length, 2);
    assert.deepEqual(first.incident?.notifications['slack:#alerts']?.slack, {
      channel: 'C1',
      ts: '1700000000.000100',
    });
    const again = await changeAndTell(deps, bindingFinding().fingerprint, open, {
      silences: [],
      at,
      token: 't2',
    });
    assert.equal(again.result, undefined);
    assert.equal(calls.length, 2, 'nobody is told twice');
  });

  test('no incident and no change: nothing stored, nobody told', async () => {
    const store = createMemoryStore();
    const { senders, calls } = recording();
    const told = await changeAndTell(
      { store, senders, routing },
      'binding-missing/x',
      () => ({ result: 0 }),
      {
        silences: [],
        at,
        token: 't',
      },
    );
    assert.equal(told.incident, undefined);
    assert.deepEqual(calls, []);
    assert.equal(await store.current('binding-missing/x'), undefined);
  });

  test('all the changes of a delivery: two store writes, each incident told once, results in order', async () => {
    const memory = createMemoryStore();
    let writes = 0;
    const store = {
      transactAll: ((fingerprints, change) => {
        writes += 1;
        return memory.transactAll(fingerprints, change);
      }) as typeof memory.transactAll,
    };
    const { senders, calls } = recording();
    const findings = ['a', 'b', 'c'].map((name) =>
      bindingFinding({ fingerprint: `binding-missing/orbit-prod/${name}` }),
    );
    const told = await changeAndTellAll(
      { store, senders, routing },
      [...findings, findings[0] as ReturnType<typeof bindingFinding>].map((finding, i) => ({
        fingerprint: finding.fingerprint,
        change: (current: Parameters<typeof step>[0]) => {
          const next = step(current, finding, `e-${i}`, at);
          return { ...(next.next ? { next: next.next } : {}), result: next.transition };
        },
      })),
      { silences: [], at, token: 't' },
    );
    assert.equal(writes, 2, 'one to step and claim, one to settle');
    assert.deepEqual(
      told.map((t) => t.result),
      ['opened', 'opened', 'opened', 'updated'],
    );
    assert.equal(calls.length, 6, 'three incidents, two destinations each, told once');
    assert.deepEqual(told[0]?.sent, [], 'what a fingerprint was told is on its last change');
    assert.equal(told[3]?.sent.length, 2);
    assert.equal(told[3]?.incident?.seq, 2);
  });
});
