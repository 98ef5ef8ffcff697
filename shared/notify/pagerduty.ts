import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../log.ts';
import { NotifyError } from './errors.ts';
import { type PagerDutyAction, toPagerDutyEvent } from './pagerduty-render.ts';
import type { Delivery, PagerDutySender } from './types.ts';

/**
 * Sends an incident to the PagerDuty Events API v2, thinly: render, POST, classify.
 * Response codes and retry advice: https://developer.pagerduty.com/docs/events-api-v2/overview/
 * ("Response Codes & Retry Logic": 202 done; 400 do not retry; 429, 5xx and network errors retry
 * after some time). The routing key is a secret: it travels in the body only, and never into an
 * error message or a log line.
 */

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

export interface PagerDutySenderOptions {
  /** The enqueue URL (config PAGERDUTY_EVENTS_URL). */
  url: string;
  /** One attempt's limit, answer body included. Options left undefined take their defaults. */
  timeoutMs?: number | undefined;
  /** Attempts after the first, for retryable failures only. */
  retries?: number | undefined;
  fetch?: typeof globalThis.fetch | undefined;
  /**
   * The whole send, every attempt and wait included, so a function (60 s by default) still has time to
   * record the outcome. A failure that cannot be retried within it is thrown as retryable: Pub/Sub
   * redelivers later.
   */
  budgetMs?: number | undefined;
  /** First wait before a retry without Retry-After; doubles each time. */
  backoffMs?: number | undefined;
  /** A 429 asking to wait longer than this is not waited for here (thrown retryable at once). */
  maxRetryAfterMs?: number | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Retries are logged as WARNING (no routing key, ever). */
  logger?: Logger | undefined;
}

/** 429 and every 5xx are worth another try (overview doc; Alertmanager's retrier says the same). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `now`. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its day and month; V8's Date.parse would also take '-1' as a year.
  const at = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The transition decides the action: a resolved incident resolves the alert, the rest (re)trigger it
 * (a refresh triggers under the same dedup_key: the open alert's details change, no new incident).
 * A refresh of an acknowledged incident acknowledges it (what the Acknowledge button sends); none is
 * sent for a refresh once the incident is resolved, or was closed in PagerDuty (a trigger would open
 * a new one there: the next sweep or re-check decides whether it pages again).
 */
export function actionFor(delivery: Pick<Delivery, 'transition' | 'incident'>): PagerDutyAction | undefined {
  const { transition, incident } = delivery;
  if (transition === 'resolved') return 'resolve';
  if (transition !== 'refreshed') return 'trigger';
  if (incident.status === 'resolved' || incident.closedInPagerDuty) return undefined;
  return incident.acknowledged ? 'acknowledge' : 'trigger';
}

interface Failure {
  error: NotifyError;
  /** What the server asked for (Retry-After), when it did. */
  retryAfterMs?: number;
}

/** Error bodies are short; anything longer is not PagerDuty talking. */
const BODY_LIMIT = 8192;
/** An attempt with less time left than this is not worth starting. */
const MIN_ATTEMPT_MS = 50;

