import type { GoogleHttp } from './http.ts';

/**
 * What wi-sentinel's reads need in each watched project (the read-only role of infra/iam.tf):
 * clusters and node pools, the Kubernetes objects of a Workload Identity chain (through GKE's IAM
 * authorizer: kube.ts lists each kind, and reads one ServiceAccount by name), GSAs and the policies on
 * them and on the project.
 */
export const READ_PERMISSIONS = [
  'container.clusters.get',
  'container.clusters.list',
  'container.namespaces.list',
  'container.networkPolicies.list',
  'container.nodes.list',
  'container.pods.list',
  'container.serviceAccounts.get',
  'container.serviceAccounts.list',
  'iam.serviceAccounts.get',
  'iam.serviceAccounts.getIamPolicy',
  'iam.serviceAccounts.list',
  'resourcemanager.projects.getIamPolicy',
] as const;

/**
 * What reconcile's self-checks read at the sinks' scope (each watched project, the folder or the
 * organization): the audit sink (logging.ts getSink), the audit entries that should have arrived
 * (entries.list) and the metadata-server metric's descriptor (monitoring.ts).
 */
export const SELF_CHECK_PERMISSIONS = [
  'logging.logEntries.list',
  'logging.sinks.get',
  'monitoring.metricDescriptors.get',
] as const;

/** What the self-check that the sink may still publish reads on the audit topic (pubsub-iam.ts). */
export const TOPIC_POLICY_PERMISSIONS = ['pubsub.topics.getIamPolicy'] as const;

/** What the sweep searches through Cloud Asset Inventory over the watched scope (asset.ts). */
export const INVENTORY_PERMISSIONS = [
  'cloudasset.assets.searchAllIamPolicies',
  'cloudasset.assets.searchAllResources',
] as const;

/**
 * What reading a folder or an organization directly needs besides (projects.ts lists what is below
 * it), when the index cannot be used: infra/asset.tf adds these at folder and organization scope.
 */
export const SCOPE_LIST_PERMISSIONS = [
  'resourcemanager.folders.list',
  'resourcemanager.projects.list',
] as const;

/**
 * The custom roles infra/iam.tf and infra/asset.tf create, by name, each holding exactly these permissions
 * (infra/generated/roles.json is generated from this; `wi-sentinel permissions --role NAME` prints one).
 */
export const CUSTOM_ROLES = {
  reader: READ_PERMISSIONS,
  self_check: SELF_CHECK_PERMISSIONS,
  topic_policy: TOPIC_POLICY_PERMISSIONS,
  inventory: INVENTORY_PERMISSIONS,
  scope_list: SCOPE_LIST_PERMISSIONS,
} as const satisfies Record<string, readonly string[]>;

/**
 * Which permissions wi-sentinel's own identity holds on a project: Resource Manager v3
 * `projects.testIamPermissions`, which needs no permission of its own and answers with the subset
 * granted (https://cloud.google.com/resource-manager/reference/rest/v3/projects/testIamPermissions).
 */
export interface PermissionsPort {
  /** The subset of `permissions` the caller holds on `project`. */
  granted(project: string, permissions: readonly string[]): Promise<string[]>;
}

export interface PermissionsAdapterOptions {
  http: GoogleHttp;
  /** Default https://cloudresourcemanager.googleapis.com */
  resourceManagerUrl?: string;
}

export function createPermissionsPort({
  http,
  resourceManagerUrl = 'https://cloudresourcemanager.googleapis.com',
}: PermissionsAdapterOptions): PermissionsPort {
  const base = resourceManagerUrl.replace(/\/+$/, '');
  return {
    async granted(project, permissions) {
      const answer = await http.request<{ permissions?: string[] }>({
        api: 'cloudresourcemanager',
        method: 'POST',
        url: `${base}/v3/projects/${encodeURIComponent(project)}:testIamPermissions`,
        body: { permissions },
        // testIamPermissions itself needs none; a 403 means the project is out of reach altogether.
        permission: 'resourcemanager.projects.get',
        what: `wi-sentinel's permissions on project ${project}`,
      });
      return answer.permissions ?? [];
    },
  };
}
