/**
 * A fake Resource Manager v3 API on 127.0.0.1 for the self-checks: which permissions the caller
 * holds on each project, and each project's IAM policy; it records every call. The caller is the
 * holder of `token`, or an identity whose impersonated token (fakes/iam-credentials.ts) it accepts,
 * with grants of its own (`grantedTo`).
 *
 *   const rm = await startFakePermissions({ token, granted: { p: ['container.pods.list'] } });
 *   const rm = await startFakePermissions({ token, grantedTo: { 'sa@p.iam.gserviceaccount.com': { p: [...] } } });
 *
 * Routes (https://cloud.google.com/resource-manager/reference/rest/v3/projects):
 * - POST /v3/projects/P:testIamPermissions `{ permissions }`: the subset granted (proto3 JSON leaves
 *   an empty list out); 403 for a project it does not know, as Google answers for a project the
 *   caller cannot see or that does not exist.
 * - POST /v3/projects/P:getIamPolicy: the project's policy; 403 when unknown.
 */
import type { IamPolicy } from '../../shared/inventory/snapshot.ts';
import {
  type FakeRoute,
  type FakeServer,
  googleError,
  putOrDelete,
  startGoogleFake,
  unknownMethod,
} from './fake-server.ts';
import { impersonatedIdentity } from './iam-credentials.ts';

export interface FakePermissionsOptions {
  token: string;
  /** Per project: the permissions the caller holds. */
  granted?: Record<string, string[]>;
  /** Per impersonated identity, per project: the permissions it holds. */
  grantedTo?: Record<string, Record<string, string[]>>;
  policies?: Record<string, IamPolicy>;
}

export interface FakePermissions extends FakeServer {
  setGranted(project: string, permissions: string[] | undefined): void;
  /** The permissions an impersonated identity holds on a project (undefined: it has none there). */
  setGrantedTo(identity: string, project: string, permissions: string[] | undefined): void;
  setPolicy(project: string, policy: IamPolicy | undefined): void;
}

export async function startFakePermissions(options: FakePermissionsOptions): Promise<FakePermissions> {
  const granted = new Map(Object.entries(options.granted ?? {}));
  const grantedTo = new Map(
    Object.entries(options.grantedTo ?? {}).map(([identity, byProject]) => [
      identity,
      new Map(Object.entries(byProject)),
    ]),
  );
  const policies = new Map(Object.entries(options.policies ?? {}));
  const denied = { status: 403, body: googleError(403, 'The caller does not have permission') };

  function route(request: {
    method: string;
    path: string;
    body: unknown;
    caller?: string | undefined;
  }): FakeRoute {
    const test = /^\/v3\/projects\/([^/:]+):testIamPermissions$/.exec(request.path);
    if (request.method === 'POST' && test) {
      const project = test[1] as string;
      return {
        kind: 'resourcemanager.testIamPermissions',
        answer: () => {
          const held =
            request.caller === undefined || request.caller === 'default'
              ? granted.get(project)
              : grantedTo.get(request.caller)?.get(project);
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
    return unknownMethod('resourcemanager', request);
  }

  const server = await startGoogleFake('resourcemanager', options, route, impersonatedIdentity);
  return Object.assign(server, {
    setGranted(project: string, permissions: string[] | undefined) {
      putOrDelete(granted, project, permissions);
    },
    setGrantedTo(identity: string, project: string, permissions: string[] | undefined) {
      const byProject = grantedTo.get(identity) ?? new Map<string, string[]>();
      putOrDelete(byProject, project, permissions);
      grantedTo.set(identity, byProject);
    },
    setPolicy(project: string, next: IamPolicy | undefined) {
      putOrDelete(policies, project, next);
    },
  });
}
