import type { LiveState } from '../gcp/ports.ts';
import { type ExportOptions, type ExportProblem, exportSnapshot } from '../live/export.ts';
import type { SweepProblem, SweptInventory } from './run.ts';

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
    return { snapshot, problems: problems.map(sweepProblemOf), projects };
  };
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
