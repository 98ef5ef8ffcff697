import type { GoogleHttp } from './http.ts';

/**
 * What wi-sentinel's reads need in each watched project (the read-only role of infra/iam.tf):
 * clusters and node pools, the Kubernetes objects of a Workload Identity chain (through GKE's IAM
 * authorizer), GSAs and the policies on them and on the project.
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
