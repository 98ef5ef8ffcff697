import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding } from '../../../shared/domain/finding.ts';
import type { Incident } from '../../../shared/domain/incident.ts';
import type { SymptomGroupRecord } from '../../../shared/domain/symptom-group.ts';
import { duration, evidenceSentence, timelineOf } from '../../../shared/notify/evidence-render.ts';
import { evidenceOf, explains } from '../../../shared/symptoms/evidence.ts';
import { routeOf } from '../../../shared/symptoms/route.ts';
import { symptomGroup } from '../incidents/store-contract.ts';
import { asDelivery, monitoringFixture, noiseSamples } from './fixtures.ts';
import { auditEvent, failureEntry, TEXT } from './support.ts';

const CORE = { location: 'europe-west4', name: 'core-1' };
const POOL = 'orbit-prod.svc.id.goog';

/** checkout/cart's group: pods on general, Deployment cart. */
const cart: SymptomGroupRecord = symptomGroup();
const { ksa: _, ...withoutKsa } = cart;
/** Pods of checkout whose KSA nobody could tell. */
const unknownKsa: SymptomGroupRecord = {
  ...withoutKsa,
  scope: 'namespace',
  key: 'orbit-prod/europe-west4/core-1/checkout/*',
};
/** The gke-metadata-server's own errors (or a Monitoring alert) in core-1, naming no pool. */
const metadataServer: SymptomGroupRecord = { ...withoutKsa, scope: 'cluster', nodePools: [] };

function finding(overrides: Partial<Finding>): Finding {
  return {
    kind: 'binding-missing',
    status: 'firing',
    severity: 'critical',
    fingerprint: 'f',
    project: 'orbit-prod',
    ksas: [],
    summary: 's',
    ...overrides,
  };
}

describe('explains: which incidents a symptom group is evidence of', () => {
  const cases: [string, Partial<Finding>, SymptomGroupRecord, boolean][] = [
    [
      'a binding of its KSA, in any cluster of the pool',
      { ksas: [{ workloadPool: POOL, namespace: 'checkout', name: 'cart' }] },
      cart,
      true,
    ],
    [
      'a binding of another KSA',
      { ksas: [{ workloadPool: POOL, namespace: 'checkout', name: 'pricing' }] },
      cart,
      false,
    ],
    [
      'its KSA in another workload pool',
      { ksas: [{ workloadPool: 'other.svc.id.goog', namespace: 'checkout', name: 'cart' }] },
      cart,
      false,
    ],
    [
      'its KSA, but in another cluster (an annotation is per cluster)',
      {
        kind: 'annotation-missing',
        cluster: { location: 'europe-west4', name: 'edge-1' },
        ksas: [{ workloadPool: POOL, namespace: 'checkout', name: 'cart' }],
      },
      cart,
      false,
    ],
    [
      'the node pool its pods run on',
      { kind: 'nodepool-metadata-disabled', cluster: CORE, nodePool: 'general' },
      cart,
      true,
    ],
    [
      'another node pool of its cluster',
      { kind: 'nodepool-metadata-disabled', cluster: CORE, nodePool: 'spot' },
      cart,
      false,
    ],
    ['its whole cluster', { kind: 'cluster-wi-disabled', cluster: CORE }, cart, true],
    [
      'a cluster of the same name in another project',
      { kind: 'cluster-wi-disabled', project: 'orbit-dev', cluster: CORE },
      cart,
      false,
    ],
    [
      'a workload of pods whose KSA is unknown',
      {
        kind: 'metadata-egress-blocked',
        cluster: CORE,
        workloads: [{ cluster: 'core-1', namespace: 'checkout', kind: 'Deployment', name: 'cart' }],
      },
      unknownKsa,
      true,
    ],
    ['wi-sentinel’s own incidents never', { kind: 'sentinel-degraded', cluster: CORE }, cart, false],
    [
      'another symptom incident never',
      {
        kind: 'wi-auth-failures',
        cluster: CORE,
        ksas: [{ workloadPool: POOL, namespace: 'checkout', name: 'cart' }],
      },
      cart,
      false,
    ],
    [
      'hygiene never',
      { kind: 'gsa-shared', ksas: [{ workloadPool: POOL, namespace: 'checkout', name: 'cart' }] },
      cart,
      false,
    ],
    [
      'the metadata server’s errors: a pool of its cluster',
      { kind: 'nodepool-metadata-disabled', cluster: CORE, nodePool: 'spot' },
      metadataServer,
      true,
    ],
    [
      'the metadata server’s errors: not a KSA’s binding that hits no workload there',
      { ksas: [{ workloadPool: POOL, namespace: 'checkout', name: 'cart' }] },
      metadataServer,
      false,
    ],
    [
      'the metadata server’s errors: a binding whose workloads run in its cluster (it answers their 403s)',
      {
        ksas: [{ workloadPool: POOL, namespace: 'checkout', name: 'cart' }],
        workloads: [{ cluster: 'core-1', namespace: 'checkout', kind: 'Deployment', name: 'cart' }],
      },
      metadataServer,
      true,
    ],
    [
      'the metadata server’s errors: not a binding whose workloads run elsewhere, or in another project',
      {
        ksas: [{ workloadPool: POOL, namespace: 'checkout', name: 'cart' }],
        workloads: [{ cluster: 'edge-1', namespace: 'checkout', kind: 'Deployment', name: 'cart' }],
      },
      metadataServer,
      false,
    ],
    [
      'the metadata server’s errors: not a NetworkPolicy whose workloads run there (requests never reach it)',
      {
        kind: 'metadata-egress-blocked',
        workloads: [{ cluster: 'core-1', namespace: 'checkout', kind: 'Deployment', name: 'cart' }],
      },
      metadataServer,
      false,
    ],
    [
      'the metadata server’s errors: not a cluster of the same name in another project',
      {
        project: 'orbit-dev',
        workloads: [{ cluster: 'core-1', namespace: 'checkout', kind: 'Deployment', name: 'cart' }],
      },
      metadataServer,
      false,
    ],
  ];
  for (const [name, f, g, expected] of cases) {
    it(`${expected ? 'yes' : 'no'}: ${name}`, () => {
      assert.equal(explains(finding(f), g), expected);
    });
  }
});

