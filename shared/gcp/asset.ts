import type { IamPolicy } from '../inventory/snapshot.ts';
import { allPages, type GoogleHttp } from './http.ts';
import { toPolicy } from './iam.ts';
import type { AssetPolicy, AssetPort, AssetResource } from './ports.ts';

/**
 * AssetPort over Cloud Asset Inventory's REST API (v1 search methods) with the shared Google HTTP
 * client: no client library. `@google-cloud/asset` costs about 240 ms and 25 MB to import here;
 * google-auth-library, which this uses, is loaded by the IAM adapter anyway.
 *
 * - searchAllResources: `GET /v1/{scope}:searchAllResources?assetTypes=…&readMask=…`; the resource
 *   itself comes in `versionedResources`, returned only when the read mask names it.
 *   https://cloud.google.com/asset-inventory/docs/reference/rest/v1/TopLevel/searchAllResources
 * - searchAllIamPolicies: `GET /v1/{scope}:searchAllIamPolicies?assetTypes=…`, no query: a query
 *   would return only the bindings it matches, and the Snapshot holds whole policies.
 *   https://cloud.google.com/asset-inventory/docs/reference/rest/v1/TopLevel/searchAllIamPolicies
 *
 * Both cap a page at 500 results ("Page size is capped at 500 even if a larger value is given") and
 * may return fewer; every page after the first repeats the other parameters exactly.
 * Quotas: 400 searches of each kind a minute per consumer project
 * (https://cloud.google.com/asset-inventory/docs/quota).
 */
export interface AssetAdapterOptions {
  http: GoogleHttp;
  /** Default https://cloudasset.googleapis.com */
  assetUrl?: string;
  /** Results per page asked for; the API caps it at 500. */
  pageSize?: number;
}

export const MAX_SEARCH_PAGE = 500;

/** The asset types wi-sentinel reads (https://cloud.google.com/asset-inventory/docs/asset-types). */
export const ASSET_TYPES = {
  project: 'cloudresourcemanager.googleapis.com/Project',
  serviceAccount: 'iam.googleapis.com/ServiceAccount',
  cluster: 'container.googleapis.com/Cluster',
  nodePool: 'container.googleapis.com/NodePool',
} as const;

/** The fields read of each resource: `versionedResources` is not returned unless named. */
const READ_MASK = 'name,assetType,project,updateTime,state,versionedResources';

interface SearchResourcesPage {
  results?: {
    name?: string;
    assetType?: string;
    project?: string;
    updateTime?: string;
    state?: string;
    versionedResources?: { version?: string; resource?: Record<string, unknown> }[];
  }[];
  nextPageToken?: string;
}

interface SearchPoliciesPage {
  results?: {
    resource?: string;
    assetType?: string;
    project?: string;
    policy?: Parameters<typeof toPolicy>[0];
  }[];
  nextPageToken?: string;
}

export function createAssetPort({
  http,
  assetUrl = 'https://cloudasset.googleapis.com',
  pageSize = MAX_SEARCH_PAGE,
}: AssetAdapterOptions): AssetPort {
  const base = assetUrl.replace(/\/+$/, '');

  /** Every page of one search, in order. */
  function pages<Page extends { nextPageToken?: string }>(
    method: 'searchAllResources' | 'searchAllIamPolicies',
    scope: string,
    params: URLSearchParams,
    what: string,
  ): Promise<Page[]> {
    const query = new URLSearchParams(params);
    query.set('pageSize', String(Math.min(pageSize, MAX_SEARCH_PAGE)));
    return allPages<Page>(http, {
      api: 'cloudasset',
      url: `${base}/v1/${scope}:${method}`,
      query,
      permission: `cloudasset.assets.${method}`,
      what,
    });
  }

  const typesOf = (assetTypes: readonly string[]) => {
    const params = new URLSearchParams();
    for (const type of assetTypes) params.append('assetTypes', type);
    return params;
  };

  return {
    async searchResources(scope, assetTypes) {
      const params = typesOf(assetTypes);
      params.set('readMask', READ_MASK);
      const found = await pages<SearchResourcesPage>(
        'searchAllResources',
        scope,
        params,
        `${assetTypes.join(', ')} in ${scope} (Cloud Asset Inventory)`,
      );
      const resources: AssetResource[] = [];
      for (const page of found) {
        for (const result of page.results ?? []) {
          if (!result.name || !result.assetType) continue;
          const versions = result.versionedResources ?? [];
          const resource = (versions.find((v) => v.version === 'v1') ?? versions[0])?.resource;
          resources.push({
            name: result.name,
            assetType: result.assetType,
            ...(result.project ? { project: result.project } : {}),
            ...(result.updateTime ? { updateTime: result.updateTime } : {}),
            ...(result.state ? { state: result.state } : {}),
            ...(resource ? { resource } : {}),
          });
        }
      }
      return resources;
    },

    async searchPolicies(scope, assetTypes) {
      const found = await pages<SearchPoliciesPage>(
        'searchAllIamPolicies',
        scope,
        typesOf(assetTypes),
        `IAM policies on ${assetTypes.join(', ')} in ${scope} (Cloud Asset Inventory)`,
      );
      const policies: AssetPolicy[] = [];
      for (const page of found) {
        for (const result of page.results ?? []) {
          if (!result.resource || !result.assetType) continue;
          const policy: IamPolicy = toPolicy(result.policy ?? {});
          policies.push({
            resource: result.resource,
            assetType: result.assetType,
            ...(result.project ? { project: result.project } : {}),
            policy,
          });
        }
      }
      return policies;
    },
  };
}
