/**
 * Where the projects of a fake organization sit in Google's resource hierarchy, shared by the fakes
 * that answer for a scope: Cloud Asset Inventory (searches over `organizations/N`, `folders/N`,
 * `projects/P`) and Resource Manager (`projects.list` / `folders.list` by parent). A Snapshot has no
 * hierarchy: by default every project sits right under one organization.
 *
 *   const hierarchy = { organization: '433637338589', folders: { '1001': 'organizations/433637338589' },
 *                       parents: { 'orbit-prod': 'folders/1001' } };
 */
import type { SnapshotProject } from '../../shared/inventory/snapshot.ts';

export interface Hierarchy {
  /** The organization's number. */
  organization: string;
  /** Folder number → its parent (`organizations/N` or `folders/N`). */
  folders?: Record<string, string>;
  /** Project id → its parent; a project not named here sits under the organization. */
  parents?: Record<string, string>;
}

export const DEFAULT_HIERARCHY: Hierarchy = { organization: '433637338589' };

/** A project's number: the Snapshot's, else a stable 12-digit one made from its id. */
export function projectNumberOf(project: Pick<SnapshotProject, 'projectId' | 'projectNumber'>): string {
  if (project.projectNumber) return project.projectNumber;
  let hash = 0n;
  for (const char of project.projectId) hash = (hash * 131n + BigInt(char.charCodeAt(0))) % 10n ** 11n;
  return `9${hash.toString().padStart(11, '0')}`;
}

/** `organizations/N` or `folders/N`: a project's parent. */
export function parentOf(hierarchy: Hierarchy, projectId: string): string {
  return hierarchy.parents?.[projectId] ?? `organizations/${hierarchy.organization}`;
}

/** The folders and organization above a project, nearest first. */
export function ancestorsOf(hierarchy: Hierarchy, projectId: string): string[] {
  const chain: string[] = [];
  let at: string | undefined = parentOf(hierarchy, projectId);
  while (at !== undefined && !chain.includes(at)) {
    chain.push(at);
    at = at.startsWith('folders/') ? hierarchy.folders?.[at.slice('folders/'.length)] : undefined;
  }
  return chain;
}

/** Whether a scope (`organizations/N`, `folders/N`, `projects/ID or NUMBER`) holds the project. */
export function inScope(
  hierarchy: Hierarchy,
  scope: string,
  project: Pick<SnapshotProject, 'projectId' | 'projectNumber'>,
): boolean {
  if (scope.startsWith('projects/')) {
    const id = scope.slice('projects/'.length);
    return id === project.projectId || id === projectNumberOf(project);
  }
  return ancestorsOf(hierarchy, project.projectId).includes(scope);
}

/** Whether the hierarchy knows the scope at all (an unknown one is refused, as Google does). */
export function knowsScope(
  hierarchy: Hierarchy,
  scope: string,
  projects: readonly SnapshotProject[],
): boolean {
  if (scope === `organizations/${hierarchy.organization}`) return true;
  if (scope.startsWith('folders/')) return hierarchy.folders?.[scope.slice('folders/'.length)] !== undefined;
  return projects.some((project) => inScope(hierarchy, scope, project));
}
