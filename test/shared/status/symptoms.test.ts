import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { WindowState } from '../../../shared/domain/symptom-group.ts';
import { diagnose } from '../../../shared/live/diagnose.ts';
import { readSnapshotFile } from '../../../shared/live/snapshot-file.ts';
import { snapshotState } from '../../../shared/live/snapshot-state.ts';
import { clusterDetail, clusterDoc, findClusters } from '../../../shared/status/cluster.ts';
import { diagnoseDoc } from '../../../shared/status/diagnose-doc.ts';
import { renderDocText } from '../../../shared/status/doc.ts';
import { renderSummaryText, summarize, summaryDoc, summaryTitle } from '../../../shared/status/summary.ts';
import { countText, ksaSymptoms, type StatusGroup, statusSymptoms } from '../../../shared/status/symptoms.ts';
import type { Symptom } from '../../../shared/symptoms/classify.ts';
import type { PodIdentity } from '../../../shared/symptoms/resolve.ts';
import { emptyWindow, observe } from '../../../shared/symptoms/window.ts';
import { bindingFinding } from '../../support/findings.ts';
import { FIXTURES } from '../../support/paths.ts';
import { incidentOf } from './incidents.ts';

const ORG = readSnapshotFile(join(FIXTURES, 'snapshot.json'));
/** The fixture without its key-file pod, so the inventory alone shows nothing broken. */
const HEALTHY = structuredClone(ORG);
for (const pod of HEALTHY.projects[0]?.clusters[0]?.pods ?? []) pod.env = [];

const CORE = { location: 'europe-west4', name: 'core-1' };
const EDGE = { location: 'us-east1-b', name: 'edge-1' };
const NOW = new Date('2026-11-28T10:20:00Z');

let serial = 0;
function symptom(at: string, over: Partial<Symptom> = {}): Symptom {
  serial += 1;
  return {
    kind: 'token-denied',
    library: 'go',
    signature: 'go/token-denied',
    project: 'orbit-prod',
    cluster: CORE,
    namespace: 'checkout',
    pod: 'cart-6d8-a',
    container: 'cart',
    message: 'compute: Received 403 `Unable to generate access token; IAM returned 403 Forbidden`',
    time: at,
    insertId: `i${serial}`,
    ...over,
  };
}

const cart: PodIdentity = { ksa: 'cart', gsa: 'cart@orbit-prod.iam.gserviceaccount.com', match: 'pod' };

/** Failures through the real window: cart in core-1 failing since 10:02, an unknown KSA, the metadata server. */
function failures(): WindowState {
  let state = emptyWindow();
  const add = (s: Symptom, identity?: PodIdentity) => {
    state = observe(state, s, identity).state;
  };
  // 30 failures from 10:02 to 10:04:54 (long ago: outside the window ending 10:20), 12 from 10:10.
  for (let i = 0; i < 30; i++)
    add(symptom(new Date(Date.parse('2026-11-28T10:02:00Z') + i * 6_000).toISOString()), cart);
  for (let i = 0; i < 12; i++)
    add(symptom(new Date(Date.parse('2026-11-28T10:10:00Z') + i * 30_000).toISOString()), cart);
  add(symptom('2026-11-28T10:15:00Z', { pod: 'toolbox-x', namespace: 'checkout' }));
  add(
    symptom('2026-11-28T10:01:00Z', {
      namespace: 'kube-system',
      pod: 'gke-metadata-server-7xk2p',
      container: 'gke-metadata-server',
      library: 'gke-metadata-server',
      kind: 'metadata-server-error',
    }),
  );
  return state;
}

const alertGroup: StatusGroup = {
  key: 'orbit-prod/us-east1-b/edge-1/~monitoring/metadata-server-errors',
  project: 'orbit-prod',
  cluster: EDGE,
  namespace: '',
  firstSeen: '2026-11-28T10:05:00Z',
  lastSeen: '2026-11-28T10:05:00Z',
  count: 0,
  buckets: [],
  kinds: { 'metadata-server-error': 1 },
  libraries: {},
  pods: [],
  nodePools: [],
  workloads: [],
  samples: [],
  recentIds: [],
  alert: { state: 'open', startedAt: '2026-11-28T10:05:00Z', observedValue: '0.034', thresholdValue: '0.01' },
};

const groups = (): StatusGroup[] => Object.values(failures().groups);

