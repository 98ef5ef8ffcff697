import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Finding } from '../../../shared/domain/finding.ts';
import type { SymptomGroupRecord } from '../../../shared/domain/symptom-group.ts';
import { analyze } from '../../../shared/pipeline.ts';
import { authFailureFinding } from '../../../shared/symptoms/auth-failures.ts';
import { afterApply, settleGroup, withEvidence } from '../../../shared/symptoms/correlate.ts';
import { evidenceOf } from '../../../shared/symptoms/evidence.ts';
import { dueOf, recordFailure } from '../../../shared/symptoms/record.ts';
import { edits, posts, useNotifyFakes } from '../../support/notify-fakes.ts';
import { FIXTURES } from '../../support/paths.ts';
import { loadSnapshot } from '../../support/snapshots.ts';
import { replies, symptomOf, TEXT, unitContext } from './support.ts';

/** erin@ removed checkout/cart's binding at 09:12:41; cart-6d8-a fails every 30 s from 09:13. */
const START = Date.parse('2026-11-04T09:13:00Z');
const CART = { ksa: 'cart', gsa: 'cart@orbit-prod.iam.gserviceaccount.com', match: 'pod' as const };
const OWN = 'wi-auth-failures/orbit-prod/europe-west4/core-1/checkout/cart';

async function fail(
  h: ReturnType<typeof unitContext>,
  i: number,
  open: Parameters<typeof recordFailure>[3] = [],
) {
  const at = START + i * 30_000;
  h.clock.set(at + 1_000);
  const symptom = symptomOf({ namespace: 'checkout', pod: 'cart-6d8-a', at, text: TEXT.goDenied });
  return recordFailure(h.ctx, symptom, { identity: CART }, open, h.clock.now());
}

function findingsOf(name: string): Finding[] {
  const analysis = analyze(
    JSON.parse(readFileSync(join(FIXTURES, 'events', `${name}.json`), 'utf8')),
    loadSnapshot(),
  );
  if (analysis.outcome !== 'change') throw new Error(`${name} is no change`);
  return analysis.findings;
}

describe('settleGroup: after a group changed', () => {
  const fakes = useNotifyFakes();

  test('explained: the incident that explains it gets its evidence; nothing else opens', async () => {
    const h = unitContext(fakes, START);
    const cause = await h.open('gsa-binding-removed');
    const { record } = await fail(h, 0, [cause]);
    const at = h.clock.now();
    const settled = await settleGroup(h.ctx, record, [cause], dueOf(record, at), at, h.log, 'grace');
    assert.deepEqual(settled.findings, []);
    assert.deepEqual(
      settled.incidents.map((i) => [i.incident.fingerprint, i.incident.evidence?.length]),
      [[cause.fingerprint, 1]],
    );
    assert.equal(edits(fakes.slack).length, 1);
    assert.equal(posts(fakes.slack).length, 1, 'no page beyond the cause’s own');
  });

  test('unexplained: nothing until the failures have lasted, then wi-auth-failures', async () => {
    const h = unitContext(fakes, START);
    let record: SymptomGroupRecord | undefined;
    for (let i = 0; i < 4; i++) {
      record = (await fail(h, i)).record;
      const early = await settleGroup(h.ctx, record, [], [], h.clock.now(), h.log, 'grace');
      assert.deepEqual(early, { findings: [], incidents: [], retryable: [] }, `failure ${i + 1}`);
    }
    record = (await fail(h, 4)).record;
    const opened = await settleGroup(h.ctx, record, [], [], h.clock.now(), h.log, 'grace');
    assert.deepEqual(
      opened.findings.map((f) => f.fingerprint),
      [OWN],
    );
    assert.equal(posts(fakes.slack).length, 1);
  });

  test('readiness now (Monitoring waited already): the first settle opens it', async () => {
    const h = unitContext(fakes, START);
    const { record } = await fail(h, 0);
    const opened = await settleGroup(h.ctx, record, [], [], h.clock.now(), h.log, 'now');
    assert.deepEqual(
      opened.findings.map((f) => f.fingerprint),
      [OWN],
    );
  });

  test('its symptom incident, opened first, is told when the cause turns up', async () => {
    const h = unitContext(fakes, START);
    const { record } = await fail(h, 0);
    const own = (
      await h.ctx.applyFindings([authFailureFinding(record, { repairs: [] })], 'symptoms:cart', h.log, {})
    ).incidents[0]?.incident;
    const cause = await h.open('gsa-binding-removed');
    assert.ok(own);
    const settled = await settleGroup(h.ctx, record, [own, cause], [], h.clock.now(), h.log, 'grace');
    assert.deepEqual(
      settled.incidents.map((i) => [i.incident.fingerprint, i.transition]),
      [[OWN, 'updated']],
    );
    assert.equal(replies(fakes.slack).length, 1);
  });
});

describe('withEvidence and afterApply: the incident side', () => {
  const fakes = useNotifyFakes();

  test('an incident that opens while its symptoms are active carries them from its first message', async () => {
    const h = unitContext(fakes, START);
    const { record } = await fail(h, 0);
    const findings = findingsOf('gsa-binding-removed');
    const options = await withEvidence(h.ctx, findings, {});
    assert.deepEqual(
      options.attachments?.get(findings[0]?.fingerprint ?? '')?.evidence?.map((e) => [e.key, e.count]),
      [[record.key, 1]],
    );
  });

  test('a repair, or no active group: the options as they were', async () => {
    const h = unitContext(fakes, START);
    const none = {};
    assert.equal(await withEvidence(h.ctx, findingsOf('gsa-binding-removed'), none), none);
    await fail(h, 0);
    h.ctx.active.invalidate();
    assert.equal(await withEvidence(h.ctx, findingsOf('gsa-binding-added'), none), none);
  });

  test('after the findings applied: the group remembers the incident, and when it resolved', async () => {
    const h = unitContext(fakes, START);
    const { record } = await fail(h, 0);
    const cause = await h.open('gsa-binding-removed');
    const withIt = { ...cause, evidence: [evidenceOf(record, h.clock.now())] };
    assert.deepEqual(
      await afterApply(h.ctx, [{ incident: withIt, transition: 'opened', sent: [] }], h.log),
      [],
    );
    assert.deepEqual(
      (await h.store.symptomGroup(record.key))?.links.map((l) => [l.fingerprint, l.resolvedAt]),
      [[cause.fingerprint, undefined]],
    );
    const resolvedAt = '2026-11-04T09:19:05Z';
    await afterApply(
      h.ctx,
      [{ incident: { ...withIt, status: 'resolved', resolvedAt }, transition: 'resolved', sent: [] }],
      h.log,
    );
    assert.equal((await h.store.symptomGroup(record.key))?.links[0]?.resolvedAt, resolvedAt);
  });
});
