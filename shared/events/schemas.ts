import { z } from 'zod';

/**
 * zod schemas for what real Cloud Audit Log deliveries contain (see test/fixtures/events and the
 * public samples): only the fields wi-sentinel reads are typed, everything else passes through.
 * Proto3 JSON omits default values (false, 0, "", empty lists), so almost every field is optional.
 * Some producers and exporters write snake_case keys (`binding_deltas`, `callerIP`): `camel()`
 * accepts both spellings, the camelCase one winning when an object carries both.
 */

const SNAKE = /_([a-z0-9])/g;

function camelKeys(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (!keys.some((key) => key.includes('_') || key === 'callerIP')) return value;
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const camelKey = key === 'callerIP' ? 'callerIp' : key.replace(SNAKE, (_, c: string) => c.toUpperCase());
    // hasOwn, not `in`: `to_string` must not lose to Object.prototype.toString.
    if (!Object.hasOwn(out, camelKey) || camelKey === key)
      out[camelKey] = (value as Record<string, unknown>)[key];
  }
  return out;
}

/** An object schema that also accepts snake_case keys; unknown keys pass through. */
export function camel<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.preprocess(camelKeys, z.looseObject(shape));
}

const stringMap = z.record(z.string(), z.string());
/**
 * A JSON object kept as it is: request and response bodies can be tens of KB, and a record schema
 * would copy every key of every entry; the classifier validates the few fields it reads.
 */
const jsonObject = z.custom<Record<string, unknown>>(isRecord, { message: 'expected an object' });

/** Whether a parsed JSON value is an object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const bindingDeltaSchema = camel({
  /** Omitted when ACTION_UNSPECIFIED (proto3 default); a number (1 ADD, 2 REMOVE) from exporters that write enums as integers. */
  action: z.union([z.string(), z.number()]).optional(),
  role: z.string().optional(),
  member: z.string().optional(),
  condition: z.unknown().optional(),
});

/** Deltas are kept raw here and parsed one by one, so one odd delta cannot hide the others. */
export const policyDeltaSchema = camel({
  bindingDeltas: z.array(z.unknown()).optional(),
});

/**
 * google.iam.v1.logging.AuditData, where IAM writes `policyDelta` (in `serviceData`, or `metadata`).
 * Parsed with `camel()` because `serviceData` itself is kept raw: `service_data.policy_delta` must count.
 */
export const auditDataSchema = camel({
  policyDelta: policyDeltaSchema.optional(),
});

export const auditLogSchema = camel({
  serviceName: z.string().optional(),
  methodName: z.string().optional(),
  resourceName: z.string().optional(),
  authenticationInfo: camel({
    principalEmail: z.string().optional(),
    principalSubject: z.string().optional(),
    /** Who delegated to the principal, the original first; items are parsed one by one. */
    serviceAccountDelegationInfo: z.array(z.unknown()).optional(),
  }).optional(),
  requestMetadata: camel({
    callerIp: z.string().optional(),
    callerSuppliedUserAgent: z.string().optional(),
  }).optional(),
  /** google.rpc.Status; `{}` (code 0 omitted) is success. */
  status: camel({ code: z.number().optional(), message: z.string().optional() }).optional(),
  request: jsonObject.optional(),
  response: jsonObject.optional(),
  /** Deprecated in favour of `metadata`, still where IAM writes `policyDelta`. */
  serviceData: jsonObject.optional(),
  metadata: jsonObject.optional(),
});

export const logEntrySchema = camel({
  insertId: z.string().optional(),
  logName: z.string().optional(),
  timestamp: z.string().optional(),
  receiveTimestamp: z.string().optional(),
  resource: camel({ type: z.string().optional(), labels: stringMap.optional() }).optional(),
  operation: camel({
    id: z.string().optional(),
    producer: z.string().optional(),
    first: z.boolean().optional(),
    last: z.boolean().optional(),
  }).optional(),
  labels: stringMap.optional(),
  protoPayload: auditLogSchema.optional(),
});

/**
 * One link of google.cloud.audit.ServiceAccountDelegationInfo: a Google principal
 * (`firstPartyPrincipal.principalEmail`), a federated one (`principalSubject`), or a third party.
 */
export const delegationSchema = camel({
  principalSubject: z.string().optional(),
  firstPartyPrincipal: camel({ principalEmail: z.string().optional() }).optional(),
});

export type LogEntry = z.infer<typeof logEntrySchema>;
export type AuditLog = z.infer<typeof auditLogSchema>;
export type BindingDeltaInput = z.infer<typeof bindingDeltaSchema>;

const pubsubMessageSchema = camel({
  data: z.string().optional(),
  attributes: stringMap.optional(),
  messageId: z.string().optional(),
  publishTime: z.string().optional(),
});

/** A Pub/Sub push request body (`message_id`/`publish_time` duplicate their camelCase twins). */
export const pushBodySchema = z.looseObject({
  message: pubsubMessageSchema,
  subscription: z.string().optional(),
});

export const PUBSUB_EVENT_TYPE = 'google.cloud.pubsub.topic.v1.messagePublished';
export const AUDIT_EVENT_TYPE = 'google.cloud.audit.log.v1.written';

/** A structured CloudEvent as Eventarc delivers it (and as functions-framework hands it over). */
export const cloudEventSchema = z.looseObject({
  specversion: z.string(),
  type: z.string(),
  id: z.string().optional(),
  source: z.string().optional(),
  time: z.string().optional(),
  data: z.unknown(),
});
