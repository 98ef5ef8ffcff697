import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../../shared/config.ts';
import { cachedLiveState, limiter, liveStateFromConfig, TtlCache } from '../../../shared/gcp/live.ts';
import { snapshotState } from '../../../shared/live/snapshot-state.ts';
import { HEAVY_MODULE, traceImports } from '../../support/imports.ts';
import { type LiveFakes, startLiveFakes } from '../../support/live-fakes.ts';
import { REPO_ROOT } from '../../support/paths.ts';
import { loadSnapshot, ORBIT } from '../../support/snapshots.ts';

describe('createLiveState: the adapters with a short cache and bounded concurrency', () => {
  let fakes: LiveFakes;
  before(async () => {
    fakes = await startLiveFakes(loadSnapshot());
  });
  after(() => fakes.stop());
  beforeEach(() => {
    fakes.clearCalls();
    fakes.clearFaults();
  });

  it('reads once within the TTL, and concurrent identical reads share one request', async () => {
    const state = fakes.liveState({ ttlMs: 30_000 });
    const [a, b] = await Promise.all([
      state.iam.getServiceAccountPolicy(ORBIT.cart),
      state.iam.getServiceAccountPolicy(ORBIT.cart),
    ]);
    assert.deepEqual(a, b);
    await state.iam.getServiceAccountPolicy(ORBIT.cart);
    assert.equal(fakes.countByKind()['iam.getIamPolicy'], 1);
  });

  it('reads again once the TTL has passed', async () => {
    let now = 1_000_000;
    const state = fakes.liveState({ ttlMs: 30_000, now: () => now });
    await state.iam.getServiceAccount(ORBIT.cart);
    now += 29_000;
    await state.iam.getServiceAccount(ORBIT.cart);
    now += 2_000;
    await state.iam.getServiceAccount(ORBIT.cart);
    assert.equal(fakes.countByKind()['iam.getServiceAccount'], 2);
  });

  it('does not keep a failure: the next read asks again', async () => {
    const state = fakes.liveState({ ttlMs: 30_000 });
    fakes.iam.fault({ match: ':getIamPolicy', status: 403, times: 1 });
    await assert.rejects(state.iam.getServiceAccountPolicy(ORBIT.cart), { status: 403 });
    assert.equal((await state.iam.getServiceAccountPolicy(ORBIT.cart)).bindings.length, 1);
    assert.equal(fakes.countByKind()['iam.getIamPolicy'], 2);
  });

  it('a listed cluster answers getCluster without another call while the list is fresh', async () => {
    const state = fakes.liveState({ ttlMs: 30_000 });
    await state.gke.listClusters(ORBIT.project);
    const core = await state.gke.getCluster({ project: ORBIT.project, ...ORBIT.core });
    assert.equal(core?.workloadPool, ORBIT.pool);
    assert.deepEqual(fakes.countByKind(), { 'gke.listClusters': 1 });
  });

  it('caches reads per cluster and filter', async () => {
    const state = fakes.liveState({ ttlMs: 30_000 });
    const core = await state.gke.getCluster({ project: ORBIT.project, ...ORBIT.core });
    assert.ok(core);
    await state.kube.listPods(core, { namespace: 'checkout' });
    await state.kube.listPods(core, { namespace: 'checkout' });
    await state.kube.listPods(core, { namespace: 'search' });
    assert.equal(fakes.countByKind()['kubernetes.listPods'], 2);
  });

  it('liveStateFromConfig reads the API URLs and the token from the environment', async () => {
    const state = liveStateFromConfig(loadConfig(fakes.env), { ttlMs: 0 });
    assert.equal((await state.gke.listClusters(ORBIT.project)).length, 3);
    assert.equal((await state.iam.getServiceAccount(ORBIT.indexer))?.uniqueId, '104200000000000000012');
    assert.ok(fakes.calls().every((call) => call.authorized));
  });
});

describe('cachedLiveState, TtlCache and limiter', () => {
  it('bounds reads in flight per API', async () => {
    let active = 0;
    let peak = 0;
    const inner = snapshotState(() => loadSnapshot());
    const slow = {
      ...inner,
      iam: {
        ...inner.iam,
        async getServiceAccount(email: string) {
          active += 1;
          peak = Math.max(peak, active);
          await sleep(5);
          active -= 1;
          return inner.iam.getServiceAccount(email);
        },
      },
    };
    const state = cachedLiveState(slow, { ttlMs: 0, concurrency: 3 });
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        state.iam.getServiceAccount(`gsa-${i}@orbit-prod.iam.gserviceaccount.com`),
      ),
    );
    assert.equal(peak, 3);
  });

  it('limiter hands a finished slot to the next waiter, never running more than its bound', async () => {
    const limit = limiter(2);
    const order: string[] = [];
    let active = 0;
    let peak = 0;
    const task = (name: string) =>
      limit(async () => {
        active += 1;
        peak = Math.max(peak, active);
        order.push(name);
        await sleep(1);
        active -= 1;
      });
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map(task));
    assert.equal(peak, 2);
    assert.deepEqual(order, ['a', 'b', 'c', 'd', 'e']);
  });

  it('TtlCache with a TTL of 0 caches nothing', async () => {
    const cache = new TtlCache(0);
    let loads = 0;
    await cache.get('k', async () => ++loads);
    await cache.get('k', async () => ++loads);
    assert.equal(loads, 2);
  });
});

describe('shared/gcp/live.ts import', () => {
  it('loads no client library (they load on first use)', () => {
    const { urls } = traceImports(`
      const live = await import(${JSON.stringify(join(REPO_ROOT, 'shared/gcp/live.ts'))});
      live.createLiveState({ tokens: async () => 't' });
    `);
    assert.ok(urls.length > 5, 'the hook saw the imports');
    assert.deepEqual(
      urls.filter((url) => HEAVY_MODULE.test(url) || /@google-cloud\//.test(url)),
      [],
    );
  });
});
