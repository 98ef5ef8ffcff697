import { allPages, type GoogleHttp } from './http.ts';
import type { ProjectsPort } from './ports.ts';

/**
 * ProjectsPort over Resource Manager v3: the folders below a parent (`folders.list`), then the
 * projects of each (`projects.list`), breadth first. Both list direct children only; a page holds at
 * most 1,000 (https://cloud.google.com/resource-manager/reference/rest/v3/projects/list). Used when a
 * scope wider than a project must be read directly (Cloud Asset Inventory unavailable).
 */
export interface ProjectsAdapterOptions {
  http: GoogleHttp;
  /** Default https://cloudresourcemanager.googleapis.com */
  resourceManagerUrl?: string;
}

interface ListPage {
  projects?: { projectId?: string; state?: string }[];
  folders?: { name?: string; state?: string }[];
  nextPageToken?: string;
}

export function createProjectsPort({
  http,
  resourceManagerUrl = 'https://cloudresourcemanager.googleapis.com',
}: ProjectsAdapterOptions): ProjectsPort {
  const base = resourceManagerUrl.replace(/\/+$/, '');

  function list(kind: 'projects' | 'folders', parent: string): Promise<ListPage[]> {
    return allPages<ListPage>(http, {
      api: 'cloudresourcemanager',
      url: `${base}/v3/${kind}`,
      query: new URLSearchParams({ parent, pageSize: '1000' }),
      permission: `resourcemanager.${kind}.list`,
      what: `${kind} of ${parent}`,
    });
  }

  return {
    async projectsUnder(parent) {
      const projects: string[] = [];
      let parents = [parent];
      while (parents.length > 0) {
        const level = await Promise.all(
          parents.map(async (at) => {
            const [projectPages, folderPages] = await Promise.all([
              list('projects', at),
              list('folders', at),
            ]);
            for (const project of projectPages.flatMap((page) => page.projects ?? [])) {
              if (project.projectId && (project.state ?? 'ACTIVE') === 'ACTIVE')
                projects.push(project.projectId);
            }
            return folderPages
              .flatMap((page) => page.folders ?? [])
              .filter((folder) => folder.name && (folder.state ?? 'ACTIVE') === 'ACTIVE')
              .map((folder) => folder.name as string);
          }),
        );
        parents = level.flat();
      }
      return [...new Set(projects)].sort();
    },
  };
}
