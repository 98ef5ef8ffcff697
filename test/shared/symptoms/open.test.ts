import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SymptomGroupRecord } from '../../../shared/domain/symptom-group.ts';
import { openAuthFailure, ready } from '../../../shared/symptoms/open.ts';
import { recordFailure } from '../../../shared/symptoms/record.ts';
import { posts, useNotifyFakes } from '../../support/notify-fakes.ts';
import { slackText, symptomOf, TEXT, unitContext } from './support.ts';

/** cart-6d8-a fails every 30 s from 10:00; nothing in the organization is broken. */
const START = Date.parse('2026-11-28T10:00:00Z');
const CART = { ksa: 'cart', gsa: 'cart@orbit-prod.iam.gserviceaccount.com', match: 'pod' as const };
const OWN = 'wi-auth-failures/orbit-prod/europe-west4/core-1/checkout/cart';

async function failures(h: ReturnType<typeof unitContext>, count: number, everyMs = 30_000) {
  let record: SymptomGroupRecord | undefined;
  for (let i = 0; i < count; i++) {
    const at = START + i * everyMs;
    h.clock.set(at + 1_000);
    const symptom = symptomOf({ namespace: 'checkout', pod: 'cart-6d8-a', at, text: TEXT.goDenied });
    record = (await recordFailure(h.ctx, symptom, { identity: CART }, [], h.clock.now())).record;
  }
  if (record === undefined) throw new Error('no failure');
  return record;
}

describe('ready: an unexplained group pages once its failures have lasted', () => {
  const fakes = useNotifyFakes();

  test('two minutes of failures, at least three of them', async () => {
    const h = unitContext(fakes, START);
    assert.equal(await ready(h.ctx, await failures(h, 4), []), false, '90 s is a blip');
    const h2 = unitContext(fakes, START);
    assert.equal(await ready(h2.ctx, await failures(h2, 5), []), true, '2 min, 5 failures');
    const h3 = unitContext(fakes, START);
    assert.equal(await ready(h3.ctx, await failures(h3, 2, 150_000), []), false, '2.5 min, but 2 failures');
  });

  test('counted from the repair of the last incident that explained it', async () => {
    const h = unitContext(fakes, START);
    const record = await failures(h, 5);
    const repairedAt = new Date(START + 60_000).toISOString();
    const linked = {
      ...record,
      links: [{ fingerprint: 'binding-missing/x', incident: 'inc-1', resolvedAt: repairedAt }],
    };
    assert.equal(await ready(h.ctx, linked, []), false, 'only 1 min since the repair');
  });
});

describe('openAuthFailure: wi-auth-failures, with the live diagnosis of the chain', () => {
  const fakes = useNotifyFakes();

  test('opens through alerting, with the group’s evidence and the diagnosis; the group remembers it', async () => {
    const h = unitContext(fakes, START);
    const record = await failures(h, 5);
    const opened = await openAuthFailure(h.ctx, record, undefined, h.clock.now(), h.log);
    assert.deepEqual(
      opened.findings.map((f) => [f.kind, f.fingerprint]),
      [['wi-auth-failures', OWN]],
    );
    assert.deepEqual(opened.retryable, []);
    const incident = opened.incidents[0]?.incident;
    assert.equal(opened.incidents[0]?.transition, 'opened');
    assert.equal(incident?.diagnosis?.healthy, true, 'the simulated organization is its own live state');
    assert.deepEqual(
      incident?.evidence?.map((e) => [e.key, e.count]),
      [[record.key, 5]],
    );
    assert.match(
      slackText(posts(fakes.slack)[0] as never),
      /checkout\/cart has failed 5 token requests since .*every Workload Identity link holds/,
    );
    assert.deepEqual(
      (await h.store.symptomGroup(record.key))?.links.map((l) => l.fingerprint),
      [OWN],
    );
  });

  test('already open and told everywhere: nothing more', async () => {
    const h = unitContext(fakes, START);
    const record = await failures(h, 5);
    const first = await openAuthFailure(h.ctx, record, undefined, h.clock.now(), h.log);
    const again = await openAuthFailure(h.ctx, record, first.incidents[0]?.incident, h.clock.now(), h.log);
    assert.deepEqual(again, { findings: [], incidents: [], retryable: [] });
    assert.equal(posts(fakes.slack).length, 1);
  });
});
