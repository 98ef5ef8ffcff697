import { LookupError } from '../errors.ts';
import { allPages, DEFAULT_TIMEOUT_MS, type GoogleHttp, transportError } from './http.ts';

/**
 * What `wi-sentinel doctor` reads of the deployed functions: Cloud Functions v2 `functions.list`
 * over every location of a project (https://cloud.google.com/functions/docs/reference/rest/v2/projects.locations.functions/list),
 * through plain authorized requests. Secrets appear as references (project, secret, version), never
 * as values; environment variables are the plain configuration infra/ sets.
 */
export interface FunctionInfo {
  /** `projects/P/locations/L/functions/F` */
  name: string;
  location: string;
  /** The function's own id (F). */
  id: string;
  /** ACTIVE, FAILED, DEPLOYING, DELETING, UNKNOWN. */
  state: string;
  /** What Cloud Functions says of a state other than ACTIVE. */
  stateMessages: string[];
  entryPoint?: string;
  /** The Cloud Run service's URL (service_config.uri), what push subscriptions push to. */
  uri?: string;
  serviceAccount?: string;
  environment: Record<string, string>;
  /** Every secret it mounts, as an environment variable or a file. */
  secrets: { project: string; secret: string; version: string }[];
  labels: Record<string, string>;
}

export interface FunctionsPort {
  /** Every function of the project, in every location. */
  listFunctions(project: string): Promise<FunctionInfo[]>;
  /**
   * An unauthenticated POST with an empty form body to a function's URL: how the internet (Slack)
   * reaches it. Never carries a token.
   */
  probe(url: string): Promise<{ status: number; text: string }>;
}

export interface FunctionsAdapterOptions {
  http: GoogleHttp;
  /** Default https://cloudfunctions.googleapis.com */
  apiUrl?: string;
  /** For probe(), ms. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
}

interface FunctionResource {
  name?: string;
  state?: string;
  stateMessages?: { message?: string }[];
  labels?: Record<string, string>;
  buildConfig?: { entryPoint?: string };
  serviceConfig?: {
    uri?: string;
    serviceAccountEmail?: string;
    environmentVariables?: Record<string, string>;
    secretEnvironmentVariables?: { projectId?: string; secret?: string; version?: string }[];
    secretVolumes?: { projectId?: string; secret?: string; versions?: { version?: string }[] }[];
  };
}

export function createFunctionsPort({
  http,
  apiUrl = 'https://cloudfunctions.googleapis.com',
  timeoutMs = DEFAULT_TIMEOUT_MS,
  fetch = globalThis.fetch,
}: FunctionsAdapterOptions): FunctionsPort {
  const base = apiUrl.replace(/\/+$/, '');
  return {
    async listFunctions(project) {
      const pages = await allPages<{ functions?: FunctionResource[]; nextPageToken?: string }>(http, {
        api: 'cloudfunctions',
        url: `${base}/v2/projects/${encodeURIComponent(project)}/locations/-/functions`,
        query: new URLSearchParams({ pageSize: '100' }),
        permission: 'cloudfunctions.functions.list',
        what: `functions of project ${project}`,
      });
      return pages.flatMap((page) => (page.functions ?? []).map((fn) => toFunctionInfo(fn, project)));
    },

    async probe(url) {
      const request = { api: 'the function', what: `${url}` };
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: '',
          signal: AbortSignal.timeout(timeoutMs),
        });
        return { status: response.status, text: (await response.text()).slice(0, 500) };
      } catch (error) {
        throw error instanceof LookupError ? error : transportError(request, error, timeoutMs);
      }
    },
  };
}

function toFunctionInfo(fn: FunctionResource, project: string): FunctionInfo {
  const name = fn.name ?? '';
  const match = /^projects\/[^/]+\/locations\/([^/]+)\/functions\/([^/]+)$/.exec(name);
  const service = fn.serviceConfig ?? {};
  return {
    name,
    location: match?.[1] ?? '',
    id: match?.[2] ?? name,
    state: fn.state ?? 'UNKNOWN',
    stateMessages: (fn.stateMessages ?? []).map((m) => m.message ?? '').filter((m) => m !== ''),
    ...(fn.buildConfig?.entryPoint ? { entryPoint: fn.buildConfig.entryPoint } : {}),
    ...(service.uri ? { uri: service.uri } : {}),
    ...(service.serviceAccountEmail ? { serviceAccount: service.serviceAccountEmail } : {}),
    environment: service.environmentVariables ?? {},
    secrets: [
      ...(service.secretEnvironmentVariables ?? []).map((s) => ({
        project: s.projectId ?? project,
        secret: s.secret ?? '',
        version: s.version ?? 'latest',
      })),
      ...(service.secretVolumes ?? []).flatMap((v) =>
        (v.versions?.length ? v.versions : [{ version: 'latest' }]).map((version) => ({
          project: v.projectId ?? project,
          secret: v.secret ?? '',
          version: version.version ?? 'latest',
        })),
      ),
    ].filter((s) => s.secret !== ''),
    labels: fn.labels ?? {},
  };
}
