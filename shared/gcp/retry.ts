import { setTimeout as sleepFor } from 'node:timers/promises';
import { LookupError } from '../errors.ts';

/**
 * Bounded retries for reads of live state: only a LookupError marked retryable (429, 5xx, timeouts,
 * connection resets) is retried, with exponential backoff and jitter, within a deadline that
 * fits a function's lifetime. A 429's Retry-After is honoured when it fits in the deadline.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No wait runs past this many ms after the first attempt started: the last error is thrown instead. */
  deadlineMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 4_000,
  deadlineMs: 30_000,
};

/** Clock, sleep and randomness, injectable so tests need not wait. */
export interface RetryHooks {
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

/** A retryable failure that says how long to wait (HTTP Retry-After). */
export class RetryLaterError extends LookupError {
  readonly retryAfterMs: number;
  constructor(
    message: string,
    fields: { api: string; status?: number; retryAfterMs: number; cause?: unknown },
  ) {
    super(message, { ...fields, retryable: true });
    this.retryAfterMs = fields.retryAfterMs;
  }
}

/** The wait before attempt `attempt + 1`: between half and all of a cap that doubles each attempt. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
  hooks: RetryHooks = {},
): Promise<T> {
  const now = hooks.now ?? Date.now;
  const sleep = hooks.sleep ?? ((ms: number) => sleepFor(ms));
  const started = now();
  for (let n = 1; ; n += 1) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!(error instanceof LookupError) || !error.retryable) throw error;
      const wait = error instanceof RetryLaterError ? error.retryAfterMs : backoffMs(n, policy, hooks.random);
      const elapsed = now() - started;
      if (n >= policy.maxAttempts || elapsed + wait > policy.deadlineMs) {
        throw gaveUp(error, n, elapsed);
      }
      await sleep(wait);
    }
  }
}

function gaveUp(error: LookupError, attempts: number, elapsedMs: number): LookupError {
  if (attempts === 1) return error;
  return new LookupError(`${error.message} (gave up after ${attempts} attempts, ${elapsedMs} ms)`, {
    api: error.api,
    retryable: true,
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.permission === undefined ? {} : { permission: error.permission }),
  });
}
