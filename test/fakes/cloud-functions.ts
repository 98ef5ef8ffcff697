/**
 * A fake Cloud Functions v2 API on 127.0.0.1, and the URLs of the functions it lists: `functions.list`
 * over every location of a project, and, at each function's `uri` (`URL/run/ID`), what that function
 * answers an unauthenticated request (wiStatus refuses it with its own 401; Cloud Run's IAM check
 * would answer 403). It records every call.
 *
 *   const functions = await startFakeCloudFunctions({ token });
 *   functions.setFunction('orbit-ops', { name: 'projects/orbit-ops/locations/europe-west1/functions/wi-sentinel-status', … });
 *
 * Routes (https://cloud.google.com/functions/docs/reference/rest/v2/projects.locations.functions/list):
 * - GET /v2/projects/P/locations/-/functions: `{ functions }`, two to a page (`nextPageToken`); 403
 *   for a project it does not know.
 * - POST /run/ID (no token needed): the function's scripted answer to the internet.
 */
import {
  type FakeRoute,
  type FakeServer,
  googleError,
  startGoogleFake,
  unknownMethod,
} from './fake-server.ts';

/** A Function resource as the API returns it (the fields doctor reads); `uri` is filled in. */
export interface FakeFunction {
  name: string;
  state?: string;
  stateMessages?: { severity: string; type: string; message: string }[];
  labels?: Record<string, string>;
  buildConfig?: { entryPoint?: string; runtime?: string };
  serviceConfig?: {
    serviceAccountEmail?: string;
    environmentVariables?: Record<string, string>;
    secretEnvironmentVariables?: { key: string; projectId: string; secret: string; version: string }[];
    secretVolumes?: {
      mountPath: string;
      projectId: string;
      secret: string;
      versions: { version: string; path: string }[];
    }[];
  };
}

export interface FakeCloudFunctions extends FakeServer {
  /** Adds or replaces a function of a project (the project becomes known). */
  setFunction(project: string, fn: FakeFunction): void;
  removeFunction(project: string, name: string): void;
  /** What POST /run/ID answers (default: 401 `invalid request`, as wiStatus refuses an unsigned request). */
  setEndpointAnswer(id: string, status: number, body: string): void;
  /** The URL the fake gives the function with this id. */
  uriOf(id: string): string;
}

const PAGE = 2;

export async function startFakeCloudFunctions(options: { token: string }): Promise<FakeCloudFunctions> {
  const projects = new Map<string, Map<string, FakeFunction>>();
  const answers = new Map<string, { status: number; body: string }>();
  let base = '';

  function route(request: { method: string; path: string; query: Record<string, string> }): FakeRoute {
    const list = /^\/v2\/projects\/([^/]+)\/locations\/-\/functions$/.exec(request.path);
    if (request.method === 'GET' && list) {
      const project = list[1] as string;
      return {
        kind: 'cloudfunctions.list',
        answer: () => {
          const functions = projects.get(project);
          if (functions === undefined) {
            return {
              status: 403,
              body: googleError(
                403,
                `Permission 'cloudfunctions.functions.list' denied on 'projects/${project}/locations/-'`,
              ),
            };
          }
          const all = [...functions.values()].map((fn) => withUri(fn));
          const start = Number(request.query.pageToken ?? 0);
          const page = all.slice(start, start + PAGE);
          const next = start + PAGE < all.length ? String(start + PAGE) : undefined;
          return { status: 200, body: { functions: page, ...(next ? { nextPageToken: next } : {}) } };
        },
      };
    }
    const run = /^\/run\/([^/]+)$/.exec(request.path);
    if (request.method === 'POST' && run) {
      const id = run[1] as string;
      return {
        kind: 'function.invoke',
        public: true,
        answer: () => {
          const answer = answers.get(id) ?? { status: 401, body: 'invalid request' };
          return { status: answer.status, body: answer.body };
        },
      };
    }
    return unknownMethod('cloudfunctions', request);
  }

  function withUri(fn: FakeFunction) {
    const id = fn.name.split('/').at(-1) as string;
    return {
      ...fn,
      state: fn.state ?? 'ACTIVE',
      serviceConfig: { ...fn.serviceConfig, uri: `${base}/run/${id}` },
    };
  }

  const server = await startGoogleFake('cloudfunctions', options, route);
  base = server.url;
  return Object.assign(server, {
    setFunction(project: string, fn: FakeFunction) {
      const functions = projects.get(project) ?? new Map<string, FakeFunction>();
      functions.set(fn.name, fn);
      projects.set(project, functions);
    },
    removeFunction(project: string, name: string) {
      projects.get(project)?.delete(name);
    },
    setEndpointAnswer(id: string, status: number, body: string) {
      answers.set(id, { status, body });
    },
    uriOf(id: string) {
      return `${base}/run/${id}`;
    },
  });
}
