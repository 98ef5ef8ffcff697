/**
 * One small family of errors, after @slack/web-api's SlackError: a base class with a `code`.
 * Data problems are results, not exceptions; these are for the shell (config, I/O, delivery).
 */
export class SentinelError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad environment value or file; start-up stops with a message naming it. */
export class ConfigError extends SentinelError {
  constructor(message: string, options?: ErrorOptions) {
    super('config', message, options);
  }
}

/** Input that will never decode, however often it is delivered: log it and acknowledge. */
export class InvalidEventError extends SentinelError {
  constructor(message: string, options?: ErrorOptions) {
    super('invalid-event', message, options);
  }
}

/**
 * A state store call that failed. `retryable` failures (unavailable, deadline exceeded, contention,
 * quota) make the function fail so Pub/Sub redelivers; permanent ones (permission denied, invalid
 * argument, a document over the size limit) will not be cured by a retry. `status` names the
 * backend's status when it gave one (e.g. gRPC `UNAVAILABLE`).
 */
export class StoreError extends SentinelError {
  readonly retryable: boolean;
  readonly status: string | undefined;
  constructor(
    message: string,
    { retryable, status, cause }: { retryable: boolean; status?: string; cause?: unknown },
  ) {
    super('store', message, cause === undefined ? undefined : { cause });
    this.retryable = retryable;
    this.status = status;
  }
}

/**
 * A read of live state (GKE, IAM, Kubernetes API) that failed. `retryable` for 429, 5xx and
 * timeouts; `permission` is set when wi-sentinel itself lacks access (401/403): that is reported as
 * such, naming the permission, never taken for "all healthy". `api` names the service, `status` the
 * HTTP status when there was one.
 */
export class LookupError extends SentinelError {
  readonly retryable: boolean;
  readonly api: string;
  readonly status: number | undefined;
  readonly permission: string | undefined;
  constructor(
    message: string,
    {
      api,
      retryable,
      status,
      permission,
      cause,
    }: { api: string; retryable: boolean; status?: number; permission?: string; cause?: unknown },
  ) {
    super('lookup', message, cause === undefined ? undefined : { cause });
    this.api = api;
    this.retryable = retryable;
    this.status = status;
    this.permission = permission;
  }
}
