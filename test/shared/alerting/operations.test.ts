import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  failedOperation,
  isFailedOperation,
  isOperation,
  isOperationEnd,
  isOperationStart,
  withOperation,
} from '../../../shared/alerting/operations.ts';
import type { ChangeEvent } from '../../../shared/events/change-event.ts';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import { analyze } from '../../../shared/pipeline.ts';
import { FIXTURES } from '../../support/paths.ts';
import { loadSnapshot } from '../../support/snapshots.ts';

// UpdateNodePool of core-1/highmem to GCE_METADATA: the `first` entry (request, actor) and, fifteen
// minutes later, the `last` entry (outcome only) of the same operation.
const raw = (name: string) => JSON.parse(readFileSync(join(FIXTURES, 'events', `${name}.json`), 'utf8'));
const OPERATION = 'operation-1762765830114-6f0a2c9e-3b1d-4e7a-9c5f-2a8d0e6b4c13';
const NOW = new Date('2026-11-10T09:10:31Z');

function change(value: unknown): ChangeEvent {
  const analysis = analyze(value, loadSnapshot());
  if (analysis.outcome !== 'change') throw new Error(`not a change: ${JSON.stringify(analysis)}`);
  return analysis.event;
}

function failedLast() {
  const entry = raw('nodepool-update-last');
  entry.insertId = 'last-failed';
  entry.protoPayload.status = { code: 13, message: 'INTERNAL: node pool update failed' };
  const analysis = analyze(entry);
  if (analysis.outcome !== 'ignored') throw new Error('a failed request is ignored by the classifier');
  return analysis;
}

describe('GKE operations: which entry of an operation an event is', () => {
  test('first, last, and Kubernetes entries (always first and last) that are no GKE operation', () => {
    const first = change(raw('nodepool-gce-metadata'));
    const last = change(raw('nodepool-update-last'));
    const kubernetes = change(raw('ksa-annotation-removed'));
    assert.deepEqual(
      [first, last, kubernetes].map((e) => [isOperation(e), isOperationStart(e), isOperationEnd(e)]),
      [
        [true, true, false],
        [true, false, true],
        [false, false, false],
      ],
    );
    assert.equal(isOperation(change(raw('gsa-binding-removed'))), false, 'IAM writes no operation');
  });

  test('a failed last entry, told from the reason the classifier gave', () => {
    const failed = failedLast();
    assert.match(failed.reason, /^the request failed/);
    assert.equal(isFailedOperation(failed.delivery, failed.reason), true);
    assert.equal(isFailedOperation(failed.delivery, 'not a watched method'), false);
  });
});

describe('withOperation: the last entry judged with its first entry’s request and actor', () => {
  test('the first entry is remembered as it is', async () => {
    const store = createMemoryStore();
    const first = change(raw('nodepool-gce-metadata'));
    assert.equal(await withOperation(store, first, () => NOW), first);
    assert.deepEqual(await store.operation(OPERATION), {
      id: OPERATION,
      event: first,
      recordedAt: NOW.toISOString(),
    });
  });

  test('the last entry becomes the first, with the last entry’s identity, time and operation', async () => {
    const store = createMemoryStore();
    const first = change(raw('nodepool-gce-metadata'));
    await withOperation(store, first, () => NOW);
    const last = change(raw('nodepool-update-last'));
    const joined = await withOperation(store, last, () => NOW);
    assert.equal(joined.source.actor, 'deployer@orbit-prod.iam.gserviceaccount.com');
    assert.equal(joined.source.method, first.source.method);
    assert.equal(joined.source.insertId, 'm7ke0jd2k1pa');
    assert.equal(joined.source.time, '2026-11-10T09:24:50.877031Z');
    assert.deepEqual(joined.source.operation, last.source.operation);
    assert.deepEqual({ ...joined, source: undefined }, { ...first, source: undefined });
  });

  test('a last entry whose first was never seen stays as it is', async () => {
    const last = change(raw('nodepool-update-last'));
    assert.equal(await withOperation(createMemoryStore(), last, () => NOW), last);
  });

  test('entries of no GKE operation pass untouched, and nothing is remembered', async () => {
    const store = createMemoryStore();
    const kubernetes = change(raw('ksa-annotation-removed'));
    assert.equal(await withOperation(store, kubernetes, () => NOW), kubernetes);
    assert.equal(await store.operation(kubernetes.source.operation?.id ?? ''), undefined);
  });
});

describe('failedOperation: an operation whose last entry failed never happened', () => {
  test('the first entry’s firing findings come back resolved, naming the failure and the last entry', async () => {
    const store = createMemoryStore();
    await withOperation(store, change(raw('nodepool-gce-metadata')), () => NOW);
    const failed = failedLast();
    const findings = await failedOperation(store, failed.delivery, failed.reason, loadSnapshot());
    assert.deepEqual(
      findings.map((f) => [f.kind, f.status, f.fingerprint]),
      [
        [
          'nodepool-metadata-disabled',
          'resolved',
          'nodepool-metadata-disabled/orbit-prod/europe-west4/core-1/highmem',
        ],
      ],
    );
    assert.match(
      findings[0]?.summary ?? '',
      /^the operation that would have broken this failed \(the request failed/,
    );
    assert.equal(findings[0]?.cause?.insertId, 'last-failed');
    assert.equal(findings[0]?.cause?.actor, 'deployer@orbit-prod.iam.gserviceaccount.com');
  });

  test('nothing when the first entry is unknown, or the entry is no failed last entry', async () => {
    const failed = failedLast();
    assert.deepEqual(
      await failedOperation(createMemoryStore(), failed.delivery, failed.reason, loadSnapshot()),
      [],
    );
    const store = createMemoryStore();
    await withOperation(store, change(raw('nodepool-gce-metadata')), () => NOW);
    assert.deepEqual(
      await failedOperation(store, failed.delivery, 'not a watched method', loadSnapshot()),
      [],
    );
  });
});
