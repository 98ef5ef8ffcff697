import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { classify } from '../../shared/events/classify.ts';
import type { LogEntry } from '../../shared/events/schemas.ts';
import { sharedFixturesDir } from '../support/paths.ts';
import { entryOfDelivery, expectationOf, passesAuditSink } from '../support/sink-agreement.ts';

// The shared corpora through the audit sink's filter (infra/filters/audit.filter): every entry the
// classifier turns into a change passes; reads, Data Access entries and other services do not.
const shared = sharedFixturesDir() ?? '';

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json') && file !== 'snapshot.json')
    .sort();
}

/**
 * Cloud Logging sets `logName` on every entry it routes; an abridged sample without one is judged
 * as the entry it abridges: its project's Admin Activity log (the only log its write could be in).
 */
function asRouted(entry: LogEntry): { entry: LogEntry; note: string } {
  if (entry.logName !== undefined) return { entry, note: '' };
  const classified = classify(entry);
  const project = classified.type === 'ignored' ? undefined : classified.project;
  assert.ok(project, 'an entry without logName must at least name its project');
  const logName = `projects/${project}/logs/cloudaudit.googleapis.com%2Factivity`;
  return { entry: { ...entry, logName }, note: ` (no logName in the sample: judged in ${logName})` };
}

function judge(value: unknown): 'not a LogEntry' | 'pass' | 'block' {
  const decoded = entryOfDelivery(value);
  if ('error' in decoded) return 'not a LogEntry';
  const { entry, note } = asRouted(decoded.entry);
  const { expected, why } = expectationOf(entry);
  const actual = passesAuditSink(entry) ? 'pass' : 'block';
  assert.equal(actual, expected, `${why}${note}`);
  return actual;
}

describe('audit sink filter conformance: public samples', () => {
  const dir = join(shared, 'public');
  const counts = { pass: 0, block: 0, 'not a LogEntry': 0 };
  for (const file of jsonFiles(dir)) {
    test(file, () => {
      counts[judge(JSON.parse(readFileSync(join(dir, file), 'utf8')))] += 1;
    });
  }
  test('both sides are covered', () => {
    assert.ok(counts.pass >= 10 && counts.block >= 5, JSON.stringify(counts));
  });
});

describe('audit sink filter conformance: Workload Identity cases', () => {
  const dir = join(shared, 'wi-events');
  const counts = { pass: 0, block: 0, 'not a LogEntry': 0 };
  for (const file of jsonFiles(dir)) {
    test(file, () => {
      const testCase = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { input: unknown };
      counts[judge(testCase.input)] += 1;
    });
  }
  test('every case is a LogEntry and its changes pass', () => {
    assert.equal(counts['not a LogEntry'], 0, JSON.stringify(counts));
    assert.ok(counts.pass >= 10, JSON.stringify(counts));
  });
});
