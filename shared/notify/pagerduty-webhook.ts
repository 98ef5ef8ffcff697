import { createHmac, timingSafeEqual } from 'node:crypto';
import { textField } from '../domain/well-formed.ts';

/**
 * PagerDuty's v3 webhooks, read: the signature and the events wi-sentinel keeps its incidents in step
 * with. Pure (node:crypto only).
 *
 * Signature (https://developer.pagerduty.com/docs/webhooks/webhook-signatures, PagerDuty/developer-docs
 * docs/webhooks/04-Signatures.md): `X-PagerDuty-Signature` holds one or more comma-separated
 * signatures, several during a secret rotation; version `v1` is the hex HMAC-SHA256 of the raw body
 * keyed with the subscription's secret. One matching signature is enough; each is compared in
 * constant time.
 *
 * Payload (docs/webhooks/01-Overview.md, "Event Data"): `{ event: { id, event_type, resource_type,
 * occurred_at, agent: { summary, … }, data: { id, type: 'incident', incident_key, html_url,
 * assignees, … } } }`. An incident PagerDuty opened from an Events API v2 alert carries the alert's
 * dedup_key as its `incident_key`: that names the wi-sentinel incident (pagerduty-render.ts dedupKey).
 */

/** A PagerDuty incident payload is a few KB; a cap keeps an unauthenticated body from costing memory. */
export const MAX_WEBHOOK_BYTES = 256 * 1024;

export const WEBHOOK_EVENT_TYPES = [
  'incident.acknowledged',
  'incident.unacknowledged',
  'incident.resolved',
  'incident.reassigned',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export type SignatureCheck =
  | { ok: true }
  | { ok: false; reason: 'missing-signature' | 'malformed-signature' | 'bad-signature' | 'body-too-large' };

const V1 = /^v1=([0-9a-f]{64})$/;

export function verifyPagerDutySignature(
  secret: string,
  header: string | undefined,
  rawBody: Uint8Array,
): SignatureCheck {
  if (rawBody.byteLength > MAX_WEBHOOK_BYTES) return { ok: false, reason: 'body-too-large' };
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing-signature' };
  // Other versions are skipped, as PagerDuty says to; a v1 that is not 64 hex digits is malformed.
  const parts = header.split(',').map((part) => part.trim());
  const v1 = parts.filter((part) => part.startsWith('v1='));
  const given = v1.map((part) => V1.exec(part)?.[1]).filter((hex): hex is string => hex !== undefined);
  if (v1.length === 0 || given.length !== v1.length || given.length > 10)
    return { ok: false, reason: 'malformed-signature' };
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  // Every candidate is compared, so how many there are is all the timing says.
  let matched = false;
  for (const hex of given) {
    const candidate = Buffer.from(hex, 'hex');
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
  }
  return matched ? { ok: true } : { ok: false, reason: 'bad-signature' };
}

/** The header PagerDuty would send with `body`, one signature per secret (tests, the demo). */
export function signPagerDutyWebhook(secrets: readonly string[], body: string | Uint8Array): string {
  return secrets.map((secret) => `v1=${createHmac('sha256', secret).update(body).digest('hex')}`).join(',');
}

export interface WebhookEvent {
  /** The event's id: unique per event, so a redelivery is recognised. */
  id: string;
  type: WebhookEventType;
  occurredAt: string;
  /** Who did it, as PagerDuty names them (a user's name, or the integration). */
  agent: string;
  /** The incident's incident_key: our dedup_key. */
  incidentKey: string;
  /** PagerDuty's own incident, for the log. */
  incident: { id: string; url?: string };
  /** incident.reassigned: the new assignees, by name. */
  assignees: string[];
}

export type ReadWebhook =
  | { outcome: 'event'; event: WebhookEvent }
  /** Signed and well formed, but nothing wi-sentinel acts on (another event type, a ping). */
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'unreadable'; problem: string };

const text = (value: unknown, max = 500): string | undefined => textField(value, max);

export function readWebhook(rawBody: Uint8Array): ReadWebhook {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(rawBody).toString('utf8'));
  } catch {
    return { outcome: 'unreadable', problem: 'not JSON' };
  }
  const event = (value as { event?: unknown } | null)?.event as
    | {
        id?: unknown;
        event_type?: unknown;
        resource_type?: unknown;
        occurred_at?: unknown;
        agent?: { summary?: unknown; name?: unknown } | null;
        data?: {
          id?: unknown;
          type?: unknown;
          incident_key?: unknown;
          html_url?: unknown;
          assignees?: unknown;
        } | null;
      }
    | undefined;
  if (typeof event !== 'object' || event === null) return { outcome: 'unreadable', problem: 'no event' };
  const type = text(event.event_type, 100);
  if (type === undefined) return { outcome: 'unreadable', problem: 'an event without event_type' };
  if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(type))
    return { outcome: 'ignored', reason: `event type ${type}` };
  const id = text(event.id, 200);
  const occurredAt = text(event.occurred_at, 100);
  const data = event.data;
  const incidentId = text(data?.id, 200);
  if (id === undefined || occurredAt === undefined || Number.isNaN(Date.parse(occurredAt)) || !incidentId)
    return { outcome: 'unreadable', problem: `a ${type} event without id, occurred_at or incident` };
  const incidentKey = text(data?.incident_key, 255);
  if (incidentKey === undefined)
    return {
      outcome: 'ignored',
      reason: `${type} of PagerDuty incident ${incidentId}, which has no incident_key`,
    };
  const assignees = (Array.isArray(data?.assignees) ? (data.assignees as unknown[]) : [])
    .map((a) => text((a as { summary?: unknown } | null)?.summary, 200))
    .filter((name): name is string => name !== undefined)
    .slice(0, 10);
  const url = text(data?.html_url, 1000);
  return {
    outcome: 'event',
    event: {
      id,
      type: type as WebhookEventType,
      occurredAt: new Date(Date.parse(occurredAt)).toISOString(),
      agent: text(event.agent?.summary, 200) ?? text(event.agent?.name, 200) ?? 'PagerDuty',
      incidentKey,
      incident: { id: incidentId, ...(url ? { url } : {}) },
      assignees,
    },
  };
}
