import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { handleNotification } from '../../../shared/symptoms/monitoring-alert.ts';
import { actions, posts, useNotifyFakes } from '../../support/notify-fakes.ts';
import { monitoringFixture } from './fixtures.ts';
import { unitContext } from './support.ts';

const CLUSTER_FP = 'wi-auth-failures/orbit-prod/europe-west4/core-1';
/** Monitoring opened its incident at 10:03 (a node of spot) and closed it at 10:25. */
const OPENED_AT = Date.parse('2026-11-28T10:03:00Z');

describe('handleNotification: the metadata server’s error rate, as Monitoring says it', () => {
  const fakes = useNotifyFakes();

  test('an open alert nothing explains pages at once, on the node’s pool; the same again is a duplicate', async () => {
    const h = unitContext(fakes, OPENED_AT + 60_000);
    const opened = await handleNotification(h.ctx, monitoringFixture('open'), h.log);
    assert.equal(opened.outcome, 'handled');
    assert.match(opened.reason ?? '', /^Monitoring incident .+ open for core-1$/);
    assert.deepEqual(
      opened.findings.map((f) => [f.fingerprint, f.nodePool]),
      [[CLUSTER_FP, 'spot']],
    );
    assert.equal(posts(fakes.slack).length, 1);
    const again = await handleNotification(h.ctx, monitoringFixture('open'), h.log);
    assert.equal(again.outcome, 'duplicate');
    assert.equal(posts(fakes.slack).length, 1);
    assert.ok(h.lines.some((l) => l.message === 'duplicate delivery acknowledged'));
  });

  test('Monitoring closing its incident resolves ours', async () => {
    const h = unitContext(fakes, OPENED_AT + 60_000);
    await handleNotification(h.ctx, monitoringFixture('open'), h.log);
    h.clock.set(Date.parse('2026-11-28T10:25:30Z'));
    const closed = await handleNotification(h.ctx, monitoringFixture('closed-promql-labels'), h.log);
    assert.equal(closed.outcome, 'handled');
    assert.deepEqual(
      closed.findings.map((f) => [f.fingerprint, f.status]),
      [[CLUSTER_FP, 'resolved']],
    );
    assert.deepEqual(actions(fakes.pd), ['trigger', 'resolve']);
    assert.equal((await h.store.current(CLUSTER_FP))?.status, 'resolved');
  });

  test('another policy’s notification is none of ours; a broken one is acknowledged, saying why', async () => {
    const h = unitContext(fakes, OPENED_AT);
    const other = await handleNotification(h.ctx, monitoringFixture('other-policy'), h.log);
    assert.equal(other.outcome, 'ignored');
    assert.deepEqual([other.findings, other.incidents, other.retryable], [[], [], []]);
    const broken = await handleNotification(h.ctx, { incident: { state: 'open' }, version: '1.2' }, h.log);
    assert.equal(broken.outcome, 'invalid');
    assert.ok(
      h.lines.some(
        (l) => l.severity === 'WARNING' && /undecodable Monitoring notification/.test(String(l.message)),
      ),
    );
    assert.deepEqual(await h.store.listSymptomGroups(), [], 'neither is stored');
  });
});
