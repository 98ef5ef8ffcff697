import type { Config } from '../config.ts';
import type { AssetPort, LiveState, ProjectsPort } from '../gcp/ports.ts';
import { AssetInventoryError, exportFromAssets, rereadDirectly } from '../live/asset-export.ts';
import { type ExportOptions, type ExportProblem, exportSnapshot } from '../live/export.ts';
import type { AssetFallback, SweepProblem, SweptInventory } from './run.ts';

/**
 * The sweep's inventory read live: exportSnapshot over the projects, its problems turned into what
 * the sweep must not judge. Clusters and GSAs left partial are marked `incomplete` in the snapshot
 * itself (the sweep reads those marks); project-wide failures are said here.
 */
export function liveInventory(
  state: LiveState,
  projects: readonly string[],
  options: ExportOptions = {},
): () => Promise<SweptInventory> {
  return async () => {
    const { snapshot, problems } = await exportSnapshot(state, projects, options);
    return { snapshot, problems: problems.map(sweepProblemOf), projects, source: 'direct' };
  };
}

export interface AssetInventoryDeps {
  state: LiveState;
  assets: AssetPort;
  /** Lists the projects of an organization or folder when the scope must be read directly. */
  projects: ProjectsPort;
}

export interface AssetInventoryOptions extends ExportOptions {
  /** The project whose Cloud Asset API wi-sentinel calls (quota, enablement): GOOGLE_CLOUD_PROJECT. */
  consumerProject?: string;
  /** wi-sentinel's own service account, when it can be told: the grant that repairs a 403 names it. */
  identity?: () => Promise<string | undefined>;
}

/**
 * What the sweep covers: WI_SCOPE, else each of WI_PROJECTS (default GOOGLE_CLOUD_PROJECT) as a
 * project scope.
 */
export function scopesOf(
  config: Pick<Config, 'WI_SCOPE' | 'WI_PROJECTS' | 'GOOGLE_CLOUD_PROJECT'>,
): string[] {
  if (config.WI_SCOPE) return config.WI_SCOPE;
  const projects = config.WI_PROJECTS ?? (config.GOOGLE_CLOUD_PROJECT ? [config.GOOGLE_CLOUD_PROJECT] : []);
  return projects.map((project) => `projects/${project}`);
}

/**
 * The sweep's inventory with Cloud Asset Inventory as its source over the scopes (`organizations/N`,
 * `folders/N`, `projects/P`), and the direct reads of liveInventory when the index cannot be used (a
 * 403, the API not enabled, a failure its retries did not cure): the run says so once, in
 * `fallback`, with the command that enables it. Results do not differ between the two (a test
 * compares them). Resolutions that would rest on an index record older than the incident's event
 * are read directly first (`indexed`, `reread`; see freshness.ts).
 */
export function assetInventory(
  deps: AssetInventoryDeps,
  scopes: readonly string[],
  options: AssetInventoryOptions = {},
): () => Promise<SweptInventory> {
  return async () => {
    try {
      const found = await exportFromAssets(deps.state, deps.assets, scopes, options);
      return {
        snapshot: found.snapshot,
        problems: found.problems.map(sweepProblemOf),
        projects: found.projects,
        source: 'asset',
        indexed: found.indexed,
        reread: async (targets, snapshot) => {
          const fresh = await rereadDirectly(deps.state, snapshot, targets);
          return { snapshot: fresh.snapshot, problems: fresh.problems.map(sweepProblemOf) };
        },
      };
    } catch (error) {
      if (!(error instanceof AssetInventoryError)) throw error;
      const identity = await options.identity?.().catch(() => undefined);
      const fallback = fallbackOf(error, scopes, options.consumerProject, identity);
      options.onProgress?.(`Cloud Asset Inventory unavailable, reading directly: ${fallback.reason}`);
      return { ...(await directInventory(deps, scopes, options)()), fallback };
    }
  };
}

