/**
 * Structured log lines as Cloud Logging reads them from stdout: one JSON object a line with
 * `severity` and `message`. Callers pass fields, never secrets.
 */
export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL';

export type LogSink = (line: string) => void;

export interface Logger {
  log(severity: Severity, message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(sink: LogSink = (line) => process.stdout.write(`${line}\n`)): Logger {
  return {
    log(severity, message, fields = {}) {
      sink(JSON.stringify({ severity, message, ...fields }));
    },
  };
}
