import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { classify } from '../../../shared/events/classify.ts';
import { type DecodeResult, type Delivery, decode, decodeText } from '../../../shared/events/decode.ts';
import { FIXTURES } from '../../support/paths.ts';

const DIR = join(FIXTURES, 'events');
const FILES = readdirSync(DIR)
  .filter((file) => file.endsWith('.json'))
  .sort();

function text(name: string): string {
  return readFileSync(join(DIR, `${name}.json`), 'utf8');
}

function raw(name: string): Record<string, unknown> {
  return JSON.parse(text(name)) as Record<string, unknown>;
}

const base64 = (value: string) => Buffer.from(value, 'utf8').toString('base64');

/** What a Log Router sink publishes: the LogEntry as JSON, newline-terminated. */
const published = (entry: unknown) => base64(`${JSON.stringify(entry)}\n`);

/** The CloudEvent Eventarc delivers for a Pub/Sub trigger (as functions-framework hands it over). */
function cloudEvent(data: string, extra: Record<string, unknown> = {}) {
  return {
    specversion: '1.0',
    id: '17733104419026551',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    source: '//pubsub.googleapis.com/projects/orbit-prod/topics/wi-sentinel-audit',
    time: '2026-11-04T09:12:44.019Z',
    datacontenttype: 'application/json',
    data: {
      message: {
        attributes: { 'logging.googleapis.com/timestamp': '2026-11-04T09:12:41.337214Z' },
        data,
        messageId: '17733104419026551',
        publishTime: '2026-11-04T09:12:44.019Z',
        ...extra,
      },
      subscription: 'projects/orbit-prod/subscriptions/eventarc-europe-west4-wi-sentinel-audit-sub-417',
    },
  };
}

/** A Pub/Sub push request body: the message ids appear in both spellings. */
function pushBody(data: string) {
  return {
    message: {
      attributes: { 'logging.googleapis.com/timestamp': '2026-11-04T09:12:41.337214Z' },
      data,
      messageId: '17733104419026552',
      message_id: '17733104419026552',
      publishTime: '2026-11-04T09:12:44.120Z',
      publish_time: '2026-11-04T09:12:44.120Z',
    },
    subscription: 'projects/orbit-prod/subscriptions/wi-sentinel-audit-push',
  };
}

/** Eventarc's direct audit-log trigger: the LogEntry is the CloudEvent's data. */
function auditCloudEvent(entry: unknown) {
  return {
    specversion: '1.0',
    id: 'projects/orbit-prod/logs/cloudaudit.googleapis.com%2Factivity1m8w3xe2k4bq1762247561337214',
    type: 'google.cloud.audit.log.v1.written',
    source: '//cloudaudit.googleapis.com/projects/orbit-prod/logs/activity',
    subject: 'iam.googleapis.com/projects/-/serviceAccounts/104200000000000000011',
    time: '2026-11-04T09:12:42.104551903Z',
    datacontenttype: 'application/json; charset=utf-8',
    dataschema:
      'https://googleapis.github.io/google-cloudevents/jsonschema/google/events/cloud/audit/v1/LogEntryData.json',
    data: entry,
  };
}

function delivered(result: DecodeResult): Delivery {
  if (!result.ok) assert.fail(`expected a delivery, got: ${result.error}`);
  return result.delivery;
}

function failed(result: DecodeResult): string {
  if (result.ok) assert.fail(`expected an error, got a ${result.delivery.envelope} delivery`);
  return result.error;
}

const ENTRY = raw('gsa-binding-removed');
const BARE = delivered(decode(ENTRY));