function incidentWith(
  f: Partial<Finding>,
  group: SymptomGroupRecord,
  extra: Partial<Incident> = {},
): Incident {
  const full = finding(f);
  return {
    id: 'inc-1',
    fingerprint: full.fingerprint,
    kind: full.kind,
    status: 'open',
    severity: full.severity,
    finding: full,
    openedAt: '2026-11-28T10:01:40Z',
    updatedAt: '2026-11-28T10:01:40Z',
    seq: 1,
    transitions: [],
    entries: [],
    notifications: {},
    evidence: [evidenceOf(group, new Date('2026-11-28T10:03:00Z'))],
    ...extra,
  };
}

describe('the words people read', () => {
  const change = {
    kind: 'nodepool-metadata-disabled' as const,
    cluster: CORE,
    nodePool: 'pool-c',
    cause: {
      method: 'google.container.v1.ClusterManager.UpdateNodePool',
      actor: 'carol@example.com',
      time: '2026-11-28T10:01:20Z',
    },
  };
  const group = symptomGroup({
    namespace: 'payments',
    ksa: 'api',
    key: 'orbit-prod/europe-west4/core-1/payments/api',
    count: 37,
    firstSeen: '2026-11-28T10:02:00Z',
    lastSeen: '2026-11-28T10:09:40Z',
  });
  const hhmm = (iso: string) => iso.slice(11, 16);

  it('one sentence: who failed how often since when, and how long after whose change', () => {
    const incident = incidentWith(change, group);
    assert.equal(
      evidenceSentence(incident, incident.evidence?.[0] as never, hhmm),
      'payments/api has failed 37 token requests since 10:02, 40 s after carol@example.com put pool-c on GCE_METADATA',
    );
  });

  it('failures that began before the change say so', () => {
    const incident = incidentWith(
      { ...change, cause: { ...change.cause, time: '2026-11-28T10:05:00Z' } },
      group,
    );
    assert.match(
      evidenceSentence(incident, incident.evidence?.[0] as never, hhmm),
      /since 10:02, 3 min before carol/,
    );
  });

  it('the timeline: change → first failure → repair → last failure, in time order', () => {
    const incident = incidentWith(change, group, {
      status: 'resolved',
      resolvedAt: '2026-11-28T10:09:20Z',
      resolution: {
        summary: 'node pool pool-c runs the GKE metadata server again',
        cause: { method: 'UpdateNodePool', actor: 'dave@example.com', time: '2026-11-28T10:09:13Z' },
      },
    });
    assert.deepEqual(
      timelineOf(incident).map((t) => [t.at, t.label]),
      [
        ['2026-11-28T10:01:20Z', 'change'],
        ['2026-11-28T10:02:00Z', 'first failure'],
        ['2026-11-28T10:09:13Z', 'repair'],
        ['2026-11-28T10:09:40Z', 'last failure'],
      ],
    );
    assert.match(timelineOf(incident)[3]?.text ?? '', /^37 failures in all from 1 pod$/);
    assert.deepEqual(timelineOf({ ...incident, evidence: [] }), []);
  });

  it('durations read as people say them', () => {
    assert.deepEqual(
      [duration(40_000), duration(-180_000), duration(5_400_000), duration(7_500_000)],
      ['40 s', '3 min', '1 h 30 min', '2 h 5 min'],
    );
  });
});

describe('routeOf: which path a delivery takes, from its raw text', () => {
  it('an audit entry goes on to the audit path, however it is wrapped', () => {
    const audit = auditEvent('gsa-binding-removed');
    assert.equal(routeOf(asDelivery(audit)).path, 'audit');
    assert.equal(routeOf(audit).path, 'audit');
    assert.equal(routeOf(JSON.stringify(asDelivery(audit))).path, 'audit');
    assert.equal(routeOf('not json').path, 'audit', 'the audit path reports what is wrong with it');
  });

  it('a container entry without a signature is noise, judged from its text alone', () => {
    for (const sample of noiseSamples().filter((s) => s.entry.resource?.type === 'k8s_container')) {
      const route = routeOf(asDelivery(sample.raw)).path;
      assert.ok(route === 'noise' || route === 'container', `${sample.file}: ${route}`);
    }
    const noise = failureEntry({ namespace: 'checkout', pod: 'cart-6d8-a', at: 0, text: 'GET /healthz 200' });
    assert.equal(routeOf(asDelivery(noise)).path, 'noise');
  });

  it('a failure, bare or delivered, takes the container path; a Monitoring notification its own', () => {
    const entry = failureEntry({ namespace: 'checkout', pod: 'cart-6d8-a', at: 0, text: TEXT.goDenied });
    assert.equal(routeOf(asDelivery(entry)).path, 'container');
    assert.equal(routeOf(entry).path, 'container');
    assert.equal(routeOf(asDelivery(monitoringFixture('open'))).path, 'monitoring');
    assert.equal(routeOf(monitoringFixture('open')).path, 'monitoring');
  });
});
