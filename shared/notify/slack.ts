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
 *
 * Lost answers. A post whose answer never comes (a timeout, a connection dropped after the request
 * went out) may have been made all the same, and posting again would show the incident twice, with
 * later edits going to one copy only. So every top-level post carries message metadata naming the
 * incident (`wi_sentinel_incident`), and before a post is sent again after such a failure (here, or
 * in the delivery Pub/Sub brings back, told by NotifyError.unconfirmed) the channel's recent history
 * is searched for it (`conversations.history` with `include_all_metadata`); one found is adopted.
 * That needs the `channels:history` / `groups:history` scopes and the bot in the channel, and
 * `channels:read` / `groups:read` to find a channel given by name; without them the post is sent
 * again, as before, and the log says why.
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

/**
 * The metadata event type of every top-level post (letters, digits and underscores):
 * https://docs.slack.dev/messaging/message-metadata
 */
export const INCIDENT_METADATA_TYPE = 'wi_sentinel_incident';

/** How far before a lost post the history is searched: clocks and Slack's own timestamps differ. */
const HISTORY_MARGIN_MS = 120_000;
/** Slack channel IDs (public C…, private G…, direct D…); anything else is a name. */
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
/** Network failures that mean the request never reached Slack: nothing can have been posted. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A failure after which Slack may hold the post all the same: a timeout, a connection lost mid-way. */
export function isUnconfirmed(failure: SlackFailure): boolean {
  if (failure.code === 'timeout') return true;
  if (failure.code === 'network') return true;
  return failure.code.startsWith('network:') && !NEVER_SENT.has(failure.code.slice('network:'.length));
}

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
type Method = 'chat.postMessage' | 'chat.update' | 'conversations.history' | 'conversations.list';
type Standing = { channel: string; ts: string };
/** Run before a retry: a result stands for the call (the lost post found), nothing lets it retry. */
type BeforeRetry = (failure: SlackFailure) => Promise<Standing | undefined>;
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
  /** Channel name → ID, from posts' answers and conversations.list: history takes IDs only. */
  const channelIds = new Map<string, string>();

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

  async function call(
    method: Method,
    args: Record<string, unknown>,
    budget: Budget,
    beforeRetry?: BeforeRetry,
  ): Promise<CallResult> {
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
        const found = await beforeRetry?.(failure);
        if (found) return { ok: true, result: { ok: true, ...found } };
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

  function fail(
    method: Method,
    outcome: Extract<CallResult, { ok: false }>,
    unconfirmed = false,
  ): NotifyError {
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
      unconfirmed,
      ...(failure.status !== undefined ? { status: failure.status } : {}),
      ...(outcome.error !== undefined ? { cause: outcome.error } : {}),
    });
  }

  /** Says why a lost post cannot be looked for, and that it is posted again. */
  function cannotLook(incident: string, code: string) {
    logger?.log(
      'WARNING',
      `slack: cannot look for the incident's post whose answer was lost (${code}); posting it again, ` +
        'so the channel may show it twice: give the app channels:history, groups:history, channels:read ' +
        'and groups:read, and invite the bot to the channel',
      { incident, code },
    );
  }

  /** The channel's ID: as given, from an earlier answer, or looked up by name (conversations.list). */
  async function channelIdOf(channel: string, budget: Budget, incident: string) {
    if (CHANNEL_ID.test(channel)) return channel;
    const name = channel.replace(/^#/, '');
    let cursor: string | undefined;
    for (let page = 0; page < 10 && !channelIds.has(name); page++) {
      const listed = await call(
        'conversations.list',
        {
          types: 'public_channel,private_channel',
          exclude_archived: true,
          limit: 1000,
          ...(cursor ? { cursor } : {}),
        },
        budget,
      );
      if (!listed.ok) {
        if (listed.failure.retryable) throw fail('conversations.list', listed, true);
        cannotLook(incident, listed.failure.code);
        return undefined;
      }
      const { channels, response_metadata } = listed.result as {
        channels?: { id?: unknown; name?: unknown }[];
        response_metadata?: { next_cursor?: unknown };
      };
      for (const c of channels ?? [])
        if (typeof c.id === 'string' && typeof c.name === 'string') channelIds.set(c.name, c.id);
      cursor = typeof response_metadata?.next_cursor === 'string' ? response_metadata.next_cursor : undefined;
      if (!cursor) break;
    }
    const id = channelIds.get(name);
    if (id === undefined) cannotLook(incident, 'channel_not_listed');
    return id;
  }

  /**
   * The incident's top-level post made since `sinceMs`, found by its metadata in the channel's
   * recent history; undefined when it is not there, or cannot be looked for (said in the log). A
   * failure a retry can cure is thrown: posting blind could show the incident twice.
   */
  async function findPosted(
    channel: string,
    incident: string,
    sinceMs: number,
    budget: Budget,
  ): Promise<Standing | undefined> {
    const id = await channelIdOf(channel, budget, incident);
    if (id === undefined) return undefined;
    const history = await call(
      'conversations.history',
      {
        channel: id,
        oldest: ((sinceMs - HISTORY_MARGIN_MS) / 1000).toFixed(6),
        include_all_metadata: true,
        limit: 100,
      },
      budget,
    );
    if (!history.ok) {
      if (history.failure.retryable) throw fail('conversations.history', history, true);
      cannotLook(incident, history.failure.code);
      return undefined;
    }
    const messages = ((history.result as { messages?: unknown }).messages ?? []) as {
      ts?: unknown;
      thread_ts?: unknown;
      metadata?: { event_type?: unknown; event_payload?: { incident_id?: unknown } };
    }[];
    const found = messages.find(
      (m) =>
        typeof m.ts === 'string' &&
        (m.thread_ts === undefined || m.thread_ts === m.ts) &&
        m.metadata?.event_type === INCIDENT_METADATA_TYPE &&
        m.metadata.event_payload?.incident_id === incident,
    );
    if (found === undefined) return undefined;
    logger?.log('NOTICE', 'slack: the post whose answer was lost stands; adopted, not posted again', {
      incident,
      channel: id,
    });
    return { channel: id, ts: found.ts as string };
  }

  function tsOf(method: Method, result: WebAPICallResult): { channel: string | undefined; ts: string } {
    const { channel, ts } = result as { channel?: unknown; ts?: unknown };
    if (typeof ts !== 'string' || ts === '')
      throw new NotifyError('slack', `${method} answered without a ts`, { retryable: false });
    return { channel: typeof channel === 'string' ? channel : undefined, ts };
  }

  async function post(
    channel: string,
    incident: string,
    message: { text: string; blocks: unknown[] },
    budget: Budget,
  ) {
    const sentAt = Date.now();
    // Whether an attempt may have posted that no look through the history has ruled out since.
    let unsure = false;
    const outcome = await call(
      'chat.postMessage',
      {
        channel,
        text: message.text,
        blocks: message.blocks,
        unfurl_links: false,
        unfurl_media: false,
        metadata: { event_type: INCIDENT_METADATA_TYPE, event_payload: { incident_id: incident } },
      },
      budget,
      // Before posting again after a failure that may have posted, look for the post.
      async (failure) => {
        if (!isUnconfirmed(failure)) return undefined;
        unsure = true;
        const found = await findPosted(channel, incident, sentAt, budget).catch((error: unknown) => {
          const why = error instanceof Error ? error.message.replace(/^slack: /, '') : String(error);
          throw new NotifyError(
            'slack',
            `chat.postMessage ${describe(failure)}, and the post it may have made could not be looked for: ${why}`,
            {
              retryable: true,
              unconfirmed: true,
              cause: error,
            },
          );
        });
        unsure = false;
        return found;
      },
    );
    if (!outcome.ok) throw fail('chat.postMessage', outcome, unsure || isUnconfirmed(outcome.failure));
    const { channel: id, ts } = tsOf('chat.postMessage', outcome.result);
    // Slack answers with the channel's ID; chat.update takes only IDs, so the ID is what is kept.
    if (id !== undefined && !CHANNEL_ID.test(channel)) channelIds.set(channel.replace(/^#/, ''), id);
    return { channel: id ?? channel, ts };
  }

  return {
    async reply(standing, message) {
      await clientOf();
      const budget: Budget = { deadline: Date.now() + deadlineMs, first: true };
      const replied = await call(
        'chat.postMessage',
        {
          channel: standing.channel,
          thread_ts: standing.ts,
          text: message.text,
          ...(message.blocks ? { blocks: message.blocks } : {}),
          unfurl_links: false,
          unfurl_media: false,
        },
        budget,
      );
      if (!replied.ok) throw fail('chat.postMessage', replied);
    },
    async send(channel: string, delivery: Delivery) {
      const message = toSlackMessage(delivery.incident);
      const incident = delivery.incident.id;
      await clientOf();
      const budget: Budget = { deadline: Date.now() + deadlineMs, first: true };
      let standing = delivery.slack;
      // An earlier delivery's post lost its answer: it may stand, to be edited rather than repeated.
      if (!standing && delivery.unconfirmedPostSince !== undefined) {
        standing = await findPosted(channel, incident, Date.parse(delivery.unconfirmedPostSince), budget);
      }
      if (!standing) return post(channel, incident, message, budget);

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
        return post(channel, incident, message, budget);
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
