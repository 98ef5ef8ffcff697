import { toWellFormed } from '../domain/well-formed.ts';
import { formatIssues } from '../inventory/snapshot.ts';
import { isMonitoringNotification } from './monitoring.ts';
import {
  AUDIT_EVENT_TYPE,
  cloudEventSchema,
  isRecord,
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

/** The most base64 a delivery's Pub/Sub data may hold: MAX_DELIVERY_BYTES encoded (4/3, padded). */
export const MAX_DELIVERY_BASE64 = Math.ceil((MAX_DELIVERY_BYTES * 4) / 3) + 4;

/**
 * Nesting deeper than this is not a LogEntry: Cloud Logging keeps payloads as protobuf Structs, and
 * protobuf's default recursion limit (100 nested messages, at least two per JSON level) keeps real
 * entries far below it. Deeper input would overflow every recursive consumer after decoding
 * (JSON.stringify in logs, stores, output), so it is refused here.
 */
export const MAX_DEPTH = 100;

/**
 * Node's decoder skips characters outside the alphabet instead of failing, so a string with any
 * decodes shorter than its length promises: that is the check (cheaper than a regular expression
 * over a large message).
 */
function decodeBase64(data: string): Buffer | undefined {
  const text = data.trimEnd();
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = Buffer.from(text, 'base64');
  const expected = Math.floor(((text.length - padding) * 3) / 4);
  return bytes.length === expected ? bytes : undefined;
}

/** The top-level keys that mark a LogEntry (camelCase as Logging writes it, snake_case as some exporters do). */
const ENTRY_KEYS = ['protoPayload', 'logName', 'insertId', 'proto_payload', 'log_name', 'insert_id'];

function fail(error: string): Failure {
  return { ok: false, error };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** A parser's message, safe to log: it may quote the input, which may hold control characters. */
function detail(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const printable = message.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return printable.length > 200 ? `${printable.slice(0, 200)}…` : printable;
}

function isLogEntry(value: Record<string, unknown>): boolean {
  return ENTRY_KEYS.some((key) => key in value);
}

function isAssetFeedMessage(value: Record<string, unknown>): boolean {
  return 'asset' in value && 'window' in value;
}

const ASSET_FEED =
  'a Cloud Asset Inventory feed message, not a LogEntry: route the audit-log sink to this topic';

/** auditEvents reads these before decoding (shared/symptoms/path.ts); anywhere else, say what they are. */
const MONITORING =
  'a Cloud Monitoring incident notification, not a LogEntry: auditEvents reads it on its symptom path';

/**
 * Whether anything is nested deeper than `limit`. Recursion depth is bounded by `limit`, and it
 * allocates nothing, so it is cheap on the hot path and safe against hostile nesting.
 */
function nestedDeeper(value: object, limit: number): boolean {
  if (limit === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item === 'object' && item !== null && nestedDeeper(item, limit - 1)) return true;
    }
    return false;
  }
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null && nestedDeeper(item, limit - 1)) return true;
  }
  return false;
}

/** The path to the first value nested deeper than `limit` (only walked once nesting is known to be too deep). */
function pathTooDeep(value: object, limit: number): string {
  const keys: string[] = [];
  let at: unknown = value;
  for (let depth = 0; depth < limit && typeof at === 'object' && at !== null; depth += 1) {
    const entries = Object.entries(at);
    const next = entries.find(
      ([, item]) => typeof item === 'object' && item !== null && nestedDeeper(item, limit - depth - 1),
    );
    if (next === undefined) break;
    keys.push(next[0]);
    at = next[1];
  }
  const shown = keys.slice(0, 6).join('.') || '(root)';
  return keys.length > 6 ? `${shown}.…` : shown;
}

/**
 * At least how many bytes `value` takes as JSON, counted until `limit` is passed (then more than
 * `limit`): strings and keys by their length, other values by a few bytes. What arrives already
 * parsed (an Eventarc audit-log CloudEvent's data) is measured so, without serialising it again.
 */
