/**
 * A fake IAM v1 and Resource Manager v3 REST API on 127.0.0.1 (one server: IAM_API_URL and
 * RESOURCE_MANAGER_API_URL both point at it), serving the GSAs and policies of a Snapshot.
 *
 *   const iam = await startFakeIam({ snapshot, token, maxPageSize: 2 });
 *
 * Routes (https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts):
 * - GET  /v1/projects/P/serviceAccounts/EMAIL (P may be `-`): the ServiceAccount; 404 when absent
 *   or deleted.
 * - POST /v1/projects/P/serviceAccounts/EMAIL:getIamPolicy: the policy; proto3 JSON leaves out an
 *   empty `bindings`, as Google does.
 * - GET  /v1/projects/P/serviceAccounts?pageSize=N&pageToken=T: `{ accounts, nextPageToken }`
 *   (pageSize up to 100, or `maxPageSize`; deleted GSAs are not listed).
 * - POST /v3/projects/P:getIamPolicy (Resource Manager): the project's policy.
 * - GET  /v3/projects?parent=X, GET /v3/folders?parent=X (Resource Manager): the direct children of
 *   an organization or folder in the hierarchy (hierarchy.ts), paged (up to 1000, or `maxPageSize`).
 */
import type { Snapshot, SnapshotGsa, SnapshotProject } from '../../shared/inventory/snapshot.ts';
import {
  type FakeAnswer,
  type FakeRequest,
  type FakeRoute,
  type FakeServer,
  googleError,
  startGoogleFake,
  unknownMethod,
} from './fake-server.ts';
import { DEFAULT_HIERARCHY, type Hierarchy, parentOf, projectNumberOf } from './hierarchy.ts';

export interface FakeIamOptions {
  snapshot: Snapshot;
  token: string;
  latencyMs?: number;
  /** Caps serviceAccounts.list pages (IAM's own cap is 100), to make tests page. */
  maxPageSize?: number;
  hierarchy?: Hierarchy;
}

export interface FakeIam extends FakeServer {
  setSnapshot(snapshot: Snapshot): void;
}

const IAM_MAX_PAGE = 100;
const IAM_DEFAULT_PAGE = 20;

