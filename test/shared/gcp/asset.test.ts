import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { LookupError } from '../../../shared/errors.ts';
import { ASSET_TYPES } from '../../../shared/gcp/asset.ts';
import { serviceDisabledBody } from '../../fakes/asset.ts';
import { FAKE_TOKEN, type LiveFakes, startLiveFakes } from '../../support/live-fakes.ts';
import { ORBIT, variant } from '../../support/snapshots.ts';

const ORG = 'organizations/433637338589';
const hierarchy = {
  organization: '433637338589',
  folders: { '2001': ORG, '2002': 'folders/2001' },
  parents: { 'orbit-prod': 'folders/2002' },
};

describe('Asset Inventory adapter against the fake Cloud Asset Inventory', () => {
  let fakes: LiveFakes;

  before(async () => {
    const snapshot = variant((s) => {
      const orbit = s.projects[0];
      if (!orbit) throw new Error('no project');
      orbit.iamPolicy = {
        bindings: [{ role: 'roles/editor', members: [`serviceAccount:${ORBIT.deployer}`] }],
      };
      s.projects.push({ projectId: 'quiet-project', clusters: [], serviceAccounts: [] });
    });
    fakes = await startLiveFakes(snapshot, { hierarchy, assetPageSize: 3 });
  });
  after(() => fakes.stop());
  beforeEach(() => {
    fakes.clearFaults();
    fakes.clearCalls();
  });

  it('searches resources page by page, asking for the resource itself and the same parameters on every page', async () => {
    const found = await fakes.assetPort().searchResources(ORG, [ASSET_TYPES.cluster, ASSET_TYPES.nodePool]);
    assert.deepEqual(
      found.map((resource) => resource.name.replace('//container.googleapis.com/projects/orbit-prod/', '')),
      [
        'locations/europe-west4-a/clusters/sandbox',
        'locations/europe-west4-a/clusters/sandbox/nodePools/default-pool',
        'locations/europe-west4/clusters/core-1',
        'locations/europe-west4/clusters/core-1/nodePools/general',
        'locations/europe-west4/clusters/core-1/nodePools/highmem',
        'locations/europe-west4/clusters/core-1/nodePools/spot',
        'locations/us-east1-b/clusters/edge-1',
        'locations/us-east1-b/clusters/edge-1/nodePools/default-pool',
      ],
    );
    const core = found.find((resource) => resource.name.endsWith('/clusters/core-1'));
    assert.equal(core?.assetType, ASSET_TYPES.cluster);
    assert.equal(core?.project, 'projects/731604512345');
    assert.equal(core?.updateTime, '2026-01-01T00:00:00Z');
    assert.deepEqual(core?.resource?.workloadIdentityConfig, { workloadPool: ORBIT.pool });
    const calls = fakes.assets.calls;
    assert.equal(calls.length, 3, 'eight results, three a page');
    for (const call of calls) {
      assert.equal(call.path, `/v1/${ORG}:searchAllResources`);
      assert.equal(call.query.pageSize, '500');
      assert.equal(call.query.readMask, 'name,assetType,project,updateTime,state,versionedResources');
      assert.equal(call.authorized, true);
    }
    assert.equal(calls[0]?.query.pageToken, undefined);
    assert.ok(calls[1]?.query.pageToken);
  });

  it('scopes a search to a folder or a project, by id or number', async () => {
    const assets = fakes.assetPort();
    const projects = async (scope: string) =>
      (await assets.searchResources(scope, [ASSET_TYPES.project])).map((r) => r.resource?.projectId);
    assert.deepEqual(await projects(ORG), ['orbit-prod', 'quiet-project']);
    assert.deepEqual(await projects('folders/2001'), ['orbit-prod']);
    assert.deepEqual(await projects('projects/orbit-prod'), ['orbit-prod']);
    assert.deepEqual(await projects('projects/731604512345'), ['orbit-prod']);
  });

  it('searches whole policies on service accounts and projects', async () => {
    const policies = await fakes
      .assetPort()
      .searchPolicies(ORG, [ASSET_TYPES.serviceAccount, ASSET_TYPES.project]);
    const project = policies.find((p) => p.assetType === ASSET_TYPES.project);
    assert.equal(project?.resource, '//cloudresourcemanager.googleapis.com/projects/731604512345');
    assert.deepEqual(project?.policy, {
      bindings: [{ role: 'roles/editor', members: [`serviceAccount:${ORBIT.deployer}`] }],
    });
    const cart = policies.find((p) => p.resource.endsWith('/serviceAccounts/104200000000000000011'));
    assert.ok(cart?.policy.bindings.some((b) => b.role === 'roles/iam.workloadIdentityUser'));
    assert.ok(
      fakes.assets.calls.every((call) => call.query.query === undefined && call.query.readMask === undefined),
    );
  });

  it('a refusal is a LookupError naming the permission; a disabled API says so', async () => {
    fakes.assets.fault({ match: 'searchAllIamPolicies', status: 403 });
    await assert.rejects(fakes.assetPort().searchPolicies(ORG, [ASSET_TYPES.project]), (error: unknown) => {
      assert.ok(error instanceof LookupError);
      assert.equal(error.status, 403);
      assert.equal(error.permission, 'cloudasset.assets.searchAllIamPolicies');
      return true;
    });
    fakes.clearFaults();
    fakes.assets.fault({ match: 'searchAllResources', status: 403, body: serviceDisabledBody('wi-host') });
    await assert.rejects(
      fakes.assetPort().searchResources(ORG, [ASSET_TYPES.project]),
      /403 .*Cloud Asset API has not been used in project wi-host before or it is disabled/,
    );
  });
});