describe('statusSymptoms', () => {
  it('counts each group through symptomCounts: all since it opened, and in the window ending now', () => {
    const symptoms = statusSymptoms(groups(), NOW);
    assert.deepEqual(
      symptoms.counts.map((c) => [c.key, c.count, c.recent]),
      [
        ['orbit-prod/europe-west4/core-1/checkout/*', 1, 1],
        ['orbit-prod/europe-west4/core-1/checkout/cart', 42, 12],
        ['orbit-prod/europe-west4/core-1/kube-system/*', 1, 0],
      ],
    );
    const count = ksaSymptoms(symptoms, 'orbit-prod', CORE, 'checkout', 'cart');
    assert.equal(count?.ratePerMinute, 0.8);
    assert.equal(
      countText(count as never, symptoms),
      '12 in the last 15 min (0.8/min), 42 since 2026-11-28 10:02 UTC, last 4 min ago',
    );
    assert.equal(
      ksaSymptoms(symptoms, 'orbit-prod', EDGE, 'checkout', 'cart'),
      undefined,
      'same KSA, other cluster',
    );
  });

  it('takes open Monitoring alerts apart, and leaves closed ones and empty groups out', () => {
    const closed: StatusGroup = {
      ...alertGroup,
      key: 'closed',
      alert: { state: 'closed', startedAt: '2026-11-28T09:00:00Z' },
    };
    const symptoms = statusSymptoms([alertGroup, closed], NOW);
    assert.deepEqual(symptoms.counts, []);
    assert.deepEqual(symptoms.alerts, [
      {
        project: 'orbit-prod',
        cluster: EDGE,
        startedAt: '2026-11-28T10:05:00Z',
        observedValue: '0.034',
        thresholdValue: '0.01',
      },
    ]);
  });
});

