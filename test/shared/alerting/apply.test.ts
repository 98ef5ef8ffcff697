import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, test } from 'node:test';
import { type ApplyDeps, applyFindings } from '../../../shared/alerting/apply.ts';
import type { Finding } from '../../../shared/domain/finding.ts';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../../../shared/incidents/store.ts';
import { createLogger } from '../../../shared/log.ts';
import { analyze } from '../../../shared/pipeline.ts';
import { createSymptoms } from '../../../shared/symptoms/path.ts';
import { actions, edits, posts, useNotifyFakes } from '../../support/notify-fakes.ts';
import { FIXTURES } from '../../support/paths.ts';
import { loadSnapshot } from '../../support/snapshots.ts';
import { cartFailures, storeGroup } from '../../support/symptom-groups.ts';
import { watched } from '../../support/watched.ts';

/** binding-missing for checkout/cart: firing (the removal) or resolved (the repair). */
function findingsOf(name: 'gsa-binding-removed' | 'gsa-binding-added'): Finding[] {
  const analysis = analyze(
    JSON.parse(readFileSync(join(FIXTURES, 'events', `${name}.json`), 'utf8')),
    loadSnapshot(),
  );
  if (analysis.outcome !== 'change') throw new Error(`${name} is no change`);
  return analysis.findings;
}

const AT = new Date('2026-11-04T09:13:00Z');

describe('applyFindings: findings → incidents → Slack and PagerDuty, once per destination', () => {
  const fakes = useNotifyFakes();
  let store: IncidentStore;
  let lines: Record<string, unknown>[];
  let deps: ApplyDeps;
  let log: ReturnType<typeof createLogger>['log'];

  beforeEach(() => {
    store = createMemoryStore();
    lines = [];
    const logger = createLogger((line) => lines.push(JSON.parse(line)));
    log = logger.log;
    deps = { store, senders: fakes.senders(logger), routing: fakes.routing, now: () => AT };
  });

  test('a firing finding opens its incident and tells each destination', async () => {
    const [finding] = findingsOf('gsa-binding-removed');
    const applied = await applyFindings(deps, [finding as Finding], 'entry-1', log);
    assert.deepEqual(applied.retryable, []);
    assert.equal(applied.incidents[0]?.transition, 'opened');
    const sent = applied.incidents[0]?.sent ?? [];
    assert.equal(sent.length, 2, JSON.stringify(sent));
    assert.ok(
      sent.some((s) => s.startsWith('slack') && s.endsWith(' opened')),
      JSON.stringify(sent),
    );
    assert.ok(
      sent.some((s) => s.startsWith('pagerduty') && s.endsWith(' opened')),
      JSON.stringify(sent),
    );
    assert.equal(posts(fakes.slack).length, 1);
    assert.deepEqual(actions(fakes.pd), ['trigger']);
    assert.equal(lines.find((l) => l.severity === 'NOTICE')?.transition, 'opened');
    assert.equal((await store.current(finding?.fingerprint ?? ''))?.status, 'open');
  });

  test('the same key applied again changes nothing and tells nobody', async () => {
    const findings = findingsOf('gsa-binding-removed');
    await applyFindings(deps, findings, 'entry-1', log);
    const again = await applyFindings(deps, findings, 'entry-1', log);
    assert.equal(again.incidents[0]?.transition, undefined);
    assert.deepEqual(again.incidents[0]?.sent, []);
    assert.equal(posts(fakes.slack).length, 1);
    assert.deepEqual(actions(fakes.pd), ['trigger']);
  });

  test('the repair resolves: the same message edited, PagerDuty resolved', async () => {
    await applyFindings(deps, findingsOf('gsa-binding-removed'), 'entry-1', log);
    const repaired = await applyFindings(deps, findingsOf('gsa-binding-added'), 'entry-2', log);
    assert.equal(repaired.incidents[0]?.transition, 'resolved');
    assert.equal(posts(fakes.slack).length, 1);
    assert.equal(edits(fakes.slack).length, 1);
    assert.deepEqual(actions(fakes.pd), ['trigger', 'resolve']);
  });

  test('a destination that fails in a way a retry cures is returned, the others are told', async () => {
    fakes.slack.script({ status: 500 }, { status: 500 }, { status: 500 });
    const applied = await applyFindings(deps, findingsOf('gsa-binding-removed'), 'entry-1', log);
    assert.equal(applied.retryable.length, 1);
    assert.deepEqual(actions(fakes.pd), ['trigger']);
    assert.ok(lines.some((l) => l.severity === 'WARNING' && /will be retried/.test(String(l.message))));
  });

  test('two deliveries of one entry at once: one tells, the other is sent back to retry', async () => {
    const findings = findingsOf('gsa-binding-removed');
    const both = await Promise.all([
      applyFindings(deps, findings, 'entry-1', log),
      applyFindings(deps, findings, 'entry-1', log),
    ]);
    const busy = both.flatMap((b) => b.retryable).map((e) => e.message);
    assert.equal(busy.length, 1, JSON.stringify(busy));
    assert.match(busy[0] ?? '', /^another delivery is sending incident .+ to /);
    assert.equal(posts(fakes.slack).length, 1);
    assert.deepEqual(actions(fakes.pd), ['trigger']);
  });

  test('no findings: not even the silences are read', async () => {
    const spy = watched(store);
    assert.deepEqual(await applyFindings({ ...deps, store: spy.value }, [], 'entry-1', log), {
      incidents: [],
      retryable: [],
    });
    assert.deepEqual(spy.touched, []);
  });

  test('with the symptom path: failures already seen are the evidence of the incident that opens', async () => {
    const group = cartFailures(AT);
    await storeGroup(store, group);
    const logger = createLogger((line) => lines.push(JSON.parse(line)));
    const symptoms = createSymptoms({
      store,
      senders: deps.senders,
      routing: deps.routing,
      now: () => AT,
      logger,
      applyFindings: (findings, key, log, options) =>
        applyFindings(withSymptoms, findings, key, log, options),
    });
    const withSymptoms: ApplyDeps = { ...deps, symptoms };
    const applied = await applyFindings(withSymptoms, findingsOf('gsa-binding-removed'), 'entry-1', log);
    const incident = applied.incidents[0]?.incident;
    assert.deepEqual(
      incident?.evidence?.map((e) => [e.key, e.count]),
      [[group.key, 3]],
    );
    assert.match(JSON.stringify(posts(fakes.slack)[0]?.body), /failed 3 token requests/);
    // …and the group remembers the incident it is evidence of (failures after a repair still reach it).
    const linked = await store.symptomGroup(group.key);
    assert.deepEqual(
      linked?.links.map((l) => [l.fingerprint, l.incident]),
      [[incident?.fingerprint, incident?.id]],
    );
  });
});
