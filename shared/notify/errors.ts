import { SentinelError } from '../errors.ts';

export type Integration = 'slack' | 'pagerduty';

/**
 * A delivery that failed. `retryable` failures (5xx, 429, timeouts, network) make the function fail
 * so Pub/Sub redelivers; permanent ones (bad request, invalid channel, revoked token) are logged with
 * the reason and acknowledged. Messages never carry a token or routing key.
 */
export class NotifyError extends SentinelError {
  readonly integration: Integration;
  readonly status: number | undefined;
  readonly retryable: boolean;
  /**
   * A post that may have been made although its answer never came (a timeout, a connection lost
   * after the request was sent): the next attempt looks for it before posting again.
   */
  readonly unconfirmed: boolean;
  constructor(
    integration: Integration,
    message: string,
    {
      status,
      retryable,
      cause,
      unconfirmed = false,
    }: { status?: number; retryable: boolean; cause?: unknown; unconfirmed?: boolean },
  ) {
    super('notify', `${integration}: ${message}`, cause === undefined ? undefined : { cause });
    this.integration = integration;
    this.status = status;
    this.retryable = retryable;
    this.unconfirmed = unconfirmed;
  }
}