describe('decode: envelopes', () => {
  it('takes a bare LogEntry', () => {
    assert.equal(BARE.envelope, 'log-entry');
    assert.equal(BARE.messageId, undefined);
    assert.equal(BARE.publishTime, undefined);
    assert.equal(BARE.entry.insertId, '1m8w3xe2k4bq');
    assert.equal(BARE.entry.protoPayload?.methodName, 'google.iam.admin.v1.SetIAMPolicy');
  });

  it('unwraps the Eventarc Pub/Sub CloudEvent (base64 LogEntry ending in a newline)', () => {
    const delivery = delivered(decode(cloudEvent(published(ENTRY))));
    assert.equal(delivery.envelope, 'cloudevent');
    assert.equal(delivery.messageId, '17733104419026551');
    assert.equal(delivery.publishTime, '2026-11-04T09:12:44.019Z');
    assert.deepEqual(delivery.entry, BARE.entry);
  });

  it('accepts whitespace after the base64 text itself', () => {
    const delivery = delivered(decode(cloudEvent(`${published(ENTRY)}\n`)));
    assert.deepEqual(delivery.entry, BARE.entry);
  });

  it('unwraps a Pub/Sub push body with duplicated message_id / publish_time', () => {
    const delivery = delivered(decode(pushBody(published(ENTRY))));
    assert.equal(delivery.envelope, 'pubsub-push');
    assert.equal(delivery.messageId, '17733104419026552');
    assert.equal(delivery.publishTime, '2026-11-04T09:12:44.120Z');
    assert.deepEqual(delivery.entry, BARE.entry);
  });

  it('prefers messageId when the two spellings disagree', () => {
    const body = pushBody(published(ENTRY));
    body.message.message_id = 'other';
    assert.equal(delivered(decode(body)).messageId, '17733104419026552');
  });

  it('takes a snake_case-only Pub/Sub message', () => {
    const delivery = delivered(
      decode({ message: { data: published(ENTRY), message_id: '42', publish_time: '2026-11-04T09:12:44Z' } }),
    );
    assert.equal(delivery.messageId, '42');
    assert.equal(delivery.publishTime, '2026-11-04T09:12:44Z');
  });

  it('takes the google.cloud.audit.log.v1.written CloudEvent', () => {
    const delivery = delivered(decode(auditCloudEvent(ENTRY)));
    assert.equal(delivery.envelope, 'audit-cloudevent');
    assert.equal(delivery.messageId, undefined);
    assert.deepEqual(delivery.entry, BARE.entry);
  });

  it('makes every string well formed: a lone surrogate escape becomes U+FFFD', () => {
    const text = JSON.stringify({ ...ENTRY, insertId: 'lone\ud800' });
    assert.match(text, /lone\\ud800/);
    const delivery = delivered(decode(JSON.parse(text)));
    assert.equal(delivery.entry.insertId, 'lone\uFFFD');
  });

  it('decodes the same envelopes given as text (an NDJSON line, an HTTP body)', () => {
    for (const value of [
      ENTRY,
      cloudEvent(published(ENTRY)),
      pushBody(published(ENTRY)),
      auditCloudEvent(ENTRY),
    ]) {
      const fromText = delivered(decodeText(JSON.stringify(value)));
      assert.deepEqual(fromText, delivered(decode(value)));
    }
  });

  it('recognises a LogEntry written with snake_case top-level keys', () => {
    const { insertId, logName, protoPayload, ...rest } = ENTRY;
    const delivery = delivered(
      decode({ insert_id: insertId, log_name: logName, proto_payload: protoPayload, ...rest }),
    );
    assert.deepEqual(delivery.entry, BARE.entry);
  });

  it('decodes every project fixture in every envelope to the same entry', () => {
    for (const file of FILES) {
      const entry = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as unknown;
      const bare = delivered(decode(entry)).entry;
      for (const wrapped of [
        cloudEvent(published(entry)),
        pushBody(published(entry)),
        auditCloudEvent(entry),
      ]) {
        assert.deepEqual(delivered(decode(wrapped)).entry, bare, file);
      }
    }
  });

  it('decodes an entry without protoPayload, which classify then ignores', () => {
    const delivery = delivered(decodeText(text('k8s-container-log-line')));
    assert.equal(delivery.entry.protoPayload, undefined);
    const result = classify(delivery.entry);
    assert.equal(result.type, 'ignored');
    assert.match(result.type === 'ignored' ? result.reason : '', /no protoPayload/);
  });
});

/**
 * 100000 nested arrays: JSON.parse takes it, every recursive consumer after it would overflow (built as
 * text here for that reason: JSON.stringify cannot).
 */
const DEEP = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
const DEEP_OBJECT = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
const entryText = (extra: string) =>
  `{"insertId":"x1","logName":"projects/orbit-prod/logs/cloudaudit.googleapis.com%2Factivity",${extra}}`;
const withPayload = (patch: Record<string, unknown>) =>
  JSON.stringify({ ...ENTRY, protoPayload: { ...(ENTRY.protoPayload as object), ...patch } });

const ASSET_FEED = {
  asset: {
    ancestors: ['projects/731604512345', 'organizations/880011223344'],
    assetType: 'container.googleapis.com/NodePool',
    name: '//container.googleapis.com/projects/orbit-prod/locations/europe-west4/clusters/core-1/nodePools/highmem',
    resource: {},
    updateTime: '2026-11-10T09:24:50.877031Z',
  },
  priorAssetState: 'PRESENT',
  window: { startTime: '2026-11-10T09:24:50.877031Z' },
};

