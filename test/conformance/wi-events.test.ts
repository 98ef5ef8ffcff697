import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { findingsOf, runCli } from '../support/cli.ts';
import { judge } from '../support/judge.ts';
import { sharedFixturesDir } from '../support/paths.ts';

// Every Workload Identity case of ../shared/fixtures/wi-events, judged through the CLI as its README says.
const dir = join(sharedFixturesDir() ?? '', 'wi-events');
const snapshot = join(dir, 'snapshot.json');
const cases = readdirSync(dir).filter((file) => file.endsWith('.json') && file !== 'snapshot.json');

describe('wi-events conformance (wi-sentinel detect --snapshot snapshot.json)', { concurrency: 4 }, () => {
  test('the corpus is there', () => assert.ok(cases.length >= 10, `only ${cases.length} cases in ${dir}`));
  for (const file of cases) {
    const testCase = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      description: string;
      input: unknown;
      expect: Record<string, unknown>[];
    };
    test(`${file}: ${testCase.description}`, async () => {
      const result = await runCli(['detect', '--snapshot', snapshot], `${JSON.stringify(testCase.input)}\n`);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(judge(testCase.expect, findingsOf(result.stdout)), []);
    });
  }
});
