import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SymptomGroupRecord } from '../../../shared/domain/symptom-group.ts';
import { openAuthFailure } from '../../../shared/symptoms/open.ts';
import {
  groupKeysOf,
  resolveIfQuiet,
  resolveQuiet,
  resolveQuietSymptoms,
} from '../../../shared/symptoms/quiet.ts';
import { recordFailure } from '../../../shared/symptoms/record.ts';
import { actions, edits, useNotifyFakes } from '../../support/notify-fakes.ts';
import { slackText, symptomOf, TEXT, unitContext } from './support.ts';

/** cart-6d8-a fails every 30 s from 10:00 to 10:02, nothing explains it, then nothing for a while. */
const START = Date.parse('2026-11-28T10:00:00Z');
const CART = { ksa: 'cart', gsa: 'cart@orbit-prod.iam.gserviceaccount.com', match: 'pod' as const };
const OWN = 'wi-auth-failures/orbit-prod/europe-west4/core-1/checkout/cart';
const QUIET_MS = 15 * 60_000;

async function failingThenOpen(h: ReturnType<typeof unitContext>) {
  let record: SymptomGroupRecord | undefined;
  for (let i = 0; i < 5; i++) {
    const at = START + i * 30_000;
    h.clock.set(at + 1_000);
    const symptom = symptomOf({ namespace: 'checkout', pod: 'cart-6d8-a', at, text: TEXT.goDenied });
    record = (await recordFailure(h.ctx, symptom, { identity: CART }, [], h.clock.now())).record;
  }
  if (record === undefined) throw new Error('no failure');
  await openAuthFailure(h.ctx, record, undefined, h.clock.now(), h.log);
  return record;
}

describe('quiet resolution of wi-auth-failures', () => {
  const fakes = useNotifyFakes();

  test('the group behind a symptom incident', () => {
    assert.deepEqual(groupKeysOf(OWN), ['orbit-prod/europe-west4/core-1/checkout/cart']);
  });

  test('not while the group is active; once it has been quiet for the window, with its last evidence', async () => {
    const h = unitContext(fakes, START);
    const record = await failingThenOpen(h);
    h.clock.set(Date.parse(record.lastSeen) + QUIET_MS - 1_000);
    assert.deepEqual(await resolveIfQuiet(h.ctx, OWN, 'run-1', h.log), {
      findings: [],
      incidents: [],
      retryable: [],
    });
    h.clock.set(Date.parse(record.lastSeen) + QUIET_MS + 1_000);
    const resolved = await resolveIfQuiet(h.ctx, OWN, 'run-2', h.log);
    assert.deepEqual(
      resolved.findings.map((f) => [f.fingerprint, f.status]),
      [[OWN, 'resolved']],
    );
    assert.equal(resolved.incidents[0]?.transition, 'resolved');
    assert.match(
      resolved.findings[0]?.summary ?? '',
      /no credential failure from checkout\/cart since 10:02 UTC/,
    );
    assert.deepEqual(actions(fakes.pd), ['trigger', 'resolve']);
    assert.match(slackText(edits(fakes.slack).at(-1) as never), /5 failures in all from 1 pod/);
    assert.deepEqual(await resolveIfQuiet(h.ctx, OWN, 'run-3', h.log), {
      findings: [],
      incidents: [],
      retryable: [],
    });
  });

  test('the sweep’s part: every quiet symptom incident, under the run’s key, said in one line', async () => {
    const h = unitContext(fakes, START);
    const record = await failingThenOpen(h);
    h.clock.set(Date.parse(record.lastSeen) + QUIET_MS + 1_000);
    const result = await resolveQuietSymptoms({
      symptoms: { resolveQuiet: (runId, log) => resolveQuiet(h.ctx, runId, log) },
      runId: 'sweep-7',
      logger: { log: h.log },
      now: h.clock.now,
    });
    assert.deepEqual(
      result.resolved.map((f) => f.fingerprint),
      [OWN],
    );
    assert.deepEqual(result.retryable, []);
    assert.deepEqual((await h.store.current(OWN))?.entries.at(-1), 'symptoms-quiet:sweep-7');
    const line = h.lines.find((l) => l.message === 'resolved 1 quiet symptom incident');
    assert.equal(line?.sweep, 'sweep-7');
  });

  test('the sweep brings the evidence of recently active groups up to date', async () => {
    const h = unitContext(fakes, START);
    const cause = await h.open('ksa-annotation-removed');
    for (let i = 0; i < 3; i++) {
      const at = START + i * 20_000;
      h.clock.set(at + 1_000);
      const symptom = symptomOf({ namespace: 'checkout', pod: 'cart-6d8-a', at, text: TEXT.goDenied });
      await recordFailure(h.ctx, symptom, { identity: CART }, [cause], h.clock.now());
    }
    h.clock.set(START + 5 * 60_000);
    const swept = await resolveQuiet(h.ctx, 'sweep-8', h.log);
    assert.deepEqual(swept.resolved, []);
    assert.deepEqual(
      swept.incidents.map((i) => [i.incident.fingerprint, i.incident.evidence?.[0]?.count]),
      [[cause.fingerprint, 3]],
    );
  });
});