/** Each hostile delivery: as text (decodeText) or as a parsed value (decode), and the error it must give. */
const HOSTILE: { name: string; text?: string; value?: unknown; error: RegExp }[] = [
  { name: 'not JSON', text: '{"insertId": "x1", ', error: /^not JSON: / },
  { name: 'an empty line', text: '', error: /^not JSON: / },
  { name: 'a JSON array', text: '[{"insertId":"x1"}]', error: /^expected a JSON object, got an array$/ },
  { name: 'a JSON number', text: '42', error: /^expected a JSON object, got a number$/ },
  { name: 'JSON null', text: 'null', error: /^expected a JSON object, got null$/ },
  { name: 'a JSON string', text: '"protoPayload"', error: /^expected a JSON object, got a string$/ },
  {
    name: 'an object that is no delivery',
    value: { hello: 'world' },
    error: /^not a LogEntry, Pub\/Sub push body or CloudEvent: none of protoPayload/,
  },
  {
    name: 'message.data not base64',
    value: pushBody('eyJpbnNlcnRJZCI6IngxIn0=!*&'),
    error: /^Pub\/Sub message data is not base64$/,
  },
  {
    name: 'message.data a number',
    value: { message: { data: 12 } },
    error: /^Pub\/Sub message: message\.data: .*expected string/,
  },
  {
    name: 'message without data',
    value: { message: { messageId: '1' } },
    error: /^Pub\/Sub message has no data$/,
  },
  {
    name: 'base64 of text that is not JSON',
    value: pushBody(base64('test message 3')),
    error: /^Pub\/Sub message data is not a JSON LogEntry: /,
  },
  {
    name: 'base64 of binary, which must not reach the error as control characters',
    value: pushBody('AQIDBA=='),
    error: /^Pub\/Sub message data is not a JSON LogEntry: .*\\u0001\\u0002\\u0003\\u0004/,
  },
  {
    name: 'base64 of a JSON array',
    value: cloudEvent(base64('[{"insertId":"x1"}]')),
    error: /^Pub\/Sub message data: expected a LogEntry object, got an array$/,
  },
  {
    name: 'base64 of a JSON object that is no LogEntry',
    value: cloudEvent(base64('{"kind":"storage#object","bucket":"orbit-prod-exports"}')),
    error: /^Pub\/Sub message data is not a LogEntry: none of protoPayload, logName, insertId$/,
  },
  {
    name: 'protoPayload a string',
    text: entryText('"protoPayload":"google.iam.admin.v1.SetIAMPolicy"'),
    error: /^LogEntry: protoPayload: .*expected object, received string/,
  },
  {
    name: 'methodName a number',
    text: withPayload({ methodName: 42 }),
    error: /^LogEntry: protoPayload\.methodName: .*expected string, received number/,
  },
  {
    name: 'operation.first a string',
    text: JSON.stringify({
      ...raw('nodepool-gce-metadata'),
      operation: { id: 'operation-1', first: 'true' },
    }),
    error: /^LogEntry: operation\.first: .*expected boolean, received string/,
  },
  {
    name: 'resource.labels values numbers',
    text: JSON.stringify({
      ...ENTRY,
      resource: { type: 'service_account', labels: { project_id: 731604512345 } },
    }),
    error: /^LogEntry: resource\.labels\.project_id: .*expected string, received number/,
  },
  {
    name: 'status.code a string',
    text: withPayload({ status: { code: 'PERMISSION_DENIED' } }),
    error: /^LogEntry: protoPayload\.status\.code: /,
  },
  {
    name: 'request an array',
    text: withPayload({ request: [] }),
    error: /^LogEntry: protoPayload\.request: expected an object/,
  },
  {
    name: 'a 5 MB line',
    text: entryText(`"textPayload":"${'x'.repeat(5 * 1024 * 1024)}"`),
    error: /^delivery is 5\.0 MiB, over the 1\.0 MiB limit$/,
    // MAX_DELIVERY_BYTES: a LogEntry is at most 256 KB, so the limit leaves room for any envelope.
  },
  {
    name: '5 MB of base64 in a CloudEvent',
    value: cloudEvent('QUFB'.repeat((5 * 1024 * 1024) / 4)),
    error: /^Pub\/Sub message data is 5\.0 MiB, over the 1\.0 MiB limit$/,
  },
  {
    // Eventarc's audit-log CloudEvent carries the entry parsed, not in base64: measured all the same.
    name: '100,000 binding deltas as an audit-log CloudEvent’s data',
    value: auditCloudEvent({
      ...ENTRY,
      protoPayload: {
        methodName: 'google.iam.admin.v1.SetIAMPolicy',
        serviceData: {
          policyDelta: {
            bindingDeltas: Array.from({ length: 100_000 }, (_, i) => ({
              action: 'REMOVE',
              role: 'roles/iam.workloadIdentityUser',
              member: `serviceAccount:orbit-prod.svc.id.goog[ns/ksa-${i}]`,
            })),
          },
        },
      },
    }),
    error: /^CloudEvent data is more than 1\.0 MiB as JSON: over the limit$/,
  },
  {
    name: '100000 nested arrays in an unknown field',
    text: entryText(`"junk":${DEEP}`),
    error: /^delivery is nested deeper than 100 levels \(at junk\.0\.0\.0\.0\.0\.…\)$/,
  },
  {
    name: '100000 nested arrays inside request',
    text: entryText(
      `"protoPayload":{"methodName":"google.iam.admin.v1.SetIAMPolicy","request":{"policy":${DEEP}}}`,
    ),
    error: /^delivery is nested deeper than 100 levels \(at protoPayload\.request\.policy\.0\.0\.0\.…\)$/,
  },
  {
    name: '100000 nested objects inside request',
    text: entryText(
      `"protoPayload":{"methodName":"google.iam.admin.v1.SetIAMPolicy","request":${DEEP_OBJECT}}`,
    ),
    error: /^delivery is nested deeper than 100 levels \(at protoPayload\.request\.a\.a\.a\.a\.…\)$/,
  },
  {
    name: '100000 nested arrays inside base64 data',
    value: pushBody(base64(entryText(`"junk":${DEEP}`))),
    error: /^Pub\/Sub message data is nested deeper than 100 levels \(at junk\./,
  },
  {
    name: 'an unknown CloudEvent type',
    value: { ...cloudEvent(published(ENTRY)), type: 'google.cloud.storage.object.v1.finalized' },
    error:
      /^CloudEvent type "google\.cloud\.storage\.object\.v1\.finalized" is neither google\.cloud\.pubsub\.topic\.v1\.messagePublished nor google\.cloud\.audit\.log\.v1\.written$/,
  },
  {
    name: 'a CloudEvent without a type',
    value: { specversion: '1.0', data: {} },
    error: /^CloudEvent: type: /,
  },
  {
    name: 'a Pub/Sub CloudEvent whose data is null',
    value: { ...cloudEvent(''), data: null },
    error: /^CloudEvent data: expected an object, got null$/,
  },
  {
    name: 'an audit CloudEvent whose data is a string',
    value: auditCloudEvent('1m8w3xe2k4bq'),
    error: /^CloudEvent data: expected a LogEntry, got a string$/,
  },
  {
    name: 'an audit CloudEvent without data',
    value: { ...auditCloudEvent(undefined), data: undefined },
    error: /^CloudEvent data: expected a LogEntry, got nothing$/,
  },
  {
    name: 'a Cloud Asset Inventory feed message',
    value: ASSET_FEED,
    error: /^a Cloud Asset Inventory feed message, not a LogEntry: route the audit-log sink to this topic$/,
  },
  {
    name: 'a Cloud Asset Inventory feed message published to the topic',
    value: cloudEvent(base64(JSON.stringify(ASSET_FEED))),
    error: /^Pub\/Sub message data is a Cloud Asset Inventory feed message, not a LogEntry/,
  },
];

describe('decode: hostile input returns an error naming the problem, never throws', () => {
  for (const { name, text: line, value, error } of HOSTILE) {
    it(name, () => {
      const result = line === undefined ? decode(value) : decodeText(line);
      assert.match(failed(result), error);
      // The pipeline logs the error: short whatever the input's size, and no control characters.
      assert.ok(failed(result).length < 400, failed(result).slice(0, 100));
      assert.doesNotMatch(failed(result), /\p{Cc}/u);
    });
  }

  it('keeps deep but plausible nesting (a CRD schema, managedFields)', () => {
    let nested: unknown = { type: 'string' };
    for (let i = 0; i < 40; i++) nested = { properties: { field: nested } };
    const delivery = delivered(
      decode({ ...ENTRY, protoPayload: { ...(ENTRY.protoPayload as object), request: nested } }),
    );
    assert.equal(delivery.envelope, 'log-entry');
  });

  it('returns an error for every truncation of a real entry', () => {
    for (const file of FILES) {
      const line = readFileSync(join(DIR, file), 'utf8').trim();
      for (let end = 0; end < line.length - 1; end += 53) {
        assert.match(failed(decodeText(line.slice(0, end))), /^not JSON: /, `${file} cut at ${end}`);
      }
    }
  });

  it('never throws on any value JSON can hold, top-level or as data', () => {
    const values: unknown[] = [undefined, null, 0, -1.5, '', 'x', true, [], [null], {}, { message: null }];
    for (const value of values) {
      for (const input of [
        value,
        { specversion: '1.0', type: 'google.cloud.pubsub.topic.v1.messagePublished', data: value },
        { specversion: '1.0', type: 'google.cloud.audit.log.v1.written', data: value },
        { message: value },
        { message: { data: value } },
        { insertId: 'x1', protoPayload: value },
        { insertId: 'x1', resource: value },
        { insertId: 'x1', operation: value },
      ]) {
        const result = decode(input);
        assert.equal(typeof result.ok, 'boolean');
        if (!result.ok) assert.ok(result.error.length > 0);
      }
    }
  });
});
