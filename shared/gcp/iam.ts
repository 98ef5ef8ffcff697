import { projectOfEmail } from '../inventory/members.ts';
import type { IamPolicy } from '../inventory/snapshot.ts';
import { allPages, type GoogleHttp, unlessNotFound } from './http.ts';
import type { GsaInfo, IamPort } from './ports.ts';

/**
 * IamPort over the IAM v1 REST API (https://cloud.google.com/iam/docs/reference/rest) and Resource
 * Manager v3 for project policies: plain authorized requests, no client library.
 */
export interface IamAdapterOptions {
  http: GoogleHttp;
  /** Default https://iam.googleapis.com */
  iamUrl?: string;
  /** Default https://cloudresourcemanager.googleapis.com */
  resourceManagerUrl?: string;
  /** serviceAccounts.list page size (IAM's maximum is 100). */
  pageSize?: number;
}

/** The ServiceAccount resource, as IAM returns it (fields we read). */
export interface ServiceAccountResource {
  email?: string;
  projectId?: string;
  uniqueId?: string;
  disabled?: boolean;
}

interface PolicyResource {
  bindings?: { role: string; members?: string[]; condition?: unknown }[];
  etag?: string;
  version?: number;
}

/** Conditional bindings come back only when version 3 is asked for; without it they are hidden. */
const POLICY_VERSION = 3;

export function createIamPort({
  http,
  iamUrl = 'https://iam.googleapis.com',
  resourceManagerUrl = 'https://cloudresourcemanager.googleapis.com',
  pageSize = 100,
}: IamAdapterOptions): IamPort {
  const iam = trimSlash(iamUrl);
  const resourceManager = trimSlash(resourceManagerUrl);
  const accountUrl = (email: string) => `${iam}/v1/projects/-/serviceAccounts/${encodeURIComponent(email)}`;

  return {
    async getServiceAccount(email) {
      const account = await unlessNotFound(
        http.request<ServiceAccountResource>({
          api: 'iam',
          method: 'GET',
          url: accountUrl(email),
          permission: 'iam.serviceAccounts.get',
          what: `service account ${email}`,
        }),
      );
      return account === undefined ? undefined : toGsaInfo(account, email);
    },

    async getServiceAccountPolicy(email) {
      // IAM v1 takes the policy version as a query parameter here (Resource Manager takes it in the body).
      const policy = await http.request<PolicyResource>({
        api: 'iam',
        method: 'POST',
        url: `${accountUrl(email)}:getIamPolicy?options.requestedPolicyVersion=${POLICY_VERSION}`,
        permission: 'iam.serviceAccounts.getIamPolicy',
        what: `IAM policy of service account ${email}`,
      });
      return toPolicy(policy);
    },

    async listServiceAccounts(project) {
      const pages = await allPages<{ accounts?: ServiceAccountResource[]; nextPageToken?: string }>(http, {
        api: 'iam',
        url: `${iam}/v1/projects/${encodeURIComponent(project)}/serviceAccounts`,
        query: new URLSearchParams({ pageSize: String(pageSize) }),
        permission: 'iam.serviceAccounts.list',
        what: `service accounts of project ${project}`,
      });
      return pages.flatMap((page) =>
        (page.accounts ?? []).map((account) => toGsaInfo(account, account.email ?? '', project)),
      );
    },

    async getProjectPolicy(project) {
      const policy = await http.request<PolicyResource>({
        api: 'cloudresourcemanager',
        method: 'POST',
        url: `${resourceManager}/v3/projects/${encodeURIComponent(project)}:getIamPolicy`,
        body: { options: { requestedPolicyVersion: POLICY_VERSION } },
        permission: 'resourcemanager.projects.getIamPolicy',
        what: `IAM policy of project ${project}`,
      });
      return toPolicy(policy);
    },
  };
}

export function toGsaInfo(account: ServiceAccountResource, email: string, project?: string): GsaInfo {
  return {
    email: account.email ?? email,
    ...(account.uniqueId ? { uniqueId: account.uniqueId } : {}),
    disabled: account.disabled === true,
    project: account.projectId ?? project ?? projectOfEmail(email) ?? '',
  };
}

/** Proto3 JSON omits empty lists: a policy with no bindings comes back as `{ etag }`. */
export function toPolicy(policy: PolicyResource): IamPolicy {
  return {
    bindings: (policy.bindings ?? []).map((binding) => ({
      role: binding.role,
      members: binding.members ?? [],
      ...(binding.condition === undefined ? {} : { condition: binding.condition }),
    })),
    ...(policy.etag === undefined ? {} : { etag: policy.etag }),
    ...(policy.version === undefined ? {} : { version: policy.version }),
  };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
