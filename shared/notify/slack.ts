import { setTimeout as sleep } from 'node:timers/promises';
import type { WebAPICallResult, WebClient } from '@slack/web-api';
import type { Logger } from '../log.ts';
import { NotifyError } from './errors.ts';
import { toSlackMessage, toSlackThreadReply } from './slack-render.ts';
import type { Delivery, SlackSender } from './types.ts';

/**
 * Sends an incident to Slack through `@slack/web-api`: one message per incident, posted once, then
 * edited in place (chat.update), with a thread reply for each change (edits notify nobody).
 *
 * Bounds. WebClient's defaults are a trap for a function: ten retries over about thirty minutes and
 * no timeout, and a 429's Retry-After is slept inside the client however long it is (p-retry's
 * `maxRetryTime` is only looked at after that sleep). So the client makes exactly one request per call
 * (`retryConfig: { retries: 0 }`, `rejectRateLimitedCalls: true`), each cut at `timeoutMs`, and this
 * module retries what a retry can cure, with one decision table (`classifySlackError`) for both the
 * retry here and NotifyError.retryable. Past its first request, a send starts no request that could
 * not end within `deadlineMs` of its start (30 s with the defaults), whatever mix of calls (an edit
 * and a thread reply are two), 5xx, timeouts and Retry-After waits it meets; what does not fit
 * becomes a retryable NotifyError, and Pub/Sub redelivers later.
 */
export interface SlackSenderOptions {
  /** The bot token (xoxb-…). Never logged, never in an error. */
  token: string;
  /** The Web API base, e.g. https://slack.com/api/ (a fake's URL in tests). */
  apiUrl: string;
  /** One HTTP request's limit. */
  timeoutMs?: number;
  /** Retries of one call after a retryable failure (429, 5xx, timeout, network). */
  retries?: number;
  /** The whole send's limit, all calls and waits included; 3 × timeoutMs unless given. */
  deadlineMs?: number;
  /** The first wait after a 5xx, timeout or network error; doubled each time (±25 %), at most 2 s. */
  backoffMs?: number;
  logger?: Logger;
}

/** A failure, classified: whether a retry can cure it, and what to say about it. */
export interface SlackFailure {
  retryable: boolean;
  /** The HTTP status, when Slack answered with one other than 200. */
  status?: number;
  /** Slack's error code (`channel_not_found`), or ours: `http_500`, `timeout`, `network`, `unknown`. */
  code: string;
  /** How long Slack asked us to wait (a 429's Retry-After). */
  retryAfterMs?: number;
}

/**
 * Platform errors (HTTP 200, `ok: false`) that say "try again later"; every other one is about the
 * request, the channel or the token and stays as it is however often it is sent.
 * https://docs.slack.dev/reference/methods/chat.postMessage#errors
 */
const TRANSIENT_PLATFORM_ERRORS = new Set([
  'ratelimited',
  'rate_limited',
  'service_unavailable',
  'internal_error',
  'fatal_error',
  'request_timeout',
]);

/** chat.update's answers for a message that is gone or no longer ours to edit: post a new one. */
const MESSAGE_GONE = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed']);

const MAX_BACKOFF_MS = 2_000;

/**
 * The retry decision for anything `WebClient.apiCall` throws, by its `code` (so this needs no import
 * of the client): platform errors are permanent except the transient ones above; 429 retries after
 * Retry-After; 408, 5xx, timeouts and network errors retry; other HTTP statuses are permanent.
 * Two oddities of WebClient 8 are caught too: a 200 whose body is not JSON (a proxy's or a
 * maintenance page) arrives as a platform error whose `error` is the whole body, and a 429 without a
 * usable Retry-After arrives as a plain Error.
 */
