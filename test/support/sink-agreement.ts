import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classify } from '../../shared/events/classify.ts';
import { decode } from '../../shared/events/decode.ts';
import { watchedMethod } from '../../shared/events/methods.ts';
import type { LogEntry } from '../../shared/events/schemas.ts';
import { compileFilter } from './logging-filter.ts';
import { REPO_ROOT } from './paths.ts';

/** The audit sink's filter as infra/ deploys it (the generated file, not the generator). */
export const AUDIT_FILTER_FILE = join(REPO_ROOT, 'infra', 'filters', 'audit.filter');
export const auditFilterText = (): string => readFileSync(AUDIT_FILTER_FILE, 'utf8');
export const passesAuditSink = compileFilter(auditFilterText());

export type Expected = 'pass' | 'block';

/**
 * What the audit sink owes an entry, from what the classifier makes of it: every change passes;
 * reads, Data Access entries, other services and other methods are blocked. Ignored entries of a
 * watched method still pass: the filter cannot see that an entry names too little, and a failed
 * request's entry is how a GKE operation's failed `last` entry resolves what its `first` opened.
 */
export function expectationOf(entry: LogEntry): { expected: Expected; why: string } {
  const classified = classify(entry);
  if (classified.type !== 'ignored') return { expected: 'pass', why: `a ${classified.type} change` };
  const { reason } = classified;
  const watched = watchedMethod(entry.protoPayload?.methodName ?? '') !== undefined;
  const rule = RULES.find(([pattern]) => pattern.test(reason));
  if (rule === undefined) {
    throw new Error(`no expectation for the classifier's reason ${JSON.stringify(reason)}: add a rule`);
  }
  const expected = rule[1] === 'watched' ? (watched ? 'pass' : 'block') : rule[1];
  return { expected, why: `ignored: ${reason}` };
}

const RULES: [RegExp, Expected | 'watched'][] = [
  [/^Data Access entry/, 'block'],
  [/^not an audit log entry/, 'block'],
  [/^audit entry without a methodName$/, 'block'],
  [/ does not change a Workload Identity link$/, 'block'],
  [/ does not touch Workload Identity$/, 'block'],
  [/^the request failed/, 'watched'],
  [/names no |does not name|records no valid/, 'watched'],
];

/** The LogEntry a delivery carries, as Logging holds it (camelCase keys), or the decoder's error. */
export function entryOfDelivery(value: unknown): { entry: LogEntry } | { error: string } {
  const decoded = decode(value);
  return decoded.ok ? { entry: decoded.delivery.entry } : { error: decoded.error };
}
