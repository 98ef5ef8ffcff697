import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.ts';
import { NotifyError } from '../notify/errors.ts';
import type { Block } from '../notify/slack-render.ts';

/**
 * Answers a slash command later, at its `response_url` (after bolt-js's `createRespond(fetch, url)`):
 * Slack takes up to 5 posts within 30 minutes of the command
 * (https://docs.slack.dev/interactivity/handling-user-interaction#message_responses). The URL is a
 * capability (whoever holds it may post to that user), so it is never logged: only its origin.
 */

export interface CommandReply {
  /** `ephemeral`: only the user who asked sees it; `in_channel`: everyone in the channel. */
  response_type: 'ephemeral' | 'in_channel';
  text: string;
  blocks?: Block[];
  /** false: the answer is a new message, the "checking…" acknowledgement stays. */
  replace_original?: boolean;
}

/** Where response_url may point in production: Slack's hooks host, slash-command paths only. */
export const SLACK_RESPONSE_ORIGIN = 'https://hooks.slack.com';

/**
 * Whether `url` is a response_url we may post to: the Slack origin (or one of `extraOrigins`, for
 * tests) and a slash command's `/commands/` path or an interaction's `/actions/` path, so a forged
 * command cannot make us post to an incoming webhook (`/services/…`) or anywhere else.
 */
export function isAllowedResponseUrl(url: string, extraOrigins: readonly string[] = []): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username !== '' || parsed.password !== '') return false;
  const origins = [SLACK_RESPONSE_ORIGIN, ...extraOrigins];
  return origins.includes(parsed.origin) && RESPONSE_PATHS.some((path) => parsed.pathname.startsWith(path));
}

const RESPONSE_PATHS = ['/commands/', '/actions/'];

/** For logs: where the answer goes, without the secret path. */
export function describeResponseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const kind = RESPONSE_PATHS.find((path) => parsed.pathname.startsWith(path)) ?? '/';
    return `${parsed.origin}${kind}…`;
  } catch {
    return '(not a URL)';
  }
}

export type Fetch = typeof fetch;

export interface RespondOptions {
  fetch?: Fetch;
  /** One request's limit. */
  timeoutMs?: number;
  /** Retries after a 5xx, 429, timeout or network error. */
  retries?: number;
  backoffMs?: number;
  logger?: Logger;
}

export type Respond = (url: string, reply: CommandReply) => Promise<void>;

/**
 * A poster for response URLs. A 4xx other than 408 and 429 (the URL used 5 times, expired, a bad
 * payload) is permanent; 5xx, 408, 429, timeouts and network errors are retried, then thrown as a
 * retryable NotifyError so the caller can let Pub/Sub redeliver.
 */
export function createRespond({
  fetch: fetchFn = fetch,
  timeoutMs = 5_000,
  retries = 2,
  backoffMs = 250,
  logger,
}: RespondOptions = {}): Respond {
  return async (url, reply) => {
    const where = describeResponseUrl(url);
    for (let attempt = 1; ; attempt++) {
      let failure: { retryable: boolean; detail: string; status?: number };
      try {
        const response = await fetchFn(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify(reply),
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
        const body = (await response.text()).slice(0, 200);
        if (response.ok) return;
        const status = response.status;
        failure = {
          retryable: status === 408 || status === 429 || status >= 500,
          detail: `HTTP ${status}${/^[\w.-]{1,60}$/.test(body) ? ` ${body}` : ''}`,
          status,
        };
      } catch (error) {
        const name = (error as Error).name;
        failure = {
          retryable: true,
          detail: name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : `network error (${name})`,
        };
      }
      if (!failure.retryable || attempt > retries) {
        throw new NotifyError('slack', `response_url ${where}: ${failure.detail}`, {
          retryable: failure.retryable,
          ...(failure.status !== undefined ? { status: failure.status } : {}),
        });
      }
      logger?.log('WARNING', `slack: posting to response_url failed (${failure.detail}), retrying`, {
        responseUrl: where,
        attempt,
      });
      await sleep(backoffMs * 2 ** (attempt - 1));
    }
  };
}