export function classifySlackError(error: unknown): SlackFailure {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    data?: { error?: unknown };
    statusCode?: unknown;
    retryAfter?: unknown;
    original?: { name?: unknown; code?: unknown; cause?: { code?: unknown } };
    name?: unknown;
  };
  switch (e.code) {
    case 'slack_webapi_platform_error': {
      const code = typeof e.data?.error === 'string' ? e.data.error : 'unknown_error';
      if (!/^[a-z0-9_.]{1,100}$/i.test(code)) return { retryable: true, code: 'unreadable_response' };
      return { retryable: TRANSIENT_PLATFORM_ERRORS.has(code), code };
    }
    case 'slack_webapi_rate_limited_error': {
      const seconds = typeof e.retryAfter === 'number' && e.retryAfter >= 0 ? e.retryAfter : 1;
      return { retryable: true, status: 429, code: 'ratelimited', retryAfterMs: seconds * 1000 };
    }
    case 'slack_webapi_http_error': {
      const status = typeof e.statusCode === 'number' ? e.statusCode : 0;
      return { retryable: isRetryableStatus(status), status, code: `http_${status}` };
    }
    case 'slack_webapi_request_error': {
      const name = e.original?.name;
      if (name === 'TimeoutError' || name === 'AbortError') return { retryable: true, code: 'timeout' };
      const cause = e.original?.cause?.code ?? e.original?.code;
      return { retryable: true, code: typeof cause === 'string' ? `network:${cause}` : 'network' };
    }
    default:
      if (e instanceof Error && e.message.startsWith('Retry header did not contain a valid timeout')) {
        return { retryable: true, status: 429, code: 'ratelimited' };
      }
      // Not the client's: a bug (bad arguments) or something unforeseen. Retrying the same thing won't cure it.
      return { retryable: false, code: 'unknown' };
  }
}

/** 429 and 5xx are Slack saying "later"; 408 is a timeout; any other status is about the request. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

type CallResult =
  | { ok: true; result: WebAPICallResult }
  | { ok: false; failure: SlackFailure; error: unknown; attempts: number };
type Method = 'chat.postMessage' | 'chat.update';
/** One send's time: no request starts after the first unless it can end by `deadline`. */
type Budget = { deadline: number; first: boolean };

