import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { parseSnapshot, type Snapshot, type SnapshotCluster } from '../../../shared/inventory/snapshot.ts';
import { exportSnapshot } from '../../../shared/live/export.ts';
import { type LiveFakes, startLiveFakes } from '../../support/live-fakes.ts';
import { loadSnapshot, ORBIT } from '../../support/snapshots.ts';

/** A cluster as the fixture holds it, as live state shows it (Deployments' pods carry pod-template-hash). */
function comparable(cluster: SnapshotCluster) {
  return {
    name: cluster.name,
    location: cluster.location,
    workloadPool: cluster.workloadPool,
    nodePools: cluster.nodePools,
    serviceAccounts: cluster.serviceAccounts,
    pods: cluster.pods.map(({ labels, ...pod }) => {
      const { 'pod-template-hash': _, ...rest } = labels;
      return { ...pod, labels: rest };
    }),
    networkPolicies: cluster.networkPolicies,
  };
}

describe('exportSnapshot: live state as a Snapshot', () => {
  let fakes: LiveFakes;
  before(async () => {
    fakes = await startLiveFakes(loadSnapshot(), { maxPageSize: 2 });
  });
  after(() => fakes.stop());
  beforeEach(() => {
    fakes.clearCalls();
    fakes.clearFaults();
  });

  it('exports the organization the APIs serve, paging through every list, valid against the Snapshot schema', async () => {
    const progress: string[] = [];
    const { snapshot, problems } = await exportSnapshot(fakes.liveState(), [ORBIT.project], {
      onProgress: (line) => progress.push(line),
    });
    assert.deepEqual(problems, []);
    const parsed = parseSnapshot(JSON.parse(JSON.stringify(snapshot)));
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);

    const expected = loadSnapshot().projects[0];
    const project = snapshot.projects[0];
    assert.equal(project?.projectId, ORBIT.project);
    assert.deepEqual(project?.clusters.map(comparable), expected?.clusters.map(comparable));
    assert.deepEqual(
      project?.serviceAccounts,
      expected?.serviceAccounts.map((gsa) => ({
        ...gsa,
        iamPolicy: { ...gsa.iamPolicy, etag: 'BwXhqDvMWdg=', version: 1 },
      })),
    );
    assert.deepEqual(clusterNamed(snapshot, 'core-1').namespaces, [
      { name: 'checkout', labels: { 'kubernetes.io/metadata.name': 'checkout' } },
      { name: 'search', labels: { 'kubernetes.io/metadata.name': 'search' } },
    ]);
    assert.ok(
      fakes.kubernetes.calls.some((call) => call.query.continue),
      'lists came in several pages',
    );
    assert.ok(progress.includes('orbit-prod: 3 clusters, 4 service accounts'), progress.join('\n'));
    assert.ok(
      progress.includes('orbit-prod/europe-west4/core-1: 5 KSAs, 6 running pods, 1 NetworkPolicy'),
      progress.join('\n'),
    );
  });

  it('makes calls linear in clusters and GSAs, none per KSA or pod', async () => {
    await exportSnapshot(fakes.liveState({ kubePageSize: 500 }), [ORBIT.project]);
    const counts = fakes.countByKind();
    assert.equal(counts['gke.listClusters'], 1);
    assert.equal(counts['iam.getIamPolicy'], 4, 'one per GSA');
    assert.equal(counts['resourcemanager.getIamPolicy'], 1);
    assert.equal(counts['kubernetes.getServiceAccount'], undefined);
    assert.equal(counts['gke.getCluster'], undefined);
  });

  it('a cluster whose control plane hangs is a problem naming it; the rest of the sweep completes', async () => {
    fakes.kubernetes.fault({ match: '/clusters/orbit-prod/us-east1-b/edge-1/', hang: true });
    const state = fakes.liveState({
      kubeTimeoutMs: 300,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, deadlineMs: 5_000 },
    });
    const started = Date.now();
    const { snapshot, problems } = await exportSnapshot(state, [ORBIT.project]);
    assert.ok(Date.now() - started < 5_000);
    assert.deepEqual(problems.map((problem) => problem.what).sort(), [
      'cluster us-east1-b/edge-1 NetworkPolicies',
      'cluster us-east1-b/edge-1 namespaces',
      'cluster us-east1-b/edge-1 pods',
      'cluster us-east1-b/edge-1 service accounts',
    ]);
    assert.ok(
      problems.every((problem) => problem.retryable && /did not answer within 300 ms/.test(problem.reason)),
    );
    const edge = clusterNamed(snapshot, 'edge-1');
    assert.match(String(edge.incomplete), /pods: .*did not answer within 300 ms/);
    assert.equal(edge.namespaces, undefined, 'namespaces unread are unknown, not none');
    assert.equal(edge.nodePools.length, 1, 'what GKE said is kept');
    assert.equal(clusterNamed(snapshot, 'core-1').pods.length, 6);
    assert.equal(clusterNamed(snapshot, 'core-1').incomplete, undefined);
  });

  it('a 403 on a GSA policy is a problem naming the permission; the GSA is marked, the others read', async () => {
    fakes.iam.fault({ match: `${ORBIT.indexer}:getIamPolicy`, status: 403 });
    const { snapshot, problems } = await exportSnapshot(fakes.liveState(), [ORBIT.project]);
    assert.deepEqual(
      problems.map(({ reason: _, ...problem }) => problem),
      [
        {
          project: ORBIT.project,
          what: `service account ${ORBIT.indexer}`,
          permission: 'iam.serviceAccounts.getIamPolicy',
          retryable: false,
        },
      ],
    );
    const gsas = snapshot.projects[0]?.serviceAccounts ?? [];
    assert.match(
      String(gsas.find((gsa) => gsa.email === ORBIT.indexer)?.incomplete),
      /iam\.serviceAccounts\.getIamPolicy/,
    );
    assert.equal(gsas.find((gsa) => gsa.email === ORBIT.cart)?.iamPolicy.bindings.length, 1);
  });

  it('a project it may not read is a problem per read, and an empty project in the Snapshot', async () => {
    const { snapshot, problems } = await exportSnapshot(fakes.liveState(), ['someone-elses']);
    assert.deepEqual(
      problems.map((problem) => [problem.what, problem.permission]),
      [
        ['clusters', 'container.clusters.list'],
        ['project IAM policy', 'resourcemanager.projects.getIamPolicy'],
        ['service accounts', 'iam.serviceAccounts.list'],
      ],
    );
    assert.deepEqual(snapshot.projects, [{ projectId: 'someone-elses', clusters: [], serviceAccounts: [] }]);
  });
});

describe('exportSnapshot: zones GKE could not reach', () => {
  it('keeps the clusters GKE listed and reports the missing zones', async () => {
    const fakes = await startLiveFakes(loadSnapshot(), { missingZones: { 'orbit-prod': ['us-west1-a'] } });
    try {
      const { snapshot, problems } = await exportSnapshot(fakes.liveState(), [ORBIT.project]);
      assert.equal(problems.length, 1);
      assert.equal(problems[0]?.what, 'clusters');
      assert.match(problems[0]?.reason ?? '', /GKE did not answer for zones us-west1-a/);
      assert.equal(snapshot.projects[0]?.clusters.length, 3);
    } finally {
      await fakes.stop();
    }
  });
});

function clusterNamed(snapshot: Snapshot, name: string): SnapshotCluster & { incomplete?: unknown } {
  const cluster = snapshot.projects.flatMap((project) => project.clusters).find((c) => c.name === name);
  if (!cluster) throw new Error(`no cluster ${name}`);
  return cluster;
}
