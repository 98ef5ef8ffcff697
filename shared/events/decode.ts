import { formatIssues } from '../inventory/snapshot.ts';
import {
  AUDIT_EVENT_TYPE,
  cloudEventSchema,
  type LogEntry,
  logEntrySchema,
  PUBSUB_EVENT_TYPE,
  pushBodySchema,
} from './schemas.ts';

/**
 * A LogEntry arrives in one of three wrappers: the CloudEvent Eventarc delivers for a Pub/Sub
 * trigger (base64 LogEntry in `data.message.data`), a Pub/Sub push body (`message.data`), or bare.
 * Eventarc's direct audit-log CloudEvent (`google.cloud.audit.log.v1.written`, LogEntry as `data`)
 * is accepted as well. Decoding never throws: it returns the entry or an error that names the problem.
 */
export type Envelope = 'cloudevent' | 'pubsub-push' | 'audit-cloudevent' | 'log-entry';

export interface Delivery {
  envelope: Envelope;
  entry: LogEntry;
  /** Pub/Sub message id, when the entry came through Pub/Sub. */
  messageId?: string;
  publishTime?: string;
}

export type DecodeResult = { ok: true; delivery: Delivery } | { ok: false; error: string };

/**
 * Cloud Logging caps a LogEntry at 256 KB; a delivery four times that is not one of ours.
 * https://cloud.google.com/logging/quotas#log-limits
 */
export const MAX_DELIVERY_BYTES = 1024 * 1024;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}\s*$/;

function fail(error: string): DecodeResult {
  return { ok: false, error };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Decodes one delivery given as text (an NDJSON line, an HTTP body). */
export function decodeText(text: string): DecodeResult {
  if (text.length > MAX_DELIVERY_BYTES) {
    return fail(`delivery is ${formatBytes(text.length)}, over the ${formatBytes(MAX_DELIVERY_BYTES)} limit`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail(`not JSON: ${(error as Error).message}`);
  }
  return decode(value);
}

/** Decodes one delivery already parsed from JSON. */
export function decode(value: unknown): DecodeResult {
  if (!isObject(value)) return fail(`expected a JSON object, got ${describe(value)}`);
  if ('specversion' in value) return decodeCloudEvent(value);
  if ('message' in value) return decodePushBody(value, 'pubsub-push');
  if ('protoPayload' in value || 'logName' in value || 'insertId' in value)
    return parseEntry(value, 'log-entry');
  if ('asset' in value && 'window' in value) {
    return fail(
      'a Cloud Asset Inventory feed message, not a LogEntry: route the audit-log sink to this topic',
    );
  }
  return fail('not a LogEntry, Pub/Sub push body or CloudEvent: none of protoPayload, message, specversion');
}

function decodeCloudEvent(value: Record<string, unknown>): DecodeResult {
  const event = cloudEventSchema.safeParse(value);
  if (!event.success) return fail(`CloudEvent: ${formatIssues(event.error.issues)}`);
  if (event.data.type === AUDIT_EVENT_TYPE) {
    if (!isObject(event.data.data))
      return fail(`CloudEvent data: expected a LogEntry, got ${describe(event.data.data)}`);
    return parseEntry(event.data.data, 'audit-cloudevent');
  }
  if (event.data.type !== PUBSUB_EVENT_TYPE) {
    return fail(`CloudEvent type ${JSON.stringify(event.data.type)} is not ${PUBSUB_EVENT_TYPE}`);
  }
  if (!isObject(event.data.data))
    return fail(`CloudEvent data: expected an object, got ${describe(event.data.data)}`);
  return decodePushBody(event.data.data, 'cloudevent');
}

function decodePushBody(value: Record<string, unknown>, envelope: Envelope): DecodeResult {
  const body = pushBodySchema.safeParse(value);
  if (!body.success) return fail(`Pub/Sub message: ${formatIssues(body.error.issues)}`);
  const { data, messageId, publishTime } = body.data.message;
  if (data === undefined || data === '') return fail('Pub/Sub message has no data');
  if (data.length > (MAX_DELIVERY_BYTES * 4) / 3 + 4) {
    return fail(
      `Pub/Sub message data is ${formatBytes(data.length)}, over the ${formatBytes(MAX_DELIVERY_BYTES)} limit`,
    );
  }
  if (!BASE64.test(data)) return fail('Pub/Sub message data is not base64');
  const text = Buffer.from(data, 'base64').toString('utf8');
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch (error) {
    return fail(`Pub/Sub message data is not a JSON LogEntry: ${(error as Error).message}`);
  }
  if (!isObject(entry))
    return fail(`Pub/Sub message data: expected a LogEntry object, got ${describe(entry)}`);
  const result = parseEntry(entry, envelope);
  if (!result.ok) return result;
  return {
    ok: true,
    delivery: {
      ...result.delivery,
      ...(messageId === undefined ? {} : { messageId }),
      ...(publishTime === undefined ? {} : { publishTime }),
    },
  };
}

function parseEntry(value: Record<string, unknown>, envelope: Envelope): DecodeResult {
  const entry = logEntrySchema.safeParse(value);
  if (!entry.success) return fail(`LogEntry: ${formatIssues(entry.error.issues)}`);
  return { ok: true, delivery: { envelope, entry: entry.data } };
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}
