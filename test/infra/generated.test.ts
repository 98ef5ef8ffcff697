import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  METADATA_SERVER_ALERT_POLICY,
  METADATA_SERVER_ALERT_PROMQL,
  POLICY_USER_LABEL,
} from '../../shared/events/monitoring.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { GENERATED, REGENERATE } from './generated.ts';

// What infra/ reads from generated files is what the code declares, byte for byte.
describe('infra/ generated files', () => {
  for (const [path, generate] of Object.entries(GENERATED)) {
    test(`${path} is what the code generates`, () => {
      assert.equal(
        readFileSync(join(REPO_ROOT, path), 'utf8'),
        generate(),
        `${path} is stale: run ${REGENERATE}`,
      );
    });
  }

  test('every file in infra/generated/ has a generator (none is left behind)', () => {
    const kept = readdirSync(join(REPO_ROOT, 'infra', 'generated')).map((file) => `infra/generated/${file}`);
    assert.deepEqual(
      kept.sort(),
      Object.keys(GENERATED)
        .filter((path) => path.startsWith('infra/generated/'))
        .sort(),
    );
  });

  test('the alert policy the module reads carries the PromQL constant and the label the decoder knows', () => {
    const policy = JSON.parse(
      readFileSync(join(REPO_ROOT, 'infra', 'generated', 'metadata-server-alert.json'), 'utf8'),
    ) as typeof METADATA_SERVER_ALERT_POLICY;
    assert.deepEqual(policy, JSON.parse(JSON.stringify(METADATA_SERVER_ALERT_POLICY)));
    assert.equal(policy.conditions.length, 1);
    assert.equal(policy.conditions[0]?.conditionPrometheusQueryLanguage.query, METADATA_SERVER_ALERT_PROMQL);
    assert.equal(policy.userLabels[POLICY_USER_LABEL.key], POLICY_USER_LABEL.value);
    // Monitoring's limits on user labels: lower-case keys and values of at most 63 characters.
    // https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies#AlertPolicy
    for (const [key, value] of Object.entries(policy.userLabels)) {
      assert.match(key, /^[a-z][a-z0-9_-]{0,62}$/);
      assert.match(value, /^[a-z0-9_-]{0,63}$/);
    }
  });
});