describe('/wi-status with credential failures', () => {
  const symptoms = statusSymptoms([...groups(), alertGroup], NOW);

  it('the summary: a warning title while no incident is open, the failing groups, each cluster’s count', () => {
    const summary = summarize([], HEALTHY, symptoms);
    assert.equal(
      summaryTitle(summary),
      '⚠️ No open incident, but workloads logged 13 credential failures in the last 15 min, and the GKE metadata server errs in 1 cluster',
    );
    assert.deepEqual(summary.clusters[0]?.failures, { recent: 13, groups: 2 });
    assert.equal(summary.clusters[1]?.metadataAlert?.observedValue, '0.034');
    const text = renderSummaryText(summary);
    assert.equal(
      text.split('\n').slice(0, 10).join('\n'),
      [
        '⚠️ No open incident, but workloads logged 13 credential failures in the last 15 min, and the GKE metadata server errs in 1 cluster',
        'Credential failures (13 in the last 15 min):',
        '  ⚠️ The GKE metadata server of edge-1 errs: more than 1% of its answers were errors (0.034 > 0.01), open in Cloud Monitoring since 2026-11-28 10:05 UTC (15 min ago)',
        '  🔥 core-1 checkout/cart: 12 in the last 15 min (0.8/min), 42 since 2026-11-28 10:02 UTC, last 4 min ago',
        '  🔥 core-1 checkout/* (pods of an unknown KSA): 1 in the last 15 min (0.2/min), 1 since 2026-11-28 10:15 UTC, last 5 min ago',
        '  🔥 core-1 the GKE metadata server (kube-system): 1 since 2026-11-28 10:01 UTC, quiet since 2026-11-28 10:01 UTC (19 min ago)',
        '✗ orbit-prod/europe-west4/core-1: WI on · 4 WI KSAs · 4 workloads (5 pods) · 🔥 13 credential failures in the last 15 min',
        '    pools: ✓ general GKE_METADATA, ✓ highmem GKE_METADATA, ✓ spot GKE_METADATA',
        '✗ orbit-prod/us-east1-b/edge-1: WI on · 1 WI KSA · 1 workload (2 pods) · ⚠️ metadata server errors',
        '    pools: ✓ default-pool GKE_METADATA',
      ].join('\n'),
    );
    assert.match(text, /open incidents, workloads’ credential failures and the last inventory/);
  });

  it('the summary: an open incident still decides the title; failures are listed beside it', () => {
    const binding = incidentOf(bindingFinding(), '2026-11-28T10:01:30Z');
    const summary = summarize([binding], HEALTHY, symptoms);
    assert.equal(summaryTitle(summary), '❌ Workload Identity is broken: 1 critical open');
    const doc = summaryDoc(summary, { maxFailures: 1 });
    assert.deepEqual(
      doc.sections.map((s) => s.heading),
      ['Open incidents (1)', 'Credential failures (13 in the last 15 min)', undefined],
    );
    assert.deepEqual(doc.sections[1]?.more, { count: 2, what: 'groups' });
  });

  it('the summary without symptom groups reads as before, and says when they could not be read', () => {
    const quiet = summarize([], HEALTHY, statusSymptoms([], NOW));
    assert.equal(summaryTitle(quiet), '✅ Workload Identity is healthy');
    assert.equal(quiet.clusters[0]?.failures?.recent, 0);
    const without = summarize([], HEALTHY);
    assert.equal(without.clusters[0]?.failures, undefined);
    const text = renderSummaryText(without, {
      symptomsUnavailable: 'the symptom store did not answer within 2000 ms',
    });
    assert.match(text, /⚠️ Credential failures not shown: the symptom store did not answer within 2000 ms\./);
    assert.doesNotMatch(text, /🔥/);
  });

  it('a cluster: the count beside each KSA, failing KSAs first, the rest of the cluster’s failures apart', () => {
    const lookup = findClusters(HEALTHY, 'core-1');
    assert.ok(lookup.found === 'one');
    const detail = clusterDetail(HEALTHY, lookup.match, [], symptoms);
    assert.deepEqual(
      detail.ksas.map((k) => `${k.namespace}/${k.name}`),
      ['checkout/cart', 'checkout/pricing', 'search/indexer', 'search/query'],
    );
    const text = renderDocText(clusterDoc(detail));
    assert.match(
      text,
      /^❌ core-1 \(orbit-prod · europe-west4\): 13 credential failures in the last 15 min\n/,
    );
    assert.match(
      text,
      /\n {2}⚠️ checkout\/cart → cart@orbit-prod\.iam\.gserviceaccount\.com · 2 pods\n {6}🔥 42 credential failures: 12 in the last 15 min \(0\.8\/min\), 42 since 2026-11-28 10:02 UTC, last 4 min ago\n {2}✓ checkout\/pricing/,
    );
    assert.match(
      text,
      /Other credential failures \(2\):\n {2}🔥 checkout\/\* \(pods of an unknown KSA\): 1 in the last 15 min.*\n {2}🔥 the GKE metadata server \(kube-system\): 1 since/,
    );
    assert.match(text, /the open incidents and workloads’ credential failures/);
  });

  it('a cluster with the metadata server’s alert open says so first; one without failures is unchanged', () => {
    const edge = findClusters(HEALTHY, 'edge-1');
    assert.ok(edge.found === 'one');
    const text = renderDocText(clusterDoc(clusterDetail(HEALTHY, edge.match, [], symptoms)));
    assert.match(text, /^❌ edge-1 \(orbit-prod · us-east1-b\): metadata server errors\n/);
    assert.match(
      text,
      /\nℹ️ 1 WI KSA, 2 WI pods, 0 NetworkPolicies\n⚠️ The GKE metadata server errs: more than 1% of its answers were errors/,
    );
    const plain = renderDocText(clusterDoc(clusterDetail(HEALTHY, edge.match, [])));
    const quiet = renderDocText(clusterDoc(clusterDetail(HEALTHY, edge.match, [], statusSymptoms([], NOW))));
    assert.match(plain, /^✅ edge-1 \(orbit-prod · us-east1-b\): healthy/);
    assert.equal(quiet.split('\n')[0], plain.split('\n')[0]);
    assert.doesNotMatch(quiet, /🔥|Other credential failures/);
  });

  it('a KSA’s chain: the failures of its pods in each cluster, above the links that may explain them', async () => {
    const state = snapshotState(() => HEALTHY);
    const reports = await Promise.all(
      [CORE, EDGE].map((cluster) =>
        diagnose(state, { project: 'orbit-prod', cluster, namespace: 'checkout', name: 'cart' }),
      ),
    );
    const text = renderDocText(diagnoseDoc(reports, { source: 'the snapshot', symptoms }));
    assert.match(
      text,
      /\norbit-prod\/europe-west4\/core-1:\n {2}🔥 42 credential failures: 12 in the last 15 min \(0\.8\/min\), 42 since 2026-11-28 10:02 UTC, last 4 min ago\n {2}✓ 1\. /,
    );
    assert.match(text, /\norbit-prod\/us-east1-b\/edge-1:\n {2}✓ 1\. /, 'no failures of cart in edge-1');
    assert.doesNotMatch(renderDocText(diagnoseDoc(reports, { source: 'the snapshot' })), /🔥/);
  });
});