export async function startFakeIam(options: FakeIamOptions): Promise<FakeIam> {
  let snapshot = options.snapshot;
  let index = indexOf(snapshot);

  function route(request: FakeRequest): FakeRoute {
    const { method, path, query } = request;
    const policy = /^\/v1\/projects\/([^/]+)\/serviceAccounts\/([^/]+):getIamPolicy$/.exec(path);
    if (method === 'POST' && policy) {
      const email = policy[2] ?? '';
      return {
        kind: 'iam.getIamPolicy',
        answer: () => {
          const found = index.get(email);
          if (!found || found.gsa.deleted) return notFound(email);
          return { status: 200, body: policyResource(found.gsa.iamPolicy) };
        },
      };
    }
    const get = /^\/v1\/projects\/([^/]+)\/serviceAccounts\/([^/]+)$/.exec(path);
    if (method === 'GET' && get) {
      const email = get[2] ?? '';
      return {
        kind: 'iam.getServiceAccount',
        answer: () => {
          const found = index.get(email);
          if (!found || found.gsa.deleted) return notFound(email);
          return { status: 200, body: accountResource(found.project, found.gsa) };
        },
      };
    }
    const list = /^\/v1\/projects\/([^/]+)\/serviceAccounts$/.exec(path);
    if (method === 'GET' && list) {
      const projectId = list[1] ?? '';
      return {
        kind: 'iam.listServiceAccounts',
        answer: (): FakeAnswer => {
          const project = snapshot.projects.find((p) => p.projectId === projectId);
          if (!project)
            return {
              status: 403,
              body: googleError(
                403,
                `Permission 'iam.serviceAccounts.list' denied on resource (or it may not exist).`,
              ),
            };
          const size = Math.min(
            Number(query.pageSize) || IAM_DEFAULT_PAGE,
            IAM_MAX_PAGE,
            options.maxPageSize ?? IAM_MAX_PAGE,
          );
          const from = query.pageToken ? Number(Buffer.from(query.pageToken, 'base64url').toString()) : 0;
          if (!Number.isInteger(from) || from < 0)
            return { status: 400, body: googleError(400, 'Invalid page token.') };
          const live = project.serviceAccounts.filter((gsa) => !gsa.deleted);
          const accounts = live.slice(from, from + size).map((gsa) => accountResource(project, gsa));
          const next =
            from + size < live.length ? Buffer.from(String(from + size)).toString('base64url') : undefined;
          return {
            status: 200,
            body: { ...(accounts.length > 0 ? { accounts } : {}), ...(next ? { nextPageToken: next } : {}) },
          };
        },
      };
    }
    const children = /^\/v3\/(projects|folders)$/.exec(path);
    if (method === 'GET' && children) {
      const kind = children[1] as 'projects' | 'folders';
      return { kind: `resourcemanager.${kind}.list`, answer: () => childrenOf(kind, query) };
    }
    const projectPolicy = /^\/v3\/projects\/([^/]+):getIamPolicy$/.exec(path);
    if (method === 'POST' && projectPolicy) {
      const projectId = projectPolicy[1] ?? '';
      return {
        kind: 'resourcemanager.getIamPolicy',
        answer: () => {
          const project = snapshot.projects.find((p) => p.projectId === projectId);
          if (!project) return { status: 403, body: googleError(403, `The caller does not have permission`) };
          return { status: 200, body: policyResource(project.iamPolicy ?? { bindings: [] }) };
        },
      };
    }
    return unknownMethod('iam', request);
  }

  function childrenOf(kind: 'projects' | 'folders', query: Record<string, string>): FakeAnswer {
    const hierarchy = options.hierarchy ?? DEFAULT_HIERARCHY;
    const parent = query.parent ?? '';
    if (!/^(organizations|folders)\/\d+$/.test(parent))
      return { status: 400, body: googleError(400, `Invalid parent: ${JSON.stringify(parent)}`) };
    const all =
      kind === 'projects'
        ? snapshot.projects
            .filter((project) => parentOf(hierarchy, project.projectId) === parent)
            .map((project) => ({
              name: `projects/${projectNumberOf(project)}`,
              parent,
              projectId: project.projectId,
              state: 'ACTIVE',
            }))
        : Object.entries(hierarchy.folders ?? {})
            .filter(([, above]) => above === parent)
            .map(([id]) => ({ name: `folders/${id}`, parent, state: 'ACTIVE' }));
    const size = Math.min(Number(query.pageSize) || 1000, 1000, options.maxPageSize ?? 1000);
    const from = query.pageToken ? Number(Buffer.from(query.pageToken, 'base64url').toString()) : 0;
    const page = all.slice(from, from + size);
    const next =
      from + size < all.length ? Buffer.from(String(from + size)).toString('base64url') : undefined;
    return {
      status: 200,
      body: { ...(page.length > 0 ? { [kind]: page } : {}), ...(next ? { nextPageToken: next } : {}) },
    };
  }

  const server = await startGoogleFake('iam', options, route);
  return Object.assign(server, {
    setSnapshot(next: Snapshot) {
      snapshot = next;
      index = indexOf(next);
    },
  });
}

function indexOf(snapshot: Snapshot): Map<string, { project: SnapshotProject; gsa: SnapshotGsa }> {
  const index = new Map<string, { project: SnapshotProject; gsa: SnapshotGsa }>();
  for (const project of snapshot.projects) {
    for (const gsa of project.serviceAccounts) index.set(gsa.email, { project, gsa });
  }
  return index;
}

/** A ServiceAccount as IAM v1 gives it (Cloud Asset Inventory serves the same as its resource). */
export function accountResource(project: SnapshotProject, gsa: SnapshotGsa) {
  const uniqueId = gsa.uniqueId ?? numericId(gsa.email);
  return {
    name: `projects/${project.projectId}/serviceAccounts/${gsa.email}`,
    projectId: project.projectId,
    uniqueId,
    email: gsa.email,
    displayName: gsa.email.split('@')[0],
    etag: 'MDEwMjE5MjA=',
    oauth2ClientId: uniqueId,
    ...(gsa.disabled ? { disabled: true } : {}),
  };
}

function policyResource(policy: SnapshotGsa['iamPolicy']) {
  const conditional = policy.bindings.some((binding) => binding.condition !== undefined);
  return {
    version: conditional ? 3 : 1,
    etag: 'BwXhqDvMWdg=',
    ...(policy.bindings.length > 0 ? { bindings: policyBindings(policy.bindings) } : {}),
  };
}

/** Bindings as Google writes them: proto3 JSON leaves out an empty `members`. */
export function policyBindings(bindings: SnapshotGsa['iamPolicy']['bindings']): unknown[] {
  return bindings.map(({ members, ...binding }) => ({
    ...binding,
    ...(members.length > 0 ? { members } : {}),
  }));
}

/** A stable 21-digit id, as IAM's uniqueIds look. */
function numericId(text: string): string {
  let hash = 0n;
  for (const char of text) hash = (hash * 131n + BigInt(char.charCodeAt(0))) % 10n ** 20n;
  return `1${hash.toString().padStart(20, '0')}`;
}

function notFound(email: string): FakeAnswer {
  return { status: 404, body: googleError(404, `Unknown service account ${email}`) };
}
