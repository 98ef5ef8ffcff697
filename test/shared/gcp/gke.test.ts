import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { LookupError } from '../../../shared/errors.ts';
import { IncompleteClusterListError } from '../../../shared/gcp/ports.ts';
import { FAKE_TOKEN, type LiveFakes, startLiveFakes } from '../../support/live-fakes.ts';
import { loadSnapshot, ORBIT } from '../../support/snapshots.ts';

describe('GKE adapter (@google-cloud/container, REST transport) against the fake GKE API', () => {
  let fakes: LiveFakes;
  before(async () => {
    fakes = await startLiveFakes(loadSnapshot(), {
      decorate: (resource, cluster) => {
        // edge-1 has a DNS endpoint open to user traffic; core-1 lists one that does not take it.
        if (cluster.name === 'edge-1') {
          resource.controlPlaneEndpointsConfig = {
            dnsEndpointConfig: { endpoint: 'gke-0a1b2c.us-east1.gke.goog', allowExternalTraffic: true },
          };
        }
        if (cluster.name === 'core-1') {
          resource.controlPlaneEndpointsConfig = {
            dnsEndpointConfig: { endpoint: 'gke-9f8e7d.europe-west4.gke.goog', allowExternalTraffic: false },
          };
        }
        if (cluster.name === 'sandbox') resource.status = 'RECONCILING';
      },
    });
  });
  after(() => fakes.stop());
  beforeEach(() => {
    fakes.clearFaults();
    fakes.clearCalls();
  });

  it('lists every cluster of the project across locations, mapped to the Snapshot shape', async () => {
    const clusters = await fakes.liveState().gke.listClusters(ORBIT.project);
    const call = fakes.gke.calls[0];
    assert.equal(call?.path, '/v1/projects/orbit-prod/locations/-/clusters');
    assert.equal(call?.authorized, true);
    const core = clusters.find((cluster) => cluster.name === 'core-1');
    assert.deepEqual(core, {
      project: ORBIT.project,
      location: 'europe-west4',
      name: 'core-1',
      workloadPool: ORBIT.pool,
      nodePools: [
        { name: 'general', workloadMetadataMode: 'GKE_METADATA' },
        { name: 'highmem', workloadMetadataMode: 'GKE_METADATA' },
        { name: 'spot', workloadMetadataMode: 'GKE_METADATA' },
      ],
      // Its DNS endpoint takes no user traffic: the IP endpoint, with the cluster CA.
      endpoint: fakes.kubernetes.endpoint(ORBIT.project, ORBIT.core),
      caCertificate: Buffer.from(fakes.kubernetes.caPem).toString('base64'),
      status: 'RUNNING',
    });
  });

  it('prefers a DNS endpoint that takes user traffic, with no cluster CA (publicly trusted)', async () => {
    const edge = await fakes.liveState().gke.getCluster({ project: ORBIT.project, ...ORBIT.edge });
    assert.equal(edge?.endpoint, 'gke-0a1b2c.us-east1.gke.goog');
    assert.equal(edge?.caCertificate, undefined);
  });

  it('maps a cluster without Workload Identity and a pool on GCE_METADATA; status by name', async () => {
    const sandbox = await fakes.liveState().gke.getCluster({ project: ORBIT.project, ...ORBIT.sandbox });
    assert.equal(sandbox?.workloadPool, undefined);
    assert.deepEqual(sandbox?.nodePools, [{ name: 'default-pool', workloadMetadataMode: 'GCE_METADATA' }]);
    assert.equal(sandbox?.status, 'RECONCILING');
    // The library asks for numeric enums (the fake sent the pool mode as a number); the adapter gives names.
    assert.match(fakes.gke.calls[0]?.query.$alt ?? '', /enum-encoding=int/);
  });

  it('answers undefined for a cluster that does not exist (404)', async () => {
    const missing = await fakes
      .liveState()
      .gke.getCluster({ project: ORBIT.project, location: 'europe-west4', name: 'nope' });
    assert.equal(missing, undefined);
    assert.equal(fakes.gke.calls[0]?.path, '/v1/projects/orbit-prod/locations/europe-west4/clusters/nope');
    assert.equal(fakes.gke.calls[0]?.answered, 404);
  });

  it('reports a 403 naming container.clusters.list, not an empty project', async () => {
    fakes.gke.fault({ match: '/clusters', status: 403 });
    await assert.rejects(fakes.liveState().gke.listClusters(ORBIT.project), {
      name: 'LookupError',
      status: 403,
      retryable: false,
      permission: 'container.clusters.list',
      message:
        /clusters of project orbit-prod: container answered 403 \(permission denied\); wi-sentinel needs container\.clusters\.list/,
    });
    await assert.rejects(fakes.liveState().gke.getCluster({ project: ORBIT.project, ...ORBIT.core }), {
      permission: 'container.clusters.get',
    });
  });

  it('retries a 503 and then succeeds', async () => {
    fakes.gke.fault({ match: '/clusters', status: 503, times: 1 });
    const clusters = await fakes.liveState().gke.listClusters(ORBIT.project);
    assert.equal(clusters.length, 3);
    assert.deepEqual(
      fakes.gke.calls.map((call) => call.answered),
      [503, 200],
    );
  });

  it('honours a 429 Retry-After', async () => {
    const waits: number[] = [];
    fakes.gke.fault({ match: '/clusters', status: 429, retryAfter: 1, times: 1 });
    const state = fakes.liveState({ hooks: { sleep: async (ms) => void waits.push(ms) } });
    assert.equal((await state.gke.listClusters(ORBIT.project)).length, 3);
    assert.deepEqual(waits, [1_000]);
  });

  it('times out a GKE API that hangs (the REST transport enforces no deadline itself)', async () => {
    fakes.gke.fault({ match: '/clusters', hang: true });
    const state = fakes.liveState({
      timeoutMs: 300,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, deadlineMs: 5_000 },
    });
    await assert.rejects(state.gke.listClusters(ORBIT.project), {
      retryable: true,
      message:
        /clusters of project orbit-prod: container did not answer within 300 ms \(gave up after 2 attempts/,
    });
    assert.equal(fakes.gke.calls.length, 2);
  });

  it('a project it may not see is a 403, never an empty list', async () => {
    await assert.rejects(fakes.liveState().gke.listClusters('someone-elses'), { status: 403 });
  });

  it('never puts the token in an error', async () => {
    fakes.gke.fault({ match: '/clusters', status: 500 });
    const error = await fakes
      .liveState()
      .gke.listClusters(ORBIT.project)
      .then(
        () => assert.fail('resolved'),
        (failure: unknown) => failure,
      );
    assert.ok(error instanceof LookupError);
    const text = `${error.message} ${JSON.stringify(error)} ${String(error.stack)} ${String(error.cause)}`;
    assert.ok(!text.includes(FAKE_TOKEN), text);
  });
});

describe('GKE adapter: zones GKE could not reach', () => {
  it('rejects with the clusters it got and the missing zones, retryable, instead of a silently short list', async () => {
    const fakes = await startLiveFakes(loadSnapshot(), { missingZones: { 'orbit-prod': ['us-east1-c'] } });
    try {
      const error = await fakes
        .liveState()
        .gke.listClusters(ORBIT.project)
        .then(
          () => assert.fail('resolved'),
          (failure: unknown) => failure,
        );
      assert.ok(error instanceof IncompleteClusterListError);
      assert.equal(error.retryable, true);
      assert.deepEqual(error.missingZones, ['us-east1-c']);
      assert.deepEqual(
        error.clusters.map((cluster) => cluster.name),
        ['core-1', 'edge-1', 'sandbox'],
      );
      assert.match(error.message, /GKE did not answer for zones us-east1-c/);
    } finally {
      await fakes.stop();
    }
  });
});
