import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authFailureFinding } from '../../../shared/symptoms/auth-failures.ts';
import { authFingerprint } from '../../../shared/symptoms/group.ts';
import { recordFailure } from '../../../shared/symptoms/record.ts';
import { explain, pushEvidence } from '../../../shared/symptoms/tell.ts';
import { actions, edits, posts, useNotifyFakes } from '../../support/notify-fakes.ts';
import { replies, slackText, symptomOf, TEXT, unitContext } from './support.ts';

/** erin@ removed checkout/cart's binding at 09:12:41; cart-6d8-a fails from 09:13. */
const START = Date.parse('2026-11-04T09:13:00Z');
const CART = { ksa: 'cart', gsa: 'cart@orbit-prod.iam.gserviceaccount.com', match: 'pod' as const };
const failure = (at: number) =>
  symptomOf({ namespace: 'checkout', pod: 'cart-6d8-a', at, text: TEXT.goDenied });

describe('tell: an incident hears what its symptoms say', () => {
  const fakes = useNotifyFakes();

  test('fresh evidence is an edit in place: no new page, no thread reply', async () => {
    const h = unitContext(fakes, START);
    const incident = await h.open('gsa-binding-removed');
    const at = h.clock.now();
    const { record } = await recordFailure(h.ctx, failure(START), { identity: CART }, [], at);
    const pushed = await pushEvidence(h.ctx, incident.fingerprint, record, at, [], h.log);
    assert.equal(pushed.changed, true);
    assert.deepEqual(
      pushed.incident?.evidence?.map((e) => [e.key, e.count]),
      [[record.key, 1]],
    );
    assert.equal(posts(fakes.slack).length, 1);
    assert.equal(edits(fakes.slack).length, 1);
    assert.equal(replies(fakes.slack).length, 0);
    assert.match(
      slackText(edits(fakes.slack)[0] as never),
      /checkout\/cart has failed 1 token request since/,
    );
    assert.deepEqual(actions(fakes.pd), ['trigger', 'trigger'], 'PagerDuty’s details, under the same key');
  });

  test('more of the same waits for the interval; a change after it is told', async () => {
    const h = unitContext(fakes, START);
    const incident = await h.open('gsa-binding-removed');
    const first = await recordFailure(h.ctx, failure(START), { identity: CART }, [], h.clock.now());
    await pushEvidence(h.ctx, incident.fingerprint, first.record, h.clock.now(), [], h.log);
    h.clock.advance(30_000);
    const second = await recordFailure(h.ctx, failure(START + 30_000), { identity: CART }, [], h.clock.now());
    const early = await pushEvidence(h.ctx, incident.fingerprint, second.record, h.clock.now(), [], h.log);
    assert.equal(early.changed, false);
    h.clock.advance(30_000);
    const late = await pushEvidence(h.ctx, incident.fingerprint, second.record, h.clock.now(), [], h.log);
    assert.equal(late.changed, true);
    assert.equal(late.incident?.evidence?.[0]?.count, 2);
    assert.equal(edits(fakes.slack).length, 2);
  });

  test('an incident resolved longer ago than the window is left as it closed', async () => {
    const h = unitContext(fakes, START);
    const incident = await h.open('gsa-binding-removed');
    await h.open('gsa-binding-added');
    h.clock.advance(h.ctx.options.afterRepairMs + 60_000);
    const at = h.clock.now();
    const { record } = await recordFailure(h.ctx, failure(at.getTime()), { identity: CART }, [], at);
    const pushed = await pushEvidence(h.ctx, incident.fingerprint, record, at, [], h.log);
    assert.equal(pushed.changed, false);
    assert.equal(edits(fakes.slack).length, 1, 'only the resolution edited the message');
  });

  test('a symptom incident hears which incident explains it, once: a transition and a thread reply', async () => {
    const h = unitContext(fakes, START);
    const { record } = await recordFailure(h.ctx, failure(START), { identity: CART }, [], h.clock.now());
    const own = authFailureFinding(record, { repairs: [] });
    await h.ctx.applyFindings([own], 'symptoms:cart', h.log, {});
    const cause = await h.open('gsa-binding-removed');
    const told = await explain(h.ctx, authFingerprint(record), [cause], [], h.log);
    assert.equal(told?.changed, true);
    assert.deepEqual(
      told?.incident?.explainedBy?.map((r) => [r.id, r.kind]),
      [[cause.id, 'binding-missing']],
    );
    assert.match(
      told?.incident?.transitions.at(-1)?.summary ?? '',
      /^explained by binding-missing incident /,
    );
    assert.equal(replies(fakes.slack).length, 1);
    const again = await explain(h.ctx, authFingerprint(record), [cause], [], h.log);
    assert.equal(again?.changed, false);
    assert.equal(replies(fakes.slack).length, 1);
  });
});
