import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseSnapshot } from '../../../shared/inventory/snapshot.ts';
import { FIXTURES } from '../../support/paths.ts';

const raw = () => JSON.parse(readFileSync(join(FIXTURES, 'snapshot.json'), 'utf8'));

function errorOf(value: unknown): string {
  const result = parseSnapshot(value);
  assert.equal(result.ok, false, 'the snapshot is rejected');
  return result.ok ? '' : result.error;
}

describe('parseSnapshot', () => {
  test('the fixture parses, with the contract defaults filled in', () => {
    const result = parseSnapshot(raw());
    assert.ok(result.ok, result.ok ? '' : result.error);
    const [project] = result.snapshot.projects;
    assert.equal(project?.projectId, 'orbit-prod');
    assert.deepEqual(
      project?.clusters.map((c) => [c.name, c.workloadPool]),
      [
        ['core-1', 'orbit-prod.svc.id.goog'],
        ['edge-1', 'orbit-prod.svc.id.goog'],
        ['sandbox', undefined],
      ],
    );
    // deployer@ has no `disabled` in the file: enabled by default.
    assert.equal(project?.serviceAccounts.find((g) => g.email.startsWith('deployer@'))?.disabled, false);
  });

  test('absent lists and fields take their defaults', () => {
    const result = parseSnapshot({
      projects: [
        {
          projectId: 'p',
          clusters: [
            {
              name: 'c',
              location: 'l',
              pods: [{ namespace: 'n', name: 'x' }],
              serviceAccounts: [{ namespace: 'n', name: 'k' }],
            },
          ],
          serviceAccounts: [{ email: 'g@p.iam.gserviceaccount.com' }],
        },
      ],
    });
    assert.ok(result.ok, result.ok ? '' : result.error);
    const cluster = result.snapshot.projects[0]?.clusters[0];
    assert.deepEqual(cluster?.nodePools, []);
    assert.deepEqual(cluster?.networkPolicies, []);
    assert.deepEqual(cluster?.serviceAccounts[0]?.annotations, {});
    assert.deepEqual(cluster?.pods[0], {
      namespace: 'n',
      name: 'x',
      labels: {},
      serviceAccountName: 'default',
      env: [],
    });
    assert.deepEqual(result.snapshot.projects[0]?.serviceAccounts[0], {
      email: 'g@p.iam.gserviceaccount.com',
      disabled: false,
      iamPolicy: { bindings: [] },
    });
  });

  test('unknown fields pass through (a live export may carry more)', () => {
    const value = raw();
    value.exportedAt = '2026-11-28T10:00:00Z';
    value.projects[0].clusters[0].releaseChannel = 'REGULAR';
    const result = parseSnapshot(value);
    assert.ok(result.ok);
    assert.equal((result.snapshot as Record<string, unknown>).exportedAt, '2026-11-28T10:00:00Z');
  });

  const bad: [string, (value: ReturnType<typeof raw>) => unknown, RegExp][] = [
    [
      'an empty cluster name',
      (v) => {
        v.projects[0].clusters[1].name = '';
        return v;
      },
      /^projects\.0\.clusters\.1\.name: /,
    ],
    [
      'a cluster without a location',
      (v) => {
        delete v.projects[0].clusters[2].location;
        return v;
      },
      /^projects\.0\.clusters\.2\.location: /,
    ],
    [
      'a pod env that is not a list of names',
      (v) => {
        v.projects[0].clusters[0].pods[3].env = 'GOOGLE_APPLICATION_CREDENTIALS';
        return v;
      },
      /^projects\.0\.clusters\.0\.pods\.3\.env: /,
    ],
    [
      'an annotation that is not a string',
      (v) => {
        v.projects[0].clusters[0].serviceAccounts[0].annotations['iam.gke.io/gcp-service-account'] = 42;
        return v;
      },
      /^projects\.0\.clusters\.0\.serviceAccounts\.0\.annotations\.iam\.gke\.io\/gcp-service-account: /,
    ],
    [
      'a NetworkPolicy with an unknown selector operator',
      (v) => {
        v.projects[0].clusters[0].networkPolicies[0].spec.podSelector = {
          matchExpressions: [{ key: 'tier', operator: 'Equals' }],
        };
        return v;
      },
      /^projects\.0\.clusters\.0\.networkPolicies\.0\.spec\.podSelector\.matchExpressions\.0\.operator: /,
    ],
    [
      'a binding without members as a list',
      (v) => {
        v.projects[0].serviceAccounts[0].iamPolicy.bindings[0].members = 'serviceAccount:x';
        return v;
      },
      /^projects\.0\.serviceAccounts\.0\.iamPolicy\.bindings\.0\.members: /,
    ],
    [
      'disabled as a string',
      (v) => {
        v.projects[0].serviceAccounts[3].disabled = 'no';
        return v;
      },
      /^projects\.0\.serviceAccounts\.3\.disabled: /,
    ],
    ['no projects', () => ({}), /^projects: /],
    ['not an object', () => 'snapshot', /^\(root\): /],
  ];
  for (const [name, change, pattern] of bad) {
    test(`the error names the path: ${name}`, () => assert.match(errorOf(change(raw())), pattern));
  }

  test('several bad fields are all named, at most five and a count of the rest', () => {
    const value = raw();
    for (const cluster of value.projects[0].clusters) cluster.name = '';
    value.projects[0].projectId = '';
    for (const gsa of value.projects[0].serviceAccounts) gsa.email = '';
    const error = errorOf(value);
    assert.match(error, /projects\.0\.projectId: /);
    assert.match(error, /projects\.0\.clusters\.0\.name: .*projects\.0\.clusters\.1\.name: /);
    assert.equal(error.split('; ').length, 6);
    assert.match(error, /; and 3 more$/);
  });
});
