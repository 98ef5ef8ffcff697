/**
 * A fake Cloud Asset Inventory (cloudasset.googleapis.com v1 REST, the two search methods) on
 * 127.0.0.1, answering from the same Snapshot as the GKE, IAM and Kubernetes fakes, with a
 * resource hierarchy (hierarchy.ts) to scope searches by organization, folder or project.
 *
 *   const assets = await startFakeAssets({ snapshot, token, kubernetes: { endpoint, caPem } });
 *   // CLOUD_ASSET_API_URL = assets.url; assets.calls records every request
 *   assets.setSnapshot(older)           // the index lags: serve what it saw before the change
 *   assets.setUpdateTime(name, time)    // when the index saw a resource last change
 *   assets.stripFromClusters(['masterAuth'])  // the index removes some fields it deems sensitive
 *
 * Routes (https://cloud.google.com/asset-inventory/docs/reference/rest/v1/TopLevel):
 * - GET /v1/{scope}:searchAllResources?assetTypes=…&pageSize=…&pageToken=…&readMask=…: projects,
 *   service accounts, clusters and node pools of the scope; `versionedResources` (the resource as
 *   its own API gives it) only when the read mask names it or is `*`, as the API does.
 * - GET /v1/{scope}:searchAllIamPolicies?assetTypes=…&pageSize=…&pageToken=…: the policies set on
 *   service accounts and projects (those with at least one binding), whole.
 * Like the API: a page holds at most 500 results (`maxPageSize` caps it lower, to make tests page;
 * a page size of 0 or less takes the default, 100), a page token is only good with the parameters
 * of the call that issued it (400 otherwise), an unknown asset type or read-mask field is a 400,
 * a scope the caller cannot see a 403. `query` is not served (400): wi-sentinel never sends one.
 * Full resource names: https://cloud.google.com/asset-inventory/docs/asset-names
 */
import { createHash } from 'node:crypto';
import { ASSET_TYPES } from '../../shared/gcp/asset.ts';
import type { Snapshot, SnapshotCluster, SnapshotProject } from '../../shared/inventory/snapshot.ts';
import {
  type FakeAnswer,
  type FakeRequest,
  type FakeRoute,
  type FakeServer,
  googleError,
  startGoogleFake,
} from './fake-server.ts';
import { clusterResource, type FakeGkeOptions, nodePoolResource } from './gke.ts';
import {
  DEFAULT_HIERARCHY,
  type Hierarchy,
  inScope,
  knowsScope,
  parentOf,
  projectNumberOf,
} from './hierarchy.ts';
import { accountResource, policyBindings } from './iam.ts';

export interface FakeAssetsOptions {
  snapshot: Snapshot;
  token: string;
  latencyMs?: number;
  hierarchy?: Hierarchy;
  /** Caps every page below the API's 500, to make tests page. */
  maxPageSize?: number;
  /** What clusters' versioned resources name as their endpoint and CA (the GKE fake's). */
  kubernetes?: FakeGkeOptions['kubernetes'];
  decorate?: FakeGkeOptions['decorate'];
  /** When every resource last changed, unless setUpdateTime says otherwise (default 2026-01-01). */
  updateTime?: string;
}

export interface FakeAssets extends FakeServer {
  setSnapshot(snapshot: Snapshot): void;
  /** When the index saw the resource of this full name last change (RFC 3339). */
  setUpdateTime(name: string, time: string): void;
  /** Every resource back to the default update time. */
  clearUpdateTimes(): void;
  /** Top-level fields left out of clusters' versioned resources from now on ([] restores them). */
  stripFromClusters(fields: readonly string[]): void;
}

const MAX_PAGE = 500;
const DEFAULT_PAGE = 100;
/** What the API returns when the read mask is not given (SearchAllResourcesRequest.read_mask). */
const DEFAULT_FIELDS = [
  'name',
  'assetType',
  'project',
  'folders',
  'organization',
  'displayName',
  'description',
  'location',
  'labels',
  'tags',
  'effectiveTags',
  'networkTags',
  'kmsKeys',
  'createTime',
  'updateTime',
  'state',
  'additionalAttributes',
  'parentFullResourceName',
  'parentAssetType',
];
/** ResourceSearchResult's fields a read mask may name: the large ones only when named. */
const RESOURCE_FIELDS = new Set([
  ...DEFAULT_FIELDS,
  'versionedResources',
  'attachedResources',
  'relationships',
]);

type Result = Record<string, unknown>;

