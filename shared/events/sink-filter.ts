import { WATCHED_METHODS, type WatchedMethod } from './methods.ts';

/**
 * Log Router sink filters, generated from the method table the classifier routes by (methods.ts),
 * so the sink delivers exactly the entries the classifier handles and nothing else is paid for.
 * infra/ keeps each one as a generated file (`wi-sentinel sink-filter --sink NAME`), which a test
 * keeps in sync.
 *
 * Logging query language: https://cloud.google.com/logging/docs/view/logging-query-language
 * (string comparisons ignore case, regular expressions do not; OR binds tighter than AND; a filter
 * holds at most 20,000 characters).
 */

/** Admin Activity only: Data Access entries are reads (and the bulk of the volume where enabled). */
export const ADMIN_ACTIVITY = 'logName:"/logs/cloudaudit.googleapis.com%2Factivity"';

/** https://cloud.google.com/logging/quotas: a query holds at most 20,000 characters. */
export const MAX_FILTER_LENGTH = 20_000;

/** A value as a Logging query string literal: quoted, its backslashes and quotes escaped. */
export function quote(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

function anyOf(field: string, values: readonly string[], indent: string): string {
  if (values.length === 1) return `${field}=${quote(values[0] as string)}`;
  return `${field}=(\n${values.map((value) => `${indent}  ${quote(value)}`).join(' OR\n')}\n${indent})`;
}

/** Methods whose name says enough, in one list; methods that also need their service, one clause each. */
function methodClauses(methods: readonly WatchedMethod[]): string[] {
  const unambiguous = [...new Set(methods.filter((m) => !m.serviceName).map((m) => m.method))];
  const clauses = [anyOf('protoPayload.methodName', unambiguous, '  ')];
  for (const { method, serviceName } of methods) {
    if (serviceName === undefined) continue;
    clauses.push(
      `(protoPayload.serviceName=${quote(serviceName)} AND protoPayload.methodName=${quote(method)})`,
    );
  }
  return clauses;
}

/**
 * The audit sink: Admin Activity entries of every watched method (IAM service accounts and their
 * policies, GKE clusters and node pools, Kubernetes ServiceAccount and NetworkPolicy writes, IAM
 * policies set through Resource Manager). Failed requests pass too: a GKE operation's failed `last`
 * entry resolves what its `first` entry opened.
 */
export function auditSinkFilter(methods: readonly WatchedMethod[] = WATCHED_METHODS): string {
  return `${ADMIN_ACTIVITY}\nAND (\n  ${methodClauses(methods).join('\n  OR ')}\n)`;
}