function jsonSizeOver(value: unknown, limit: number): number {
  let size = 0;
  const walk = (item: unknown): void => {
    if (size > limit) return;
    if (typeof item === 'string') size += item.length + 2;
    else if (Array.isArray(item)) {
      size += 2;
      for (const element of item) walk(element);
    } else if (typeof item === 'object' && item !== null) {
      size += 2;
      for (const key in item) {
        size += key.length + 4;
        walk((item as Record<string, unknown>)[key]);
      }
    } else size += 5;
  };
  walk(value);
  return size;
}

function depthError(value: object, what: string): string | undefined {
  if (!nestedDeeper(value, MAX_DEPTH)) return undefined;
  return `${what} is nested deeper than ${MAX_DEPTH} levels (at ${pathTooDeep(value, MAX_DEPTH)})`;
}

/**
 * A delivery unwrapped down to its LogEntry's JSON, not yet checked against the LogEntry schema: what
 * the pipeline looks at cheaply before paying for the parse (most entries are irrelevant).
 */
export interface Unwrapped {
  ok: true;
  envelope: Envelope;
  entry: Record<string, unknown>;
  messageId?: string;
  publishTime?: string;
}

type Failure = { ok: false; error: string };

/** Decodes one delivery given as text (an NDJSON line, an HTTP body). */
export function decodeText(text: string): DecodeResult {
  return parseUnwrapped(unwrapText(text));
}

/** Decodes one delivery already parsed from JSON. */
export function decode(value: unknown): DecodeResult {
  return parseUnwrapped(unwrap(value));
}

