import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, test } from 'node:test';
import { entryKey } from '../../../shared/alerting/delivery.ts';
import { type JudgeDeps, judgeChange, judgeIgnored } from '../../../shared/alerting/judge.ts';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../../../shared/incidents/store.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { snapshotState } from '../../../shared/live/snapshot-state.ts';
import { createLogger } from '../../../shared/log.ts';
import { type Analysis, analyze } from '../../../shared/pipeline.ts';
import { FIXTURES } from '../../support/paths.ts';
import { loadSnapshot } from '../../support/snapshots.ts';
import { watched } from '../../support/watched.ts';

const raw = (name: string) => JSON.parse(readFileSync(join(FIXTURES, 'events', `${name}.json`), 'utf8'));
const NOW = new Date('2026-11-04T09:13:00Z');

function analysed(value: unknown, snapshot: Snapshot | undefined) {
  const analysis = analyze(value, snapshot);
  if (analysis.outcome === 'invalid') throw new Error(analysis.error);
  return { analysis, key: entryKey(analysis.delivery) };
}

function asChange(analysis: Analysis): Extract<Analysis, { outcome: 'change' }> {
  if (analysis.outcome !== 'change') throw new Error('no change');
  return analysis;
}

describe('judge: what an audit entry comes to before anything is applied', () => {
  let store: IncidentStore;
  let lines: Record<string, unknown>[];
  let log: ReturnType<typeof createLogger>['log'];

  beforeEach(() => {
    store = createMemoryStore();
    lines = [];
    log = createLogger((line) => lines.push(JSON.parse(line))).log;
  });

  test('an irrelevant entry is ignored without touching the store', async () => {
    const spy = watched(store);
    const { analysis, key } = analysed(raw('ksa-token-create'), undefined);
    if (analysis.outcome !== 'ignored') throw new Error('expected ignored');
    const judged = await judgeIgnored({ store: spy.value, now: () => NOW }, analysis, key, undefined, log);
    assert.deepEqual(judged, {
      answer: { outcome: 'ignored', reason: analysis.reason, findings: [], incidents: [] },
    });
    assert.deepEqual(spy.touched, []);
    assert.equal(lines[0]?.severity, 'DEBUG');
  });

  test('a failed GKE operation: the findings of its first entry, resolved; once processed, a duplicate', async () => {
    const snapshot = loadSnapshot();
    const deps: JudgeDeps = { store, now: () => NOW };
    const first = analysed(raw('nodepool-gce-metadata'), snapshot);
    await judgeChange(deps, asChange(first.analysis), first.key, snapshot, log);
    const entry = raw('nodepool-update-last');
    entry.protoPayload.status = { code: 13, message: 'INTERNAL: node pool update failed' };
    const failed = analysed(entry, snapshot);
    if (failed.analysis.outcome !== 'ignored') throw new Error('expected ignored');
    const judged = await judgeIgnored(deps, failed.analysis, failed.key, snapshot, log);
    assert.ok('findings' in judged);
    assert.deepEqual(
      judged.findings.map((f) => [f.kind, f.status]),
      [['nodepool-metadata-disabled', 'resolved']],
    );
    await store.markProcessed(failed.key);
    const again = await judgeIgnored(deps, failed.analysis, failed.key, snapshot, log);
    assert.deepEqual(again, { answer: { outcome: 'duplicate', findings: [], incidents: [] } });
  });

  test('a change that breaks nothing: handled, and the simulated organization takes it', async () => {
    let snapshot = loadSnapshot();
    const inventory = { current: () => snapshot, update: (next: Snapshot) => (snapshot = next) };
    const before = snapshot;
    const spy = watched(store);
    const { analysis, key } = analysed(raw('gsa-binding-added'), snapshot);
    const change = asChange(analysis);
    const judged = await judgeChange(
      { store: spy.value, now: () => NOW, inventory },
      { ...change, findings: [] },
      key,
      before,
      log,
    );
    assert.deepEqual(judged, { answer: { outcome: 'handled', findings: [], incidents: [] } });
    assert.notEqual(snapshot, before, 'the change was applied to the organization');
    assert.deepEqual(spy.touched, [], 'nothing found: no store read');
  });

  test('findings: the delivery is noted for the self-check, then confirmed against the organization', async () => {
    const snapshot = loadSnapshot();
    const inventory = { current: () => snapshot, update: () => {} };
    const { analysis, key } = analysed(raw('gsa-binding-removed'), snapshot);
    const judged = await judgeChange(
      { store, now: () => NOW, inventory },
      asChange(analysis),
      key,
      snapshot,
      log,
    );
    assert.ok('findings' in judged);
    assert.deepEqual(
      judged.findings.map((f) => [f.kind, f.status]),
      [['binding-missing', 'firing']],
    );
    assert.equal(judged.event?.type, 'gsa-policy');
    assert.equal(judged.snapshot, snapshot);
    assert.equal(await store.lastDelivery(), NOW.toISOString());
    await store.markProcessed(key);
    const again = await judgeChange(
      { store, now: () => NOW, inventory },
      asChange(analysis),
      key,
      snapshot,
      log,
    );
    assert.deepEqual(again, { answer: { outcome: 'duplicate', findings: [], incidents: [] } });
  });

  test('live: a GKE operation that started is verified when it completes, not now', async () => {
    const live = snapshotState(() => loadSnapshot());
    const { analysis, key } = analysed(raw('nodepool-gce-metadata'), loadSnapshot());
    const judged = await judgeChange(
      { store, now: () => NOW, live },
      asChange(analysis),
      key,
      loadSnapshot(),
      log,
    );
    assert.deepEqual(judged, { answer: { outcome: 'handled', findings: [], incidents: [] } });
    assert.equal(await store.isProcessed(key), true);
    assert.ok(await store.operation('operation-1762765830114-6f0a2c9e-3b1d-4e7a-9c5f-2a8d0e6b4c13'));
    assert.match(String(lines.at(-1)?.message), /operation started/);
  });

  test('live: the organization before the change is the last sweep’s, so a deleted GSA names its KSAs', async () => {
    const { analysis, key } = analysed(raw('gsa-deleted'), undefined);
    const change = asChange(analysis);
    assert.deepEqual(change.findings[0]?.ksas, [], 'alone, the event cannot say whom the GSA served');
    const judged = await judgeChange(
      { store, now: () => NOW, lastKnown: async () => loadSnapshot() },
      change,
      key,
      undefined,
      log,
    );
    assert.ok('findings' in judged);
    assert.deepEqual(
      judged.findings[0]?.ksas.map((k) => `${k.namespace}/${k.name}`),
      ['search/indexer'],
    );
    assert.ok(judged.snapshot, 'the inventory it was judged against goes on');
  });

  test('live: an unreadable last-known inventory is said, and the change is still judged', async () => {
    const { analysis, key } = analysed(raw('gsa-deleted'), undefined);
    const judged = await judgeChange(
      {
        store,
        now: () => NOW,
        lastKnown: () =>
          store.loadInventory().then(() => Promise.reject(new Error('Firestore is unavailable'))),
      },
      asChange(analysis),
      key,
      undefined,
      log,
    );
    assert.ok('findings' in judged);
    assert.equal(judged.findings[0]?.kind, 'gsa-missing');
    assert.ok(
      lines.some(
        (l) =>
          l.severity === 'WARNING' &&
          /last-known inventory could not be read: Firestore is unavailable/.test(String(l.message)),
      ),
    );
  });
});
