/**
 * A fake Resource Manager v3 API on 127.0.0.1 for the self-checks: which permissions the caller
 * holds on each project, and each project's IAM policy; it records every call.
 *
 *   const rm = await startFakePermissions({ token, granted: { p: ['container.pods.list'] } });
 *
 * Routes (https://cloud.google.com/resource-manager/reference/rest/v3/projects):
 * - POST /v3/projects/P:testIamPermissions `{ permissions }`: the subset granted (proto3 JSON leaves
 *   an empty list out); 403 for a project it does not know, as Google answers for a project the
 *   caller cannot see or that does not exist.
 * - POST /v3/projects/P:getIamPolicy: the project's policy; 403 when unknown.
 */
import type { IamPolicy } from '../../shared/inventory/snapshot.ts';
import { type FakeRoute, type FakeServer, googleError, startFakeServer } from './fake-server.ts';

export interface FakePermissionsOptions {
  token: string;
  /** Per project: the permissions the caller holds. */
  granted?: Record<string, string[]>;
  policies?: Record<string, IamPolicy>;
}

export interface FakePermissions extends FakeServer {
  setGranted(project: string, permissions: string[] | undefined): void;
  setPolicy(project: string, policy: IamPolicy | undefined): void;
}

export async function startFakePermissions(options: FakePermissionsOptions): Promise<FakePermissions> {
  const granted = new Map(Object.entries(options.granted ?? {}));
  const policies = new Map(Object.entries(options.policies ?? {}));
  const denied = { status: 403, body: googleError(403, 'The caller does not have permission') };

  function route(request: { method: string; path: string; body: unknown }): FakeRoute {
    const test = /^\/v3\/projects\/([^/:]+):testIamPermissions$/.exec(request.path);
    if (request.method === 'POST' && test) {
      const project = test[1] as string;
      return {
        kind: 'resourcemanager.testIamPermissions',
        answer: () => {
          const held = granted.get(project);
          if (held === undefined) return denied;
          const asked = ((request.body ?? {}) as { permissions?: string[] }).permissions ?? [];
          const answer = asked.filter((permission) => held.includes(permission));
          return { status: 200, body: answer.length > 0 ? { permissions: answer } : {} };
        },
      };
    }
    const policy = /^\/v3\/projects\/([^/:]+):getIamPolicy$/.exec(request.path);
    if (request.method === 'POST' && policy) {
      const project = policy[1] as string;
      return {
        kind: 'resourcemanager.getIamPolicy',
        answer: () => {
          const found = policies.get(project);
          if (found === undefined) return denied;
          return {
            status: 200,
            body: {
              version: 1,
              etag: 'BwXhqDvMWdg=',
              ...(found.bindings.length > 0 ? { bindings: found.bindings } : {}),
            },
          };
        },
      };
    }
    return {
      kind: 'resourcemanager.unknown',
      answer: () => ({
        status: 404,
        body: googleError(404, `no such method: ${request.method} ${request.path}`),
      }),
    };
  }

  const server = await startFakeServer({
    api: 'resourcemanager',
    token: options.token,
    route,
    errorBody: googleError,
  });
  return Object.assign(server, {
    setGranted(project: string, permissions: string[] | undefined) {
      if (permissions === undefined) granted.delete(project);
      else granted.set(project, permissions);
    },
    setPolicy(project: string, next: IamPolicy | undefined) {
      if (next === undefined) policies.delete(project);
      else policies.set(project, next);
    },
  });
}
