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