export function createPagerDutySender({
  url,
  timeoutMs = 10_000,
  retries = 2,
  fetch = globalThis.fetch,
  budgetMs = 20_000,
  backoffMs = 500,
  maxRetryAfterMs = 5_000,
  sleep = (ms) => delay(ms),
  logger,
}: PagerDutySenderOptions): PagerDutySender {
  async function attempt(body: string, routingKey: string, limitMs: number): Promise<Failure | undefined> {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'wi-sentinel' },
        body,
        signal: AbortSignal.timeout(limitMs),
      });
    } catch (cause) {
      return { error: transportError(cause, limitMs, routingKey) };
    }
    let text = '';
    try {
      text = await readCapped(response, BODY_LIMIT);
    } catch {
      // The status is what counts; an unreadable body only loses the error's detail.
    }
    if (response.ok) return undefined;
    const detail = redact(describeBody(text), routingKey);
    const retryable = isRetryableStatus(response.status);
    const message = `HTTP ${response.status}${detail ? `: ${detail}` : ''}`;
    const retryAfterMs = retryable ? parseRetryAfter(response.headers.get('retry-after')) : undefined;
    return {
      error: new NotifyError('pagerduty', message, { status: response.status, retryable }),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }

  return {
    async send(routingKey, delivery) {
      if (routingKey.trim() === '') {
        throw new NotifyError('pagerduty', 'no routing key configured', { retryable: false });
      }
      const action = actionFor(delivery);
      if (action === undefined) return;
      const event = toPagerDutyEvent(delivery.incident, routingKey, action);
      const body = JSON.stringify(event);
      const deadline = performance.now() + budgetMs;
      for (let n = 1; ; n++) {
        const left = deadline - performance.now();
        const failure = await attempt(body, routingKey, Math.max(1, Math.min(timeoutMs, left)));
        if (failure === undefined) return;
        const { error, retryAfterMs } = failure;
        if (!error.retryable) throw error;
        if (n > retries) throw withNote(error, `gave up after ${n} attempt${n === 1 ? '' : 's'}`);
        if (retryAfterMs !== undefined && retryAfterMs > maxRetryAfterMs) {
          throw withNote(
            error,
            `asked to retry after ${Math.ceil(retryAfterMs / 1000)} s: left to redelivery`,
          );
        }
        const waitMs = retryAfterMs ?? backoffMs * 2 ** (n - 1);
        if (deadline - performance.now() < waitMs + MIN_ATTEMPT_MS) {
          throw withNote(error, `no time left for another attempt within ${budgetMs} ms`);
        }
        logger?.log('WARNING', 'pagerduty delivery failed; retrying', {
          integration: 'pagerduty',
          incident: delivery.incident.id,
          dedupKey: event.dedup_key,
          attempt: n,
          status: error.status,
          error: error.message,
          waitMs,
        });
        await sleep(waitMs);
      }
    },
  };
}

function withNote(error: NotifyError, note: string): NotifyError {
  const message = error.message.replace(/^pagerduty: /, '');
  return new NotifyError('pagerduty', `${message} (${note})`, {
    ...(error.status === undefined ? {} : { status: error.status }),
    retryable: error.retryable,
    ...(error.cause === undefined ? {} : { cause: error.cause }),
  });
}

function transportError(cause: unknown, limitMs: number, routingKey: string): NotifyError {
  const name = cause instanceof Error ? cause.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new NotifyError('pagerduty', `no answer within ${Math.round(limitMs)} ms`, { retryable: true });
  }
  // undici says "fetch failed" and puts the reason (ECONNREFUSED, ENOTFOUND…) in `cause`.
  const inner = cause instanceof Error && cause.cause !== undefined ? `: ${messageOf(cause.cause)}` : '';
  return new NotifyError('pagerduty', redact(`network error: ${messageOf(cause)}${inner}`, routingKey), {
    retryable: true,
  });
}

function messageOf(value: unknown): string {
  if (value instanceof Error) return value.message;
  return typeof value === 'string' ? value : 'unknown error';
}

/** PagerDuty's error body `{ status, message, errors: [...] }` as one line, or the first of the text. */
function describeBody(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null) {
      const { message, errors } = body as { message?: unknown; errors?: unknown };
      const parts = [
        typeof message === 'string' ? message : undefined,
        Array.isArray(errors) ? errors.filter((e) => typeof e === 'string').join('; ') : undefined,
      ].filter((part) => part !== undefined && part !== '');
      if (parts.length > 0) return oneLine(parts.join(': '), 1000);
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): show its start.
  }
  return oneLine(text, 200);
}

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Whatever PagerDuty (or a proxy) echoes, the routing key never leaves this module in a message. */
function redact(text: string, secret: string): string {
  return secret === '' ? text : text.replaceAll(secret, '[routing key]');
}

async function readCapped(response: Response, limit: number): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return text.slice(0, limit);
}