export async function startFakeAssets(options: FakeAssetsOptions): Promise<FakeAssets> {
  let snapshot = options.snapshot;
  const hierarchy = options.hierarchy ?? DEFAULT_HIERARCHY;
  const defaultTime = options.updateTime ?? '2026-01-01T00:00:00Z';
  const updateTimes = new Map<string, string>();
  let stripped: readonly string[] = [];

  const timeOf = (name: string) => updateTimes.get(name) ?? defaultTime;

  function route(request: FakeRequest): FakeRoute {
    const match =
      /^\/v1\/((?:organizations|folders|projects)\/[^/:]+):(searchAllResources|searchAllIamPolicies)$/.exec(
        request.path,
      );
    if (request.method !== 'GET' || !match) {
      return {
        kind: 'asset.unknown',
        answer: () => ({
          status: 404,
          body: googleError(404, `no such method: ${request.method} ${request.path}`),
        }),
      };
    }
    const [, scope = '', method = ''] = match;
    return {
      kind: `asset.${method}`,
      answer: () => search(method, scope, request),
    };
  }

  function search(method: string, scope: string, request: FakeRequest): FakeAnswer {
    const { query } = request;
    if (query.query !== undefined) return invalid('the fake serves no query (wi-sentinel sends none)');
    const types = request.params.getAll('assetTypes');
    const unknown = types.filter((type) => !Object.values<string>(ASSET_TYPES).includes(type));
    if (unknown.length > 0) return invalid(`Invalid asset type: ${unknown.join(', ')}`);
    if (!knowsScope(hierarchy, scope, snapshot.projects)) {
      return {
        status: 403,
        body: googleError(403, `The caller does not have permission on ${scope}, or it does not exist.`),
      };
    }
    let fields = DEFAULT_FIELDS;
    if (method === 'searchAllResources' && query.readMask !== undefined) {
      const asked = query.readMask.split(',').map((field) => field.trim());
      const bad = asked.filter((field) => field !== '*' && !RESOURCE_FIELDS.has(field));
      if (bad.length > 0) return invalid(`Invalid field path in read_mask: ${bad.join(', ')}`);
      fields = asked.includes('*') ? [...RESOURCE_FIELDS] : asked;
    }
    const asked = Number(query.pageSize ?? 0);
    const size = Math.min(asked > 0 ? asked : DEFAULT_PAGE, MAX_PAGE, options.maxPageSize ?? MAX_PAGE);
    // A page token is good only with the parameters that issued it (the API's own rule).
    const params = createHash('sha256')
      .update(`${method} ${scope} ${types.join(',')} ${query.readMask ?? ''} ${size}`)
      .digest('base64url')
      .slice(0, 12);
    let from = 0;
    if (query.pageToken) {
      const [tokenParams, offset] = Buffer.from(query.pageToken, 'base64url').toString().split(':');
      from = Number(offset);
      if (tokenParams !== params || !Number.isInteger(from) || from < 0)
        return invalid('Invalid page token: the request parameters differ from those of the first call.');
    }
    const projects = snapshot.projects.filter((project) => inScope(hierarchy, scope, project));
    const wanted = (type: string) => types.length === 0 || types.includes(type);
    const all =
      method === 'searchAllResources'
        ? projects.flatMap((project) => resourcesOf(project, wanted)).map((result) => pick(result, fields))
        : projects.flatMap((project) => policiesOf(project, wanted));
    all.sort((a, b) => String(a.name ?? a.resource).localeCompare(String(b.name ?? b.resource)));
    const results = all.slice(from, from + size);
    const next =
      from + size < all.length ? Buffer.from(`${params}:${from + size}`).toString('base64url') : '';
    return {
      status: 200,
      body: { ...(results.length > 0 ? { results } : {}), ...(next ? { nextPageToken: next } : {}) },
    };
  }

  function resourcesOf(project: SnapshotProject, wanted: (type: string) => boolean): Result[] {
    const number = projectNumberOf(project);
    const common = (type: string, name: string, location: string) => ({
      name,
      assetType: type,
      project: `projects/${number}`,
      organization: `organizations/${hierarchy.organization}`,
      location,
      updateTime: timeOf(name),
      parentFullResourceName: `//cloudresourcemanager.googleapis.com/projects/${number}`,
    });
    const results: Result[] = [];
    if (wanted(ASSET_TYPES.project)) {
      const name = `//cloudresourcemanager.googleapis.com/projects/${number}`;
      const parent = parentOf(hierarchy, project.projectId);
      results.push({
        ...common(ASSET_TYPES.project, name, 'global'),
        displayName: project.projectId,
        state: 'ACTIVE',
        additionalAttributes: { projectId: project.projectId },
        parentFullResourceName: `//cloudresourcemanager.googleapis.com/${parent}`,
        versionedResources: [
          {
            version: 'v1',
            resource: {
              projectNumber: number,
              projectId: project.projectId,
              lifecycleState: 'ACTIVE',
              name: project.projectId,
              parent: {
                type: parent.startsWith('folders/') ? 'folder' : 'organization',
                id: parent.split('/')[1],
              },
            },
          },
        ],
      });
    }
    if (wanted(ASSET_TYPES.serviceAccount)) {
      for (const gsa of project.serviceAccounts) {
        // Deleted accounts are gone from the index, as from IAM's list.
        if (gsa.deleted) continue;
        const account = accountResource(project, gsa);
        const name = `//iam.googleapis.com/projects/${project.projectId}/serviceAccounts/${account.uniqueId}`;
        results.push({
          ...common(ASSET_TYPES.serviceAccount, name, 'global'),
          displayName: account.displayName,
          additionalAttributes: { email: gsa.email, oauth2ClientId: account.oauth2ClientId },
          versionedResources: [{ version: 'v1', resource: account }],
        });
      }
    }
    for (const cluster of project.clusters) {
      const clusterName = clusterAssetName(project.projectId, cluster);
      if (wanted(ASSET_TYPES.cluster)) {
        const resource = clusterResource(project.projectId, cluster, {
          ...(options.kubernetes ? { kubernetes: options.kubernetes } : {}),
          ...(options.decorate ? { decorate: options.decorate } : {}),
        });
        for (const field of stripped) delete resource[field];
        results.push({
          ...common(ASSET_TYPES.cluster, clusterName, cluster.location),
          displayName: cluster.name,
          state: resource.status,
          versionedResources: [{ version: 'v1', resource }],
        });
      }
      if (wanted(ASSET_TYPES.nodePool)) {
        for (const pool of cluster.nodePools) {
          const name = `${clusterName}/nodePools/${pool.name}`;
          results.push({
            ...common(ASSET_TYPES.nodePool, name, cluster.location),
            displayName: pool.name,
            state: 'RUNNING',
            parentFullResourceName: clusterName,
            versionedResources: [{ version: 'v1', resource: nodePoolResource(pool) }],
          });
        }
      }
    }
    return results;
  }

  function policiesOf(project: SnapshotProject, wanted: (type: string) => boolean): Result[] {
    const number = projectNumberOf(project);
    const results: Result[] = [];
    const base = { project: `projects/${number}`, organization: `organizations/${hierarchy.organization}` };
    if (wanted(ASSET_TYPES.project) && (project.iamPolicy?.bindings.length ?? 0) > 0) {
      results.push({
        ...base,
        resource: `//cloudresourcemanager.googleapis.com/projects/${number}`,
        assetType: ASSET_TYPES.project,
        policy: { bindings: policyBindings(project.iamPolicy?.bindings ?? []) },
      });
    }
    if (wanted(ASSET_TYPES.serviceAccount)) {
      for (const gsa of project.serviceAccounts) {
        if (gsa.deleted || gsa.iamPolicy.bindings.length === 0) continue;
        const { uniqueId } = accountResource(project, gsa);
        results.push({
          ...base,
          resource: `//iam.googleapis.com/projects/${project.projectId}/serviceAccounts/${uniqueId}`,
          assetType: ASSET_TYPES.serviceAccount,
          policy: { bindings: policyBindings(gsa.iamPolicy.bindings) },
        });
      }
    }
    return results;
  }

  const server = await startGoogleFake('asset', options, route);
  return Object.assign(server, {
    setSnapshot(next: Snapshot) {
      snapshot = next;
    },
    setUpdateTime(name: string, time: string) {
      updateTimes.set(name, time);
    },
    clearUpdateTimes() {
      updateTimes.clear();
    },
    stripFromClusters(fields: readonly string[]) {
      stripped = fields;
    },
  });
}

