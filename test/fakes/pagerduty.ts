/**
 * A fake PagerDuty Events API v2 on 127.0.0.1 (a free port), for unit, function and e2e tests.
 *
 *   const pd = await startFakePagerDuty();
 *   pd.script({ status: 429, retryAfter: 1 }, { status: 500 }, 'hang');  // the next three requests
 *   // … point PAGERDUTY_EVENTS_URL (or createPagerDutySender({ url })) at pd.url …
 *   pd.events            // every request, in order: parsed body, headers, what the fake answered
 *   await pd.stop();     // also ends hanging requests
 *   validate(body)       // the same checks without HTTP: the list of errors PagerDuty would answer
 *
 * Unscripted requests are answered as PagerDuty does: POST /v2/enqueue is validated (routing_key of
 * 32 characters, event_action, dedup_key, the payload's required fields for a trigger) and answered
 * 400 `{ status: 'invalid event', message: 'Event object is invalid', errors: [...] }` or
 * 202 `{ status: 'success', message: 'Event processed', dedup_key }`.
 * Shapes: https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ and the events-v2
 * OpenAPI document (PagerDuty/api-schema reference/events-v2/openapiv3.json). PagerDuty documents the
 * 202 and 400 bodies; the 429 and 5xx bodies here are of the documented error shape, their texts ours.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake does with one request: validate as PagerDuty would, never answer, or answer so. */
export type FakePagerDutyStep =
  | 'accept'
  | 'hang'
  | { status: number; retryAfter?: number | string; body?: unknown };

export interface FakePagerDutyRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as sent. */
  raw: string;
  /** The parsed JSON body; undefined when it is not JSON. */
  body: unknown;
  /** The status the fake answered, or 'hang'. */
  answered: number | 'hang';
}

export interface FakePagerDuty {
  /** The full enqueue URL: http://127.0.0.1:PORT/v2/enqueue */
  url: string;
  /** Every request received, in order (live array). */
  events: FakePagerDutyRequest[];
  /** Queues steps for the next requests, one per request; then back to 'accept'. */
  script(...steps: FakePagerDutyStep[]): void;
  stop(): Promise<void>;
}

const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];
/** "Events API payloads are limited to 512 KB" (events-api-v2 overview). */
const MAX_BYTES = 512_000;

export async function startFakePagerDuty(): Promise<FakePagerDuty> {
  const events: FakePagerDutyRequest[] = [];
  const queue: FakePagerDutyStep[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const request: FakePagerDutyRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        raw,
        body,
        answered: 'hang',
      };
      events.push(request);
      const step = queue.shift() ?? 'accept';
      if (step === 'hang') return;
      if (step === 'accept') {
        request.answered = answer(res, req.method, req.url, raw, body);
        return;
      }
      request.answered = step.status;
      const headers: Record<string, string> = {};
      if (step.retryAfter !== undefined) headers['retry-after'] = String(step.retryAfter);
      reply(res, step.status, step.body ?? cannedBody(step.status), headers);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v2/enqueue`,
    events,
    script(...steps) {
      queue.push(...steps);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

function answer(
  res: ServerResponse,
  method: string | undefined,
  path: string | undefined,
  raw: string,
  body: unknown,
) {
  if (method !== 'POST' || path?.split('?')[0] !== '/v2/enqueue') {
    return reply(res, 404, { status: 'not found', message: 'Not found' });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return reply(res, 400, {
      status: 'Unrecognized object',
      message: 'Event object format is unrecognized',
      errors: ['JSON parse error'],
    });
  }
  const errors = validate(body as Record<string, unknown>, Buffer.byteLength(raw));
  if (errors.length > 0) {
    return reply(res, 400, { status: 'invalid event', message: 'Event object is invalid', errors });
  }
  const dedup = (body as { dedup_key?: unknown }).dedup_key;
  return reply(res, 202, {
    status: 'success',
    message: 'Event processed',
    dedup_key: typeof dedup === 'string' ? dedup : randomUUID(),
  });
}

/** The checks PagerDuty documents for an alert event; the error texts after PagerDuty's where known. */
export function validate(event: Record<string, unknown>, bytes = 0): string[] {
  const errors: string[] = [];
  const { routing_key, event_action, dedup_key, payload } = event;
  if (bytes > MAX_BYTES) errors.push(`Event object is larger than ${MAX_BYTES} bytes`);
  if (typeof routing_key !== 'string' || routing_key.length !== 32) {
    // The one error text PagerDuty quotes (400 example, v2.developer.pagerduty.com/docs/send-an-event-events-api-v2).
    errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  }
  if (typeof event_action !== 'string' || !ACTIONS.includes(event_action)) {
    errors.push("'event_action' is invalid (must be one of trigger, acknowledge, resolve)");
  }
  if (dedup_key !== undefined && (typeof dedup_key !== 'string' || dedup_key.length > 255)) {
    errors.push("'dedup_key' must be a string of at most 255 characters");
  }
  if ((event_action === 'acknowledge' || event_action === 'resolve') && typeof dedup_key !== 'string') {
    errors.push(`'dedup_key' is required for ${event_action}`);
  }
  if (event_action !== 'trigger') return errors;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    errors.push("'payload' is missing or not an object");
    return errors;
  }
  const { summary, source, severity, timestamp, custom_details } = payload as Record<string, unknown>;
  if (typeof summary !== 'string' || summary.trim() === '')
    errors.push("'payload.summary' is missing or blank");
  else if (summary.length > 1024) errors.push("'payload.summary' is longer than 1024 characters");
  if (typeof source !== 'string' || source.trim() === '') errors.push("'payload.source' is missing or blank");
  if (typeof severity !== 'string' || !SEVERITIES.includes(severity)) {
    errors.push("'payload.severity' is invalid (must be one of critical, error, warning, info)");
  }
  if (timestamp !== undefined && (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp)))) {
    errors.push("'payload.timestamp' is not an ISO 8601 timestamp");
  }
  if (custom_details !== undefined && (typeof custom_details !== 'object' || custom_details === null)) {
    errors.push("'payload.custom_details' must be an object");
  }
  for (const [field, required] of [
    ['links', 'href'],
    ['images', 'src'],
  ] as const) {
    const list = event[field];
    if (list === undefined) continue;
    const ok =
      Array.isArray(list) &&
      list.every((item) => typeof item === 'object' && item !== null && typeof item[required] === 'string');
    if (!ok) errors.push(`'${field}' must be a list of objects with '${required}'`);
  }
  return errors;
}

function cannedBody(status: number): unknown {
  if (status === 400) {
    return { status: 'invalid event', message: 'Event object is invalid', errors: ['scripted 400'] };
  }
  if (status === 429) return { status: 'throttle event', message: 'Requests are arriving too quickly' };
  if (status >= 500) return { status: 'Internal Server Error', message: `scripted ${status}` };
  if (status === 202) return { status: 'success', message: 'Event processed' };
  return { status: 'error', message: `scripted ${status}` };
}

function reply(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): number {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
  return status;
}
