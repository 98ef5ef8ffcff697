import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { entryKey, RetryableDeliveryError } from '../../../shared/alerting/delivery.ts';
import { type Delivery, decode } from '../../../shared/events/decode.ts';
import { FIXTURES } from '../../support/paths.ts';
import { asDelivery } from '../symptoms/fixtures.ts';

const entry = () =>
  JSON.parse(readFileSync(join(FIXTURES, 'events', 'gsa-binding-removed.json'), 'utf8')) as Record<
    string,
    unknown
  >;

function delivered(value: unknown): Delivery {
  const decoded = decode(value);
  if (!decoded.ok) throw new Error(decoded.error);
  return decoded.delivery;
}

describe('entryKey: what makes two deliveries the same log entry', () => {
  test('insertId, unique within its log, with the log name', () => {
    const key = entryKey(delivered(entry()));
    assert.equal(key, 'projects/orbit-prod/logs/cloudaudit.googleapis.com%2Factivity|1m8w3xe2k4bq');
    assert.equal(entryKey(delivered(asDelivery(entry(), 'message-1'))), key, 'the envelope does not matter');
  });

  test('without insertId: the Pub/Sub message id', () => {
    const { insertId: _, ...bare } = entry();
    assert.equal(entryKey(delivered(asDelivery(bare, 'message-7'))), 'message|message-7');
  });

  test('with neither: the content, so the same entry twice is one and another entry is another', () => {
    const { insertId: _, ...bare } = entry();
    const key = entryKey(delivered(bare));
    assert.match(key, /^content\|[0-9a-f]{64}$/);
    assert.equal(entryKey(delivered(structuredClone(bare))), key);
    assert.notEqual(entryKey(delivered({ ...bare, timestamp: '2026-11-04T09:12:42Z' })), key);
  });
});

describe('RetryableDeliveryError: the delivery fails so Pub/Sub brings it back', () => {
  test('names every cause and keeps them', () => {
    const causes = [new Error('Slack answered 503'), new Error('PagerDuty timed out')];
    const error = new RetryableDeliveryError(causes);
    assert.equal(error.name, 'RetryableDeliveryError');
    assert.equal(error.message, 'retryable failures: Slack answered 503; PagerDuty timed out');
    assert.deepEqual(error.causes, causes);
    assert.ok(error instanceof Error);
  });
});
