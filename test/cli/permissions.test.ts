import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { REPO_ROOT } from '../support/paths.ts';

describe('wi-sentinel permissions', () => {
  const roles = JSON.parse(
    readFileSync(join(REPO_ROOT, 'infra', 'generated', 'roles.json'), 'utf8'),
  ) as Record<string, string[]>;

  test('prints each custom role infra/ creates, as gcloud takes it, the reader by default', async () => {
    const byDefault = await runCli(['permissions']);
    assert.equal(byDefault.code, 0, byDefault.stderr);
    assert.equal(byDefault.stdout, `${roles.reader?.join(',')}\n`);
    for (const role of Object.keys(roles)) {
      const result = await runCli(['permissions', '--role', role]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${roles[role]?.join(',')}\n`);
      assert.equal(result.stderr, '');
    }
  });

  test('an unknown role is a usage error naming the known ones', async () => {
    const result = await runCli(['permissions', '--role', 'owner']);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /no role named "owner" \(known: reader, self_check, topic_policy, inventory, scope_list\)/,
    );
    assert.equal(result.stdout, '');
  });
});
