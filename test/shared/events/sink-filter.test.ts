import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SINK_FILTERS } from '../../../cli/sink-filter.ts';
import { classify } from '../../../shared/events/classify.ts';
import { WATCHED_METHODS } from '../../../shared/events/methods.ts';
import { MAX_FILTER_LENGTH } from '../../../shared/events/sink-filter.ts';
import { routeOf } from '../../../shared/symptoms/route.ts';
import { FIXTURES, REPO_ROOT } from '../../support/paths.ts';
import {
  auditFilterText,
  type Expected,
  entryOfDelivery,
  expectationOf,
  passesAuditSink,
} from '../../support/sink-agreement.ts';

const FILTERS_DIR = join(REPO_ROOT, 'infra', 'filters');
const ACTIVITY = 'projects/orbit-prod/logs/cloudaudit.googleapis.com%2Factivity';
const DATA_ACCESS = 'projects/orbit-prod/logs/cloudaudit.googleapis.com%2Fdata_access';

/** Every log entry of the project's own fixtures: one file each under events/, one line each in stories/. */
function fixtureDeliveries(): { name: string; value: unknown }[] {
  const events = readdirSync(join(FIXTURES, 'events'))
    .filter((file) => file.endsWith('.json'))
    .map((file) => ({
      name: `events/${file}`,
      value: JSON.parse(readFileSync(join(FIXTURES, 'events', file), 'utf8')) as unknown,
    }));
  const stories = readdirSync(join(FIXTURES, 'stories'))
    .filter((file) => file.endsWith('.ndjson'))
    .flatMap((file) =>
      readFileSync(join(FIXTURES, 'stories', file), 'utf8')
        .split('\n')
        .map((line, index) => ({ line, index }))
        .filter(({ line }) => line.trim() !== '')
        .map(({ line, index }) => ({
          name: `stories/${file}:${index + 1}`,
          value: JSON.parse(line) as unknown,
        }))
        // Monitoring's notifications reach the topic through a notification channel, not a sink.
        .filter(({ value }) => routeOf(value).path !== 'monitoring'),
    );
  return [...events, ...stories];
}

function auditEntry(method: string, overrides: Record<string, unknown> = {}) {
  return {
    logName: ACTIVITY,
    protoPayload: { methodName: method, serviceName: 'example.googleapis.com', ...overrides },
  };
}

describe('audit sink filter', () => {
  test('infra/filters/ holds exactly what `wi-sentinel sink-filter` prints for each sink', () => {
    const files = readdirSync(FILTERS_DIR).filter((file) => file.endsWith('.filter'));
    assert.deepEqual(
      files.sort(),
      Object.keys(SINK_FILTERS)
        .map((name) => `${name}.filter`)
        .sort(),
    );
    for (const [name, generate] of Object.entries(SINK_FILTERS)) {
      const kept = readFileSync(join(FILTERS_DIR, `${name}.filter`), 'utf8');
      assert.equal(
        kept,
        `${generate()}\n`,
        `infra/filters/${name}.filter is stale: run npx wi-sentinel sink-filter --sink ${name} > infra/filters/${name}.filter`,
      );
    }
  });

  test(`fits Logging's ${MAX_FILTER_LENGTH}-character limit`, () => {
    const length = auditFilterText().length;
    assert.ok(length < MAX_FILTER_LENGTH, `${length} characters`);
  });

  describe('every fixture: changes pass; reads, Data Access and unrelated entries do not', () => {
    const tally: Record<Expected, number> = { pass: 0, block: 0 };
    for (const { name, value } of fixtureDeliveries()) {
      test(name, () => {
        const decoded = entryOfDelivery(value);
        assert.ok('entry' in decoded, `${name} does not decode`);
        const { expected, why } = expectationOf(decoded.entry);
        tally[expected] += 1;
        assert.equal(passesAuditSink(decoded.entry) ? 'pass' : 'block', expected, why);
      });
    }
    test('the fixtures cover both sides', () => {
      assert.ok(tally.pass >= 30, `only ${tally.pass} fixtures must pass`);
      assert.ok(tally.block >= 3, `only ${tally.block} fixtures must be blocked`);
    });
  });

  test('the Data Access twin of every change fixture is blocked', () => {
    let changes = 0;
    for (const { name, value } of fixtureDeliveries()) {
      const decoded = entryOfDelivery(value);
      if (!('entry' in decoded) || classify(decoded.entry).type === 'ignored') continue;
      changes += 1;
      assert.equal(passesAuditSink({ ...decoded.entry, logName: DATA_ACCESS }), false, name);
    }
    assert.ok(changes >= 30, `only ${changes} change fixtures`);
  });

  test('every watched method passes in Admin Activity, at any scope, and the classifier routes it', () => {
    for (const { method, serviceName } of WATCHED_METHODS) {
      const entry = auditEntry(method, serviceName ? { serviceName } : {});
      for (const logName of [
        ACTIVITY,
        'organizations/123456789012/logs/cloudaudit.googleapis.com%2Factivity',
        'folders/345678901234/logs/cloudaudit.googleapis.com%2Factivity',
      ]) {
        assert.equal(passesAuditSink({ ...entry, logName }), true, `${method} in ${logName}`);
      }
      assert.equal(passesAuditSink({ ...entry, logName: DATA_ACCESS }), false, `${method} in Data Access`);
      const classified = classify(entry);
      if (classified.type === 'ignored') {
        assert.doesNotMatch(classified.reason, /does not (change|touch) a? ?Workload Identity/, method);
      }
    }
  });

  test('near misses are blocked: reads, subresources, other objects, other services', () => {
    const misses: [string, Record<string, unknown>][] = [
      ['io.k8s.core.v1.serviceaccounts.token.create', {}],
      ['io.k8s.core.v1.serviceaccounts.get', {}],
      ['io.k8s.core.v1.serviceaccounts.list', {}],
      ['io.k8s.networking.v1.networkpolicies.watch', {}],
      ['io.k8s.core.v1.pods.create', {}],
      ['io.k8s.apps.v1.deployments.patch', {}],
      ['google.iam.admin.v1.GetIAMPolicy', {}],
      ['google.iam.admin.v1.CreateServiceAccountKey', {}],
      ['google.iam.admin.v1.ListServiceAccounts', {}],
      ['google.container.v1.ClusterManager.GetCluster', {}],
      ['google.container.v1.ClusterManager.SetNodePoolSize', {}],
      ['google.container.v1.ClusterManager.ListNodePools', {}],
      ['SetIamPolicy', { serviceName: 'storage.googleapis.com' }],
      ['SetIamPolicy', {}],
      ['GetIamPolicy', { serviceName: 'cloudresourcemanager.googleapis.com' }],
      ['storage.objects.create', { serviceName: 'storage.googleapis.com' }],
    ];
    for (const [method, overrides] of misses) {
      assert.equal(passesAuditSink(auditEntry(method, overrides)), false, method);
    }
  });

  test('entries without an audit payload are blocked', () => {
    assert.equal(passesAuditSink({ logName: ACTIVITY, textPayload: 'SetIamPolicy' }), false);
    assert.equal(passesAuditSink({ logName: ACTIVITY, jsonPayload: { methodName: 'SetIamPolicy' } }), false);
  });
});
