import { LookupError } from '../errors.ts';
import type { TokenSource } from './auth.ts';
import { DEFAULT_RETRY, type RetryHooks, RetryLaterError, type RetryPolicy, withRetries } from './retry.ts';

/**
 * A small JSON client for Google REST APIs (IAM, Resource Manager): a bearer token, a timeout per
 * request, bounded retries of what a retry can cure, and every failure classified as a LookupError.
 * 401/403 name the permission the call needed: wi-sentinel lacks it, which is never "all healthy".
 * A 404 is a LookupError with status 404: callers decide whether absence is an answer.
 */
export interface GoogleRequest {
  /** The service, for errors: `iam`, `cloudresourcemanager`. */
  api: string;
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
  /** The IAM permission the call needs, named when Google refuses it. */
  permission: string;
  /** What is read, for errors: `service account x@p.iam.gserviceaccount.com`. */
  what: string;
}

export interface GoogleHttpOptions {
  tokens: TokenSource;
  /** Per attempt, ms. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  hooks?: RetryHooks;
  fetch?: typeof globalThis.fetch;
}

export interface GoogleHttp {
  request<T>(request: GoogleRequest): Promise<T>;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
/** Longest Google error message quoted in ours. */
const QUOTE_MAX = 300;

export function createGoogleHttp({
  tokens,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  retry = DEFAULT_RETRY,
  hooks = {},
  fetch = globalThis.fetch,
}: GoogleHttpOptions): GoogleHttp {
  async function attempt<T>(request: GoogleRequest): Promise<T> {
    const token = await tokens();
    let response: Response;
    let text: string;
    try {
      response = await fetch(request.url, {
        method: request.method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw transportError(request, error, timeoutMs);
    }
    if (response.ok) {
      try {
        return (text === '' ? {} : JSON.parse(text)) as T;
      } catch {
        throw new LookupError(
          `${request.what}: ${request.api} answered ${response.status} with a body that is not JSON`,
          {
            api: request.api,
            retryable: true,
            status: response.status,
          },
        );
      }
    }
    throw statusError(request, response.status, googleMessage(text), response.headers.get('retry-after'));
  }
  return {
    request: (request) => withRetries(() => attempt(request), retry, hooks),
  };
}

/**
 * Every page of a Google list or search (GET `url?query&pageToken=…` until no `nextPageToken`), in
 * order. Each page repeats `query` exactly, as the APIs require of the pages after the first.
 */
export async function allPages<Page extends { nextPageToken?: string }>(
  http: GoogleHttp,
  request: Omit<GoogleRequest, 'method' | 'body'> & { query: URLSearchParams },
): Promise<Page[]> {
  const { query, url, ...rest } = request;
  const pages: Page[] = [];
  let pageToken: string | undefined;
  do {
    const params = new URLSearchParams(query);
    if (pageToken) params.set('pageToken', pageToken);
    const page = await http.request<Page>({ ...rest, method: 'GET', url: `${url}?${params}` });
    pages.push(page);
    pageToken = page.nextPageToken || undefined;
  } while (pageToken);
  return pages;
}

/** Whether a lookup failed because the object does not exist. */
export function isNotFound(error: unknown): boolean {
  return error instanceof LookupError && error.status === 404;
}

/** A read's answer, or undefined when the object does not exist (404): where absence is an answer. */
export async function unlessNotFound<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The LookupError for an HTTP error status. */
export function statusError(
  request: Pick<GoogleRequest, 'api' | 'what' | 'permission'>,
  status: number,
  detail: string | undefined,
  retryAfter?: string | null,
): LookupError {
  const { api, what, permission } = request;
  const says = detail ? `: ${detail}` : '';
  if (status === 401 || status === 403) {
    const why = status === 401 ? 'its credentials were refused' : 'permission denied';
    return new LookupError(
      `${what}: ${api} answered ${status} (${why}); wi-sentinel needs ${permission}${says}`,
      {
        api,
        retryable: false,
        status,
        permission,
      },
    );
  }
  if (status === 404) {
    return new LookupError(`${what} not found${says}`, { api, retryable: false, status });
  }
  if (status === 429) {
    const wait = retryAfterMs(retryAfter);
    const message = `${what}: ${api} answered 429 (rate limited)${says}`;
    return wait === undefined
      ? new LookupError(message, { api, retryable: true, status })
      : new RetryLaterError(message, { api, status, retryAfterMs: wait });
  }
  return new LookupError(`${what}: ${api} answered ${status}${says}`, {
    api,
    retryable: status >= 500 || status === 408,
    status,
  });
}

/** Timeouts and connection failures: retryable, named, never carrying the request (its token). */
export function transportError(
  request: Pick<GoogleRequest, 'api' | 'what'>,
  error: unknown,
  timeoutMs: number,
): LookupError {
  const { api, what } = request;
  const name = (error as { name?: string } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new LookupError(`${what}: ${api} did not answer within ${timeoutMs} ms`, { api, retryable: true });
  }
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const reason = cause?.code ?? cause?.message ?? (error as Error | undefined)?.message ?? String(error);
  return new LookupError(`${what}: could not reach ${api} (${reason})`, { api, retryable: true });
}

/** Retry-After in seconds or as an HTTP date, in ms; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The message of a Google error body (`{ error: { code, message, status } }`), shortened. */
export function googleMessage(text: string): string | undefined {
  let message: unknown;
  try {
    message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
  } catch {
    message = text.trim();
  }
  if (typeof message !== 'string' || message === '') return undefined;
  return message.length > QUOTE_MAX ? `${message.slice(0, QUOTE_MAX)}…` : message;
}