/** `//container.googleapis.com/projects/P/locations/L/clusters/C` */
export function clusterAssetName(
  project: string,
  cluster: Pick<SnapshotCluster, 'location' | 'name'>,
): string {
  return `//container.googleapis.com/projects/${project}/locations/${cluster.location}/clusters/${cluster.name}`;
}

/** The fields of a result the read mask keeps. */
function pick(result: Result, fields: readonly string[]): Result {
  const kept: Result = {};
  for (const field of fields) if (result[field] !== undefined) kept[field] = result[field];
  return kept;
}

function invalid(message: string): FakeAnswer {
  return { status: 400, body: googleError(400, message) };
}

/**
 * What Google answers when the Cloud Asset API is not enabled in the caller's project: a 403 whose
 * details carry `SERVICE_DISABLED` (https://cloud.google.com/apis/design/errors#error_info).
 */
export function serviceDisabledBody(consumerProject: string): unknown {
  return {
    error: {
      code: 403,
      message: `Cloud Asset API has not been used in project ${consumerProject} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/cloudasset.googleapis.com/overview?project=${consumerProject} then retry.`,
      status: 'PERMISSION_DENIED',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'SERVICE_DISABLED',
          domain: 'googleapis.com',
          metadata: { service: 'cloudasset.googleapis.com', consumer: `projects/${consumerProject}` },
        },
      ],
    },
  };
}
