import type { ChainTarget } from '../chain/facts.ts';
import { findGsa, gsaOf } from '../inventory/impact.ts';
import { projectOfEmail } from '../inventory/members.ts';
import type { Snapshot, SnapshotCluster, SnapshotKsa, SnapshotProject } from '../inventory/snapshot.ts';

/**
 * What every detector's `scan` shares: a scan judges the whole inventory, so its findings have no
 * actor and no audit entry. They carry no `cause` (the Finding contract omits what does not apply);
 * their summaries say the sweep found them instead.
 */
export const FOUND_BY_SWEEP = 'found by the sweep';

export interface ClusterOfProject {
  project: SnapshotProject;
  cluster: SnapshotCluster;
}

/** Every cluster of the inventory joined to a workload pool, in inventory order. */
export function wiClusters(snapshot: Snapshot): ClusterOfProject[] {
  return snapshot.projects.flatMap((project) =>
    project.clusters.filter((cluster) => cluster.workloadPool).map((cluster) => ({ project, cluster })),
  );
}

export interface AnnotatedKsa extends ClusterOfProject {
  ksa: SnapshotKsa;
}

/** The KSAs of WI clusters annotated with each GSA, by GSA email (first use first). */
export function annotatedUsers(snapshot: Snapshot): Map<string, AnnotatedKsa[]> {
  const users = new Map<string, AnnotatedKsa[]>();
  for (const { project, cluster } of wiClusters(snapshot)) {
    for (const ksa of cluster.serviceAccounts) {
      const gsa = gsaOf(ksa);
      if (gsa === undefined) continue;
      users.set(gsa, [...(users.get(gsa) ?? []), { project, cluster, ksa }]);
    }
  }
  return users;
}

/** The inventoried project that holds the GSA, whether or not it is deleted. */
export function ownerOf(snapshot: Snapshot, email: string): SnapshotProject | undefined {
  if (findGsa(snapshot, email) === undefined) return undefined;
  return snapshot.projects.find((project) => project.serviceAccounts.some((gsa) => gsa.email === email));
}

/**
 * The project an event about the GSA names: the email's own (user-managed accounts), else the project
 * that holds it, else `fallback` (the project of the KSAs that use it).
 */
export function gsaProjectOf(snapshot: Snapshot, email: string, fallback?: string): string | undefined {
  return projectOfEmail(email) ?? ownerOf(snapshot, email)?.projectId ?? fallback;
}

/** The chain target of a KSA (or of pods running as a KSA name) in a cluster of the inventory. */
export function targetOf(
  project: SnapshotProject,
  cluster: SnapshotCluster,
  ksa: { namespace: string; name: string },
): ChainTarget {
  return {
    project: project.projectId,
    cluster: { location: cluster.location, name: cluster.name },
    namespace: ksa.namespace,
    name: ksa.name,
  };
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