/** decodeText's first half: the envelope opened, the entry's JSON found, depth and size checked. */
export function unwrapText(text: string): Unwrapped | Failure {
  if (text.length > MAX_DELIVERY_BYTES) {
    return fail(`delivery is ${formatBytes(text.length)}, over the ${formatBytes(MAX_DELIVERY_BYTES)} limit`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail(`not JSON: ${detail(error)}`);
  }
  return unwrap(value);
}

/** decode's first half. */
export function unwrap(value: unknown): Unwrapped | Failure {
  if (!isRecord(value)) return fail(`expected a JSON object, got ${describe(value)}`);
  const deep = depthError(value, 'delivery');
  if (deep !== undefined) return fail(deep);
  if ('specversion' in value) return unwrapCloudEvent(value);
  if ('message' in value) return unwrapPushBody(value, 'pubsub-push');
  if (isLogEntry(value)) return { ok: true, envelope: 'log-entry', entry: value };
  if (isAssetFeedMessage(value)) return fail(ASSET_FEED);
  if (isMonitoringNotification(value)) return fail(MONITORING);
  return fail(
    'not a LogEntry, Pub/Sub push body or CloudEvent: none of protoPayload, logName, insertId, message, specversion',
  );
}

/** The second half: the entry checked against the LogEntry schema. */
export function parseUnwrapped(unwrapped: Unwrapped | Failure): DecodeResult {
  if (!unwrapped.ok) return unwrapped;
  // A lone surrogate (a JSON escape) would be refused by Firestore and garble Slack and PagerDuty.
  const entry = logEntrySchema.safeParse(toWellFormed(unwrapped.entry));
  if (!entry.success) return fail(`LogEntry: ${formatIssues(entry.error.issues)}`);
  return { ok: true, delivery: deliveryOf(unwrapped, entry.data) };
}

/**
 * The delivery of an entry the pipeline ignores before any schema parse (an unwatched method): its
 * fields as they came. Only the ones read of an ignored delivery (`insertId`, `logName`) are
 * relied on, and the quick look checked them to be strings.
 */
export function unparsedDelivery(unwrapped: Unwrapped): Delivery {
  const { entry } = unwrapped;
  // The two read made well formed too (a lone surrogate becomes U+FFFD), as parseUnwrapped does all.
  const named = toWellFormed({ insertId: entry.insertId, logName: entry.logName });
  const clean =
    named.insertId === entry.insertId && named.logName === entry.logName ? entry : { ...entry, ...named };
  return deliveryOf(unwrapped, clean as LogEntry);
}

function deliveryOf(unwrapped: Unwrapped, entry: LogEntry): Delivery {
  const { envelope, messageId, publishTime } = unwrapped;
  return {
    envelope,
    entry,
    ...(messageId === undefined ? {} : { messageId }),
    ...(publishTime === undefined ? {} : { publishTime }),
  };
}

function unwrapCloudEvent(value: Record<string, unknown>): Unwrapped | Failure {
  const event = cloudEventSchema.safeParse(value);
  if (!event.success) return fail(`CloudEvent: ${formatIssues(event.error.issues)}`);
  if (event.data.type === AUDIT_EVENT_TYPE) {
    const data = event.data.data;
    if (!isRecord(data)) return fail(`CloudEvent data: expected a LogEntry, got ${describe(data)}`);
    // The LogEntry comes parsed, not base64 in a message: its size is measured here instead.
    const size = jsonSizeOver(data, MAX_DELIVERY_BYTES);
    if (size > MAX_DELIVERY_BYTES) {
      return fail(`CloudEvent data is more than ${formatBytes(MAX_DELIVERY_BYTES)} as JSON: over the limit`);
    }
    if (!isLogEntry(data)) return fail(notEntry(data, 'CloudEvent data'));
    return { ok: true, envelope: 'audit-cloudevent', entry: data };
  }
  if (event.data.type !== PUBSUB_EVENT_TYPE) {
    return fail(
      `CloudEvent type ${JSON.stringify(event.data.type)} is neither ${PUBSUB_EVENT_TYPE} nor ${AUDIT_EVENT_TYPE}`,
    );
  }
  if (!isRecord(event.data.data))
    return fail(`CloudEvent data: expected an object, got ${describe(event.data.data)}`);
  return unwrapPushBody(event.data.data, 'cloudevent');
}

function unwrapPushBody(value: Record<string, unknown>, envelope: Envelope): Unwrapped | Failure {
  const body = pushBodySchema.safeParse(value);
  if (!body.success) return fail(`Pub/Sub message: ${formatIssues(body.error.issues)}`);
  const { data, messageId, publishTime } = body.data.message;
  if (data === undefined || data === '') return fail('Pub/Sub message has no data');
  if (data.length > MAX_DELIVERY_BASE64) {
    return fail(
      `Pub/Sub message data is ${formatBytes(data.length)}, over the ${formatBytes(MAX_DELIVERY_BYTES)} limit`,
    );
  }
  const bytes = decodeBase64(data);
  if (bytes === undefined) return fail('Pub/Sub message data is not base64');
  const text = bytes.toString('utf8');
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch (error) {
    return fail(`Pub/Sub message data is not a JSON LogEntry: ${detail(error)}`);
  }
  if (!isRecord(entry))
    return fail(`Pub/Sub message data: expected a LogEntry object, got ${describe(entry)}`);
  const deep = depthError(entry, 'Pub/Sub message data');
  if (deep !== undefined) return fail(deep);
  if (!isLogEntry(entry)) return fail(notEntry(entry, 'Pub/Sub message data'));
  return {
    ok: true,
    envelope,
    entry,
    ...(messageId === undefined ? {} : { messageId }),
    ...(publishTime === undefined ? {} : { publishTime }),
  };
}

function notEntry(value: Record<string, unknown>, what: string): string {
  if (isAssetFeedMessage(value)) return `${what} is ${ASSET_FEED}`;
  if (isMonitoringNotification(value)) return `${what} is ${MONITORING}`;
  return `${what} is not a LogEntry: none of protoPayload, logName, insertId`;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}
