import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSnapshotFile } from '../../../shared/live/snapshot-file.ts';
import { renderSummaryText, summarize, summaryDoc, summaryTitle } from '../../../shared/status/summary.ts';
import { bindingFinding } from '../../support/findings.ts';
import { FIXTURES } from '../../support/paths.ts';
import { poolFinding } from '../notify/slack-incident.ts';
import { incidentOf } from './incidents.ts';

const ORG = readSnapshotFile(join(FIXTURES, 'snapshot.json'));
const binding = incidentOf(bindingFinding(), '2026-11-29T09:00:00Z');
const pool = incidentOf(poolFinding(), '2026-11-29T09:30:00Z');
const hygiene = incidentOf(
  bindingFinding({
    kind: 'gsa-shared',
    severity: 'warning',
    fingerprint: 'gsa-shared/orbit-prod/x',
    summary: 'shared',
  }),
  '2026-11-29T08:00:00Z',
);

describe('summarize', () => {
  it('counts open incidents by severity, most severe and oldest first, and leaves resolved ones out', () => {
    const resolved = {
      ...incidentOf(bindingFinding({ fingerprint: 'binding-missing/old' }), '2026-11-01T00:00:00Z'),
      status: 'resolved' as const,
    };
    const summary = summarize([hygiene, pool, binding, resolved], ORG);
    assert.deepEqual(summary.open, { critical: 2, error: 0, warning: 1, info: 0 });
    assert.deepEqual(
      summary.incidents.map((i) => i.kind),
      ['binding-missing', 'nodepool-metadata-disabled', 'gsa-shared'],
    );
    assert.equal(summary.healthy, false);
  });

  it('describes each cluster: WI on or off, pools and modes, WI KSAs, workloads and pods, what touches it', () => {
    const summary = summarize([binding, pool], ORG);
    assert.deepEqual(
      summary.clusters.map((c) => [
        c.name,
        c.workloadPool ?? 'off',
        c.wiKsas,
        c.wiWorkloads,
        c.wiPods,
        c.brokenKsas,
        c.openIncidents,
      ]),
      [
        // core-1: cart, pricing, indexer, query (default has no WI); indexer sets a key file.
        ['core-1', 'orbit-prod.svc.id.goog', 4, 4, 5, 1, 2],
        ['edge-1', 'orbit-prod.svc.id.goog', 1, 1, 2, 0, 0],
        ['sandbox', 'off', 0, 0, 0, 0, 0],
      ],
    );
    assert.deepEqual(summary.clusters[2]?.pools, [
      { name: 'default-pool', mode: 'GCE_METADATA', healthy: true },
    ]);
  });

  it('without an inventory, says nothing of clusters and says so', () => {
    const summary = summarize([], undefined);
    assert.deepEqual(summary.clusters, []);
    assert.match(renderSummaryText(summary), /No inventory: nothing is known of clusters yet/);
  });
});

describe('the summary’s words', () => {
  const healthyOrg = structuredClone(ORG);
  for (const pod of healthyOrg.projects[0]?.clusters[0]?.pods ?? []) pod.env = [];

  it('is healthy only when nothing above a warning is open and the inventory shows no broken link', () => {
    assert.equal(summaryTitle(summarize([], healthyOrg)), '✅ Workload Identity is healthy');
    assert.equal(
      summaryTitle(summarize([hygiene], healthyOrg)),
      '✅ Workload Identity is healthy (1 open hygiene warning)',
    );
    assert.equal(
      summaryTitle(summarize([binding, pool, hygiene], healthyOrg)),
      '❌ Workload Identity is broken: 2 critical, 1 warning open',
    );
    assert.equal(
      summaryTitle(summarize([], ORG)),
      '⚠️ No open incident, but the last inventory shows broken links in 1 cluster',
    );
    assert.equal(
      summaryTitle(summarize([], healthyOrg), 'the incident store did not answer within 2000 ms'),
      '⚠️ Workload Identity status unknown: the incident store did not answer within 2000 ms',
    );
  });

  it('reads as terminal text: incidents, then clusters with something wrong first', () => {
    const text = renderSummaryText(summarize([binding, pool], ORG));
    assert.equal(
      text.split('\n').slice(0, 10).join('\n'),
      [
        '❌ Workload Identity is broken: 2 critical open',
        'Open incidents (2):',
        '  🔴 binding-missing: checkout/cart can no longer act as cart@orbit-prod.iam.gserviceaccount.com',
        '  🔴 nodepool-metadata-disabled: Node pool general of core-1 no longer runs the GKE metadata server: 2 KSAs, 5 pods lose their credentials',
        '✗ orbit-prod/europe-west4/core-1: WI on · 4 WI KSAs · 4 workloads (5 pods) · 1 broken · 2 open incidents',
        '    pools: ✓ general GKE_METADATA, ✓ highmem GKE_METADATA, ✓ spot GKE_METADATA',
        '✓ orbit-prod/us-east1-b/edge-1: WI on · 1 WI KSA · 1 workload (2 pods)',
        '    pools: ✓ default-pool GKE_METADATA',
        '✓ orbit-prod/europe-west4-a/sandbox: WI off · 0 WI KSAs · 0 workloads (0 pods)',
        '    pools: default-pool GCE_METADATA',
      ].join('\n'),
    );
    assert.match(text, /`wi-sentinel status CLUSTER`/);
  });

  it('lists at most a screenful and counts the rest', () => {
    const many = Array.from({ length: 8 }, (_, i) =>
      incidentOf(
        bindingFinding({ fingerprint: `binding-missing/f${i}`, summary: `break ${i}` }),
        `2026-11-29T09:0${i}:00Z`,
      ),
    );
    const doc = summaryDoc(summarize(many, ORG), { maxClusters: 1, maxIncidents: 3 });
    assert.deepEqual(doc.sections[0]?.more, { count: 5, what: 'incidents' });
    assert.equal(doc.sections[0]?.lines.length, 3);
    assert.deepEqual(doc.sections[1]?.more, { count: 2, what: 'clusters, all healthy' });
  });
});
