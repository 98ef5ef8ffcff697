import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { AUDIT_FILTER_FILE } from '../support/sink-agreement.ts';

describe('wi-sentinel sink-filter', () => {
  test('prints the audit filter infra/ deploys, by default and by name', async () => {
    const kept = readFileSync(AUDIT_FILTER_FILE, 'utf8');
    for (const args of [['sink-filter'], ['sink-filter', '--sink', 'audit']]) {
      const result = await runCli(args);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, kept);
      assert.equal(result.stderr, '');
    }
  });

  test('--sink workload prints the symptom filter infra/ deploys', async () => {
    const result = await runCli(['sink-filter', '--sink', 'workload']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, readFileSync(join(REPO_ROOT, 'infra', 'filters', 'workload.filter'), 'utf8'));
    assert.match(result.stdout, /^resource\.type="k8s_container"\n/);
    assert.equal(result.stderr, '');
  });

  test('an unknown sink is a usage error naming the known ones', async () => {
    const result = await runCli(['sink-filter', '--sink', 'nope']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no sink named "nope" \(known: audit, workload\)/);
    assert.equal(result.stdout, '');
  });

  test('help lists it', async () => {
    const result = await runCli(['help']);
    assert.match(result.stdout, /wi-sentinel sink-filter \[--sink NAME\]/);
  });
});