/**
 * The scopes read directly, as liveInventory reads projects: a project scope is itself, an
 * organization's or folder's projects are listed through Resource Manager first.
 */
export function directInventory(
  deps: Pick<AssetInventoryDeps, 'state' | 'projects'>,
  scopes: readonly string[],
  options: ExportOptions = {},
): () => Promise<SweptInventory> {
  return async () => {
    const { projects, problems } = await projectsOf(deps.projects, scopes);
    const direct = await liveInventory(deps.state, projects, options)();
    return { ...direct, problems: [...problems, ...direct.problems] };
  };
}

/** A 403 saying the API is disabled in the consumer project (Google's SERVICE_DISABLED message). */
const DISABLED =
  /Cloud Asset API has not been used in project ([\w-]+) before or it is disabled|SERVICE_DISABLED/;

function fallbackOf(
  error: AssetInventoryError,
  scopes: readonly string[],
  consumerProject: string | undefined,
  identity: string | undefined,
): AssetFallback {
  const { lookup } = error;
  const where = consumerProject ? { project: consumerProject } : {};
  const disabled = lookup.status === 403 ? DISABLED.exec(lookup.message) : null;
  if (disabled) {
    const project = disabled[1] ?? consumerProject ?? 'PROJECT';
    return {
      reason: `the Cloud Asset API is not enabled in project ${project}`,
      project,
      remediation: [
        {
          title: 'Enable the Cloud Asset API where wi-sentinel runs',
          command: `gcloud services enable cloudasset.googleapis.com --project=${project}`,
        },
      ],
    };
  }
  if (lookup.status === 403 || lookup.status === 401) {
    const member = identity ? `serviceAccount:${identity}` : 'serviceAccount:WI_SENTINEL_SA';
    return {
      reason: `wi-sentinel may not search Cloud Asset Inventory (${lookup.permission ?? 'cloudasset.assets.*'})`,
      ...where,
      remediation: scopes.map((scope) => ({
        title: `Let wi-sentinel search ${scope} (or re-apply the Terraform module, which grants it)`,
        command: grantCommand(scope, member),
      })),
    };
  }
  return { reason: lookup.message, ...where, remediation: [] };
}

function grantCommand(scope: string, member: string): string {
  const [kind = '', id = ''] = scope.split('/');
  const command = {
    organizations: 'organizations',
    folders: 'resource-manager folders',
    projects: 'projects',
  }[kind];
  return `gcloud ${command ?? 'projects'} add-iam-policy-binding ${id} --member=${member} --role=roles/cloudasset.viewer`;
}

/** The projects of the scopes, for direct reads: a project scope is itself, the others are listed. */
async function projectsOf(
  port: ProjectsPort,
  scopes: readonly string[],
): Promise<{ projects: string[]; problems: SweepProblem[] }> {
  const problems: SweepProblem[] = [];
  const lists = await Promise.all(
    scopes.map(async (scope) => {
      if (scope.startsWith('projects/')) return [scope.slice('projects/'.length)];
      try {
        return await port.projectsUnder(scope);
      } catch (error) {
        // Nothing below it is swept: its incidents are left as they are (not swept, not judged).
        problems.push({ message: `${scope}: projects: ${(error as Error).message}` });
        return [];
      }
    }),
  );
  return { projects: [...new Set(lists.flat())], problems };
}

export function sweepProblemOf(problem: ExportProblem): SweepProblem {
  const missing =
    problem.permission && !problem.reason.includes(problem.permission)
      ? ` (needs ${problem.permission})`
      : '';
  const message = `${problem.project}: ${problem.what}: ${problem.reason}${missing}`;
  // The cluster list failed (whole, or for some zones): a cluster the export lacks may still exist.
  if (problem.what === 'clusters')
    return { message, unreadable: { unlisted: [{ project: problem.project }] } };
  // The service accounts are unknown: a GSA the export lacks may still exist.
  if (problem.what === 'service accounts') return { message, unreadable: { iamProjects: [problem.project] } };
  return { message };
}
