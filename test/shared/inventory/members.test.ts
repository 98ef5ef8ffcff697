import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  classicMember,
  memberCovers,
  parseWorkloadMember,
  poolProject,
  type WorkloadSubject,
} from '../../../shared/inventory/members.ts';
import { ORBIT } from '../../support/snapshots.ts';

const POOL = ORBIT.pool;
const IAM = 'iam.googleapis.com/projects/731604512345/locations/global/workloadIdentityPools';

describe('parseWorkloadMember', () => {
  const cases: [string, string, WorkloadSubject | undefined][] = [
    [
      'classic form',
      `serviceAccount:${POOL}[checkout/cart]`,
      { workloadPool: POOL, namespace: 'checkout', name: 'cart' },
    ],
    [
      'classic form of another project pool',
      'serviceAccount:other-prod.svc.id.goog[ns-1/ksa.with.dots]',
      { workloadPool: 'other-prod.svc.id.goog', namespace: 'ns-1', name: 'ksa.with.dots' },
    ],
    [
      'principal:// subject',
      `principal://${IAM}/${POOL}/subject/ns/search/sa/indexer`,
      { workloadPool: POOL, namespace: 'search', name: 'indexer' },
    ],
    [
      'principalSet:// namespace',
      `principalSet://${IAM}/${POOL}/namespace/search`,
      { workloadPool: POOL, namespace: 'search' },
    ],
    [
      'external pool principal (GitHub federation)',
      `principal://${IAM}/github-pool/subject/repo:acme/app`,
      undefined,
    ],
    [
      'external pool principal shaped like a KSA',
      `principal://${IAM}/github-pool/subject/ns/search/sa/indexer`,
      undefined,
    ],
    ['external pool namespace set', `principalSet://${IAM}/aws-pool/namespace/search`, undefined],
    [
      'external pool attribute set',
      `principalSet://${IAM}/github-pool/attribute.repository/acme/app`,
      undefined,
    ],
    [
      'GKE pool set by attribute, not namespace',
      `principalSet://${IAM}/${POOL}/attribute.cluster/core-1`,
      undefined,
    ],
    ['deleted: classic member', `deleted:serviceAccount:${POOL}[checkout/cart]?uid=123`, undefined],
    [
      'deleted: GSA member',
      'deleted:serviceAccount:cart@orbit-prod.iam.gserviceaccount.com?uid=1042',
      undefined,
    ],
    ['a plain GSA', 'serviceAccount:cart@orbit-prod.iam.gserviceaccount.com', undefined],
    ['a user', 'user:alice@example.com', undefined],
    ['classic form without a KSA name', `serviceAccount:${POOL}[checkout]`, undefined],
    ['classic form with an empty namespace', `serviceAccount:${POOL}[/cart]`, undefined],
    ['classic form with trailing text', `serviceAccount:${POOL}[checkout/cart]x`, undefined],
    ['a pool not ending in .svc.id.goog', 'serviceAccount:orbit-prod.example.com[checkout/cart]', undefined],
    [
      'principal:// outside iam.googleapis.com',
      `principal://evil.example.com/${POOL}/subject/ns/a/sa/b`,
      undefined,
    ],
    ['empty', '', undefined],
  ];
  for (const [name, member, want] of cases) {
    test(name, () => assert.deepEqual(parseWorkloadMember(member), want));
  }

  test('classicMember writes what parseWorkloadMember reads', () => {
    const member = classicMember(POOL, 'checkout', 'cart');
    assert.equal(member, `serviceAccount:${POOL}[checkout/cart]`);
    assert.deepEqual(parseWorkloadMember(member), {
      workloadPool: POOL,
      namespace: 'checkout',
      name: 'cart',
    });
  });
});

describe('memberCovers', () => {
  const ksa: WorkloadSubject = { workloadPool: POOL, namespace: 'checkout', name: 'cart' };
  const set: WorkloadSubject = { workloadPool: POOL, namespace: 'checkout' };
  const cases: [string, WorkloadSubject, string, string, string, boolean][] = [
    ['the named KSA', ksa, POOL, 'checkout', 'cart', true],
    ['another KSA of the namespace', ksa, POOL, 'checkout', 'pricing', false],
    ['the same names in another pool', ksa, 'other-prod.svc.id.goog', 'checkout', 'cart', false],
    ['a namespace set covers each KSA of it', set, POOL, 'checkout', 'pricing', true],
    ['a namespace set covers the `*` stand-in', set, POOL, 'checkout', '*', true],
    ['a named KSA does not cover the `*` stand-in', ksa, POOL, 'checkout', '*', false],
    ['a namespace set of another namespace', set, POOL, 'search', 'query', false],
  ];
  for (const [name, subject, pool, namespace, ksaName, want] of cases) {
    test(name, () => assert.equal(memberCovers(subject, pool, namespace, ksaName), want));
  }
});

test('poolProject names the project of a GKE pool', () => {
  assert.equal(poolProject(POOL), 'orbit-prod');
  assert.equal(poolProject('my.project.svc.id.goog'), 'my.project');
});
