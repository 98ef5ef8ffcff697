import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { confirm } from '../../../shared/alerting/confirm.ts';
import { RetryableDeliveryError } from '../../../shared/alerting/delivery.ts';
import { snapshotState } from '../../../shared/live/snapshot-state.ts';
import { createLogger } from '../../../shared/log.ts';
import { analyze } from '../../../shared/pipeline.ts';
import { type LiveFakes, startLiveFakes } from '../../support/live-fakes.ts';
import { FIXTURES } from '../../support/paths.ts';
import { loadSnapshot, ORBIT, variant } from '../../support/snapshots.ts';

// erin@ removes checkout/cart's binding on cart@ (09:12:41), then adds it back (09:19:05).
const SOON = () => new Date('2026-11-04T09:13:00Z');

function changeOf(name: string) {
  const analysis = analyze(
    JSON.parse(readFileSync(join(FIXTURES, 'events', `${name}.json`), 'utf8')),
    loadSnapshot(),
  );
  if (analysis.outcome !== 'change') throw new Error(`${name} is no change`);
  return analysis;
}

/** The organization after the removal, as live APIs show it. */
const withoutCartBinding = () =>
  variant((s) => {
    const gsa = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.cart);
    for (const binding of gsa?.iamPolicy.bindings ?? []) {
      binding.members = binding.members.filter((m) => m !== ORBIT.classic('checkout', 'cart'));
    }
  });

function logged() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger((line) => lines.push(JSON.parse(line)));
  return { lines, log: logger.log };
}

describe('confirm: only what live state agrees with goes on', () => {
  test('nothing found, nothing read', async () => {
    const { event } = changeOf('gsa-binding-removed');
    const none: never[] = [];
    const { log, lines } = logged();
    assert.equal(await confirm({ simulated: false, now: SOON }, none, event, loadSnapshot(), log), none);
    assert.deepEqual(lines, []);
  });

  test('no live state and no simulated organization: findings as detected', async () => {
    const { event, findings } = changeOf('gsa-binding-removed');
    const { log } = logged();
    assert.equal(
      await confirm({ simulated: false, now: SOON }, findings, event, loadSnapshot(), log),
      findings,
    );
  });

  test('a simulated organization is its own live state, as the event leaves it', async () => {
    const { event, findings } = changeOf('gsa-binding-removed');
    const { log, lines } = logged();
    const kept = await confirm({ simulated: true, now: SOON }, findings, event, loadSnapshot(), log);
    assert.deepEqual(
      kept.map((f) => [f.kind, f.status]),
      [['binding-missing', 'firing']],
    );
    assert.deepEqual(lines, [], 'confirmed: nothing to say');
  });

  test('a break live state no longer shows resolves, and says why', async () => {
    const { event, findings } = changeOf('gsa-binding-removed');
    const { log, lines } = logged();
    const live = snapshotState(() => loadSnapshot());
    const kept = await confirm({ live, simulated: false, now: SOON }, findings, event, loadSnapshot(), log);
    assert.deepEqual(
      kept.map((f) => [f.fingerprint, f.status]),
      [[findings[0]?.fingerprint, 'resolved']],
    );
    assert.equal(lines[0]?.severity, 'INFO');
    assert.match(String(lines[0]?.message), /^refuted: /);
    assert.equal(lines[0]?.detected, 'firing');
  });

  test('a repair live state does not show yet changes nothing', async () => {
    const { event, findings } = changeOf('gsa-binding-added');
    assert.equal(findings[0]?.status, 'resolved');
    const { log, lines } = logged();
    const live = snapshotState(withoutCartBinding);
    const kept = await confirm({ live, simulated: false, now: SOON }, findings, event, loadSnapshot(), log);
    assert.deepEqual(kept, []);
    assert.equal(lines[0]?.detected, 'resolved');
  });

  describe('over the real adapters', () => {
    let fakes: LiveFakes;
    before(async () => {
      fakes = await startLiveFakes(withoutCartBinding());
    });
    after(() => fakes.stop());

    test('IAM unavailable while the change is fresh: the delivery is retried', async () => {
      fakes.iam.fault({ match: ':getIamPolicy', status: 503 });
      try {
        const { event, findings } = changeOf('gsa-binding-removed');
        const { log } = logged();
        const deps = { live: fakes.liveState(), simulated: false, now: SOON };
        const failed = await confirm(deps, findings, event, loadSnapshot(), log).then(
          () => undefined,
          (error: unknown) => error,
        );
        assert.ok(failed instanceof RetryableDeliveryError, String(failed));
        assert.match(failed.message, /503|unavailable/);
      } finally {
        fakes.clearFaults();
      }
    });

    test('a permission wi-sentinel lacks: the finding goes on, saying what was not checked', async () => {
      fakes.iam.fault({ match: ':getIamPolicy', status: 403 });
      try {
        const { event, findings } = changeOf('gsa-binding-removed');
        const { log, lines } = logged();
        const deps = { live: fakes.liveState(), simulated: false, now: SOON };
        const kept = await confirm(deps, findings, event, loadSnapshot(), log);
        assert.equal(kept[0]?.status, 'firing');
        assert.match(
          kept[0]?.summary ?? '',
          /not confirmed against live state: wi-sentinel lacks iam\.serviceAccounts\.getIamPolicy/,
        );
        assert.equal(lines[0]?.severity, 'WARNING');
      } finally {
        fakes.clearFaults();
      }
    });

    test('confirmed by IAM itself: the break pages', async () => {
      const { event, findings } = changeOf('gsa-binding-removed');
      const { log } = logged();
      const kept = await confirm(
        { live: fakes.liveState(), simulated: false, now: SOON },
        findings,
        event,
        loadSnapshot(),
        log,
      );
      assert.deepEqual(
        kept.map((f) => [f.kind, f.status]),
        [['binding-missing', 'firing']],
      );
      assert.ok(
        fakes.calls().some((c) => c.path.endsWith(`${ORBIT.cart}:getIamPolicy`)),
        'IAM was asked',
      );
    });
  });
});