export function createSlackSender({
  token,
  apiUrl,
  timeoutMs = 10_000,
  retries = 2,
  deadlineMs = 3 * timeoutMs,
  backoffMs = 200,
  logger,
}: SlackSenderOptions): SlackSender {
  const redact = (text: string) => (token ? text.split(token).join('[redacted]') : text);
  let client: Promise<WebClient> | undefined;

  // Loaded on the first send, so a cold start for an event that alerts nobody loads no Slack code.
  function clientOf(): Promise<WebClient> {
    client ??= import('@slack/web-api').then(
      ({ WebClient, LogLevel }) =>
        new WebClient(token, {
          slackApiUrl: apiUrl,
          timeout: timeoutMs,
          retryConfig: { retries: 0 },
          rejectRateLimitedCalls: true,
          logger: quietLogger(LogLevel.WARN, logger, redact),
        }),
      (error: unknown) => {
        client = undefined;
        throw new NotifyError('slack', `could not load @slack/web-api: ${redact(String(error))}`, {
          retryable: false,
        });
      },
    );
    return client;
  }

  async function call(method: Method, args: Record<string, unknown>, budget: Budget): Promise<CallResult> {
    const web = await clientOf();
    for (let attempt = 1; ; attempt++) {
      if (!budget.first && Date.now() + timeoutMs > budget.deadline) {
        return {
          ok: false,
          failure: { retryable: true, code: 'deadline' },
          error: undefined,
          attempts: attempt - 1,
        };
      }
      budget.first = false;
      try {
        return { ok: true, result: await web.apiCall(method, args) };
      } catch (error) {
        const failure = classifySlackError(error);
        const backoff = Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2);
        const wait = failure.retryAfterMs ?? backoff;
        // A retry must be able to finish (the wait, then one request cut at timeoutMs) by the deadline.
        if (!failure.retryable || attempt > retries || Date.now() + wait + timeoutMs > budget.deadline) {
          return { ok: false, failure, error, attempts: attempt };
        }
        logger?.log(
          'WARNING',
          `slack: ${method} failed (${describe(failure)}), retrying in ${Math.round(wait)} ms`,
          {
            method,
            attempt,
            code: failure.code,
            ...(failure.status ? { status: failure.status } : {}),
          },
        );
        await sleep(wait);
      }
    }
  }

  function fail(method: Method, outcome: Extract<CallResult, { ok: false }>): NotifyError {
    const { failure, attempts } = outcome;
    const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
    const wait =
      failure.retryAfterMs !== undefined
        ? ` (Retry-After ${failure.retryAfterMs / 1000} s does not fit the send's deadline or retries)`
        : '';
    const message =
      failure.code === 'deadline'
        ? `${method} not attempted: the send's ${deadlineMs} ms are spent`
        : `${method} failed${tries}: ${describe(failure)}${wait}`;
    return new NotifyError('slack', redact(message), {
      retryable: failure.retryable,
      ...(failure.status !== undefined ? { status: failure.status } : {}),
      ...(outcome.error !== undefined ? { cause: outcome.error } : {}),
    });
  }

  function tsOf(method: Method, result: WebAPICallResult): { channel: string | undefined; ts: string } {
    const { channel, ts } = result as { channel?: unknown; ts?: unknown };
    if (typeof ts !== 'string' || ts === '')
      throw new NotifyError('slack', `${method} answered without a ts`, { retryable: false });
    return { channel: typeof channel === 'string' ? channel : undefined, ts };
  }

  async function post(channel: string, message: { text: string; blocks: unknown[] }, budget: Budget) {
    const outcome = await call(
      'chat.postMessage',
      { channel, text: message.text, blocks: message.blocks, unfurl_links: false, unfurl_media: false },
      budget,
    );
    if (!outcome.ok) throw fail('chat.postMessage', outcome);
    const { channel: id, ts } = tsOf('chat.postMessage', outcome.result);
    // Slack answers with the channel's ID; chat.update takes only IDs, so the ID is what is kept.
    return { channel: id ?? channel, ts };
  }

  return {
    async send(channel: string, delivery: Delivery) {
      const message = toSlackMessage(delivery.incident);
      await clientOf();
      const budget: Budget = { deadline: Date.now() + deadlineMs, first: true };
      const standing = delivery.slack;
      if (!standing) return post(channel, message, budget);

      const updated = await call(
        'chat.update',
        { channel: standing.channel, ts: standing.ts, text: message.text, blocks: message.blocks },
        budget,
      );
      if (!updated.ok) {
        if (!MESSAGE_GONE.has(updated.failure.code)) throw fail('chat.update', updated);
        // Deleted, or no longer editable: the incident gets a new message, which notifies by itself.
        logger?.log(
          'WARNING',
          `slack: the incident's message cannot be edited (${updated.failure.code}); posting a new one`,
          {
            incident: delivery.incident.id,
            code: updated.failure.code,
          },
        );
        return post(channel, message, budget);
      }
      if (delivery.transition === 'updated' || delivery.transition === 'resolved') {
        const reply = toSlackThreadReply(delivery.incident, delivery.transition);
        const replied = await call(
          'chat.postMessage',
          {
            channel: standing.channel,
            thread_ts: standing.ts,
            text: reply.text,
            unfurl_links: false,
            unfurl_media: false,
          },
          budget,
        );
        if (!replied.ok) throw fail('chat.postMessage', replied);
      }
      return { channel: standing.channel, ts: standing.ts };
    },
  };
}

function describe(failure: SlackFailure): string {
  if (failure.code === 'timeout') return 'timed out';
  if (failure.code === 'ratelimited' && failure.status === 429) return 'HTTP 429 rate limited';
  if (failure.status !== undefined) return `HTTP ${failure.status}`;
  return failure.code;
}

/**
 * WebClient's logger: debug and info are dropped (they carry request bodies), warnings and errors go
 * to ours with the token cut out. The client never prints to the console itself.
 */
function quietLogger<Level extends string>(
  level: Level,
  logger: Logger | undefined,
  redact: (text: string) => string,
) {
  const forward =
    (severity: 'WARNING' | 'ERROR') =>
    (...parts: unknown[]) =>
      logger?.log(
        severity,
        redact(`slack web-api: ${parts.map((p) => (typeof p === 'string' ? p : String(p))).join(' ')}`),
      );
  return {
    debug() {},
    info() {},
    warn: forward('WARNING'),
    error: forward('ERROR'),
    setLevel() {},
    getLevel: () => level,
    setName() {},
  };
}
