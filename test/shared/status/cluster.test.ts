import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSnapshotFile } from '../../../shared/live/snapshot-file.ts';
import {
  clusterDetail,
  clusterDoc,
  clusterNotFoundDoc,
  findClusters,
} from '../../../shared/status/cluster.ts';
import { renderDocText } from '../../../shared/status/doc.ts';
import { bindingFinding } from '../../support/findings.ts';
import { FIXTURES } from '../../support/paths.ts';
import { poolFinding } from '../notify/slack-incident.ts';
import { incidentOf } from './incidents.ts';

const ORG = readSnapshotFile(join(FIXTURES, 'snapshot.json'));

/** The fixture with a second project holding another cluster named core-1. */
function twoProjects() {
  const snapshot = structuredClone(ORG);
  const copy = structuredClone(snapshot.projects[0]);
  assert.ok(copy);
  copy.projectId = 'orbit-dev';
  snapshot.projects.push(copy);
  return snapshot;
}

describe('findClusters', () => {
  it('finds a cluster by name or by PROJECT/LOCATION/NAME, and asks which when a name is ambiguous', () => {
    const one = findClusters(ORG, 'edge-1');
    assert.equal(one.found === 'one' && one.match.cluster.location, 'us-east1-b');
    assert.deepEqual(findClusters(ORG, 'nope'), { found: 'none' });
    assert.deepEqual(findClusters(undefined, 'edge-1'), { found: 'none' });
    const org = twoProjects();
    assert.deepEqual(findClusters(org, 'core-1'), {
      found: 'many',
      candidates: ['orbit-prod/europe-west4/core-1', 'orbit-dev/europe-west4/core-1'],
    });
    const exact = findClusters(org, 'orbit-dev/europe-west4/core-1');
    assert.equal(exact.found === 'one' && exact.match.project.projectId, 'orbit-dev');
  });

  it('answers a cluster it does not know with the ones it knows, and an ambiguous one with the commands to type', () => {
    const text = renderDocText(clusterNotFoundDoc('nope', { found: 'none' }, ORG));
    assert.match(
      text,
      /^ℹ️ No cluster nope in the last inventory\nClusters I know:\n {2}core-1, edge-1, sandbox/,
    );
    const many = renderDocText(
      clusterNotFoundDoc('core-1', findClusters(twoProjects(), 'core-1') as never, ORG),
    );
    assert.match(
      many,
      /2 clusters are named core-1: which one\?\n· \/wi-status orbit-prod\/europe-west4\/core-1/,
    );
  });
});

describe('clusterDetail and clusterDoc', () => {
  const core = findClusters(ORG, 'core-1');
  assert.ok(core.found === 'one');
  const edge = findClusters(ORG, 'edge-1');
  assert.ok(edge.found === 'one');

  it('lists pools with their WI pods, WI KSAs broken first, and the incidents that touch the cluster', () => {
    const binding = incidentOf(bindingFinding(), '2026-11-29T09:00:00Z');
    const pool = incidentOf(poolFinding(), '2026-11-29T09:30:00Z');
    const elsewhere = incidentOf(
      poolFinding({
        fingerprint: 'nodepool-metadata-disabled/x',
        cluster: { location: 'us-east1-b', name: 'edge-1' },
      }),
      '2026-11-29T09:40:00Z',
    );
    const detail = clusterDetail(ORG, core.match, [binding, pool, elsewhere]);
    assert.deepEqual(
      detail.pools.map((p) => [p.name, p.mode, p.wiPods]),
      [
        ['general', 'GKE_METADATA', 2],
        ['highmem', 'GKE_METADATA', 1],
        ['spot', 'GKE_METADATA', 2],
      ],
    );
    assert.deepEqual(
      detail.ksas.map((k) => `${k.namespace}/${k.name}`),
      ['search/indexer', 'checkout/cart', 'checkout/pricing', 'search/query'],
    );
    assert.deepEqual(
      detail.incidents.map((i) => i.kind),
      ['binding-missing', 'nodepool-metadata-disabled'],
    );
    const text = renderDocText(clusterDoc(detail));
    assert.match(
      text,
      /^❌ core-1 \(orbit-prod · europe-west4\): 2 open incidents, 1 KSA with a broken link\n/,
    );
    assert.match(
      text,
      /\n {2}✗ search\/indexer → indexer@orbit-prod\.iam\.gserviceaccount\.com · 1 pod\n {6}✗ key file: 1 of 1 set GOOGLE_APPLICATION_CREDENTIALS/,
    );
    assert.match(text, /`\/wi-status NAMESPACE\/KSA --cluster core-1` checks every link of one KSA/);
  });

  it('calls a cluster with nothing wrong healthy, and marks a pool off the metadata server', () => {
    assert.match(
      renderDocText(clusterDoc(clusterDetail(ORG, edge.match, []))),
      /^✅ edge-1 \(orbit-prod · us-east1-b\): healthy/,
    );
    const changed = structuredClone(ORG);
    const cluster = changed.projects[0]?.clusters.find((c) => c.name === 'edge-1');
    const only = cluster?.nodePools[0];
    assert.ok(cluster && only);
    only.workloadMetadataMode = 'GCE_METADATA';
    const found = findClusters(changed, 'edge-1');
    assert.ok(found.found === 'one');
    const text = renderDocText(clusterDoc(clusterDetail(changed, found.match, [])));
    assert.match(text, /^❌ edge-1 .*: 1 KSA with a broken link, 1 pool off the GKE metadata server/);
    assert.match(text, /✗ default-pool: GCE_METADATA · 2 WI pods act as the node’s service account/);
  });

  it('cuts a long KSA list and counts the rest', () => {
    const doc = clusterDoc(clusterDetail(ORG, core.match, []), { maxKsas: 2 });
    const ksas = doc.sections.find((s) => s.heading?.startsWith('WI KSAs'));
    assert.deepEqual(ksas?.more, { count: 2, what: 'KSAs' });
  });
});
