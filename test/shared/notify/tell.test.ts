import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { step } from '../../../shared/incidents/lifecycle.ts';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import { defaultRouting } from '../../../shared/notify/routing.ts';
import { changeAndTell } from '../../../shared/notify/tell.ts';
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
});