describe('the fake Cloud Asset Inventory keeps the API’s rules', () => {
  let fakes: LiveFakes;
  before(async () => {
    fakes = await startLiveFakes(
      variant(() => {}),
      { hierarchy },
    );
  });
  after(() => fakes.stop());

  const get = async (query: string) => {
    const response = await fetch(`${fakes.assets.url}/v1/${ORG}:searchAllResources?${query}`, {
      headers: { authorization: `Bearer ${FAKE_TOKEN}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('caps a page at 500, refuses a page token given with other parameters, an unknown type or field', async () => {
    const first = await get(`assetTypes=${ASSET_TYPES.nodePool}&pageSize=2`);
    assert.equal((first.body.results as unknown[]).length, 2);
    const token = first.body.nextPageToken as string;
    assert.equal((await get(`assetTypes=${ASSET_TYPES.nodePool}&pageSize=2&pageToken=${token}`)).status, 200);
    assert.equal((await get(`assetTypes=${ASSET_TYPES.cluster}&pageSize=2&pageToken=${token}`)).status, 400);
    assert.equal((await get('assetTypes=compute.googleapis.com/Nothing')).status, 400);
    assert.equal((await get('readMask=name,nonsense')).status, 400);
    const all = await get('pageSize=100000');
    assert.ok((all.body.results as unknown[]).length <= 500);
    const bare = await get(`assetTypes=${ASSET_TYPES.cluster}`);
    assert.ok(
      (bare.body.results as Record<string, unknown>[]).every((r) => r.versionedResources === undefined),
    );
    assert.equal((await get('')).status, 200);
    const response = await fetch(`${fakes.assets.url}/v1/organizations/1:searchAllResources`, {
      headers: { authorization: `Bearer ${FAKE_TOKEN}` },
    });
    assert.equal(response.status, 403);
  });
});

describe('Resource Manager projects adapter against the fake', () => {
  let fakes: LiveFakes;
  before(async () => {
    const snapshot = variant((s) => {
      s.projects.push({ projectId: 'quiet-project', clusters: [], serviceAccounts: [] });
      s.projects.push({ projectId: 'deep-project', clusters: [], serviceAccounts: [] });
    });
    fakes = await startLiveFakes(snapshot, {
      hierarchy: { ...hierarchy, parents: { ...hierarchy.parents, 'deep-project': 'folders/2002' } },
      maxPageSize: 1,
    });
  });
  after(() => fakes.stop());

  it('finds every project below an organization or a folder, at any depth', async () => {
    const projects = fakes.projectsPort();
    assert.deepEqual(await projects.projectsUnder(ORG), ['deep-project', 'orbit-prod', 'quiet-project']);
    assert.deepEqual(await projects.projectsUnder('folders/2002'), ['deep-project', 'orbit-prod']);
    const kinds = new Set(fakes.iam.calls.map((call) => call.kind));
    assert.deepEqual([...kinds].sort(), ['resourcemanager.folders.list', 'resourcemanager.projects.list']);
  });
});
