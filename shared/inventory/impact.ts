import type { KsaRef, WorkloadRef } from '../domain/finding.ts';
import { directSubject, memberCovers, parseWorkloadMember, type WorkloadSubject } from './members.ts';
import { judgeMetadataEgress } from './network-policy.ts';
import type { NetworkPolicy } from './network-policy-schema.ts';
import {
  type IamPolicy,
  type Snapshot,
  type SnapshotCluster,
  type SnapshotGsa,
  type SnapshotKsa,
  type SnapshotPod,
  type SnapshotProject,
  WI_ANNOTATION,
  WI_USER_ROLE,
} from './snapshot.ts';

/**
 * Impact fan-out: which Workload Identity KSAs and running workloads a broken link hits. A KSA uses
 * WI when it is annotated with a GSA, some GSA's policy binds it, or a project grants its principal
 * roles directly (direct resource access needs no annotation). The workload pool is per project, so a
 * member names the KSA in every cluster of it.
 */
export interface Impact {
  ksas: KsaRef[];
  workloads: WorkloadRef[];
}

export interface ClusterInProject {
  project: SnapshotProject;
  cluster: SnapshotCluster;
}

interface Index {
  clustersByPool: Map<string, ClusterInProject[]>;
  gsas: Map<string, { project: SnapshotProject; gsa: SnapshotGsa }>;
  gsasByUniqueId: Map<string, SnapshotGsa>;
  /**
   * The GSAs (not deleted: IAM answers 404 for a deleted one's policy) whose workloadIdentityUser
   * members name each subject, by `boundKey` (a namespace-wide member with name `*`), in inventory order.
   */
  binders: Map<string, SnapshotGsa[]>;
  /** Roles the inventoried projects grant each subject directly, by `boundKey`. */
  direct: Map<string, string[]>;
}

const indexes = new WeakMap<Snapshot, Index>();

function indexOf(snapshot: Snapshot): Index {
  let index = indexes.get(snapshot);
  if (index) return index;
  index = {
    clustersByPool: new Map(),
    gsas: new Map(),
    gsasByUniqueId: new Map(),
    binders: new Map(),
    direct: new Map(),
  };
  const add = <T>(map: Map<string, T[]>, subject: WorkloadSubject, value: T) => {
    const key = boundKey(subject.workloadPool, subject.namespace, subject.name ?? '*');
    const list = map.get(key) ?? [];
    if (!list.includes(value)) list.push(value);
    map.set(key, list);
  };
  for (const project of snapshot.projects) {
    for (const cluster of project.clusters) {
      if (!cluster.workloadPool) continue;
      const list = index.clustersByPool.get(cluster.workloadPool) ?? [];
      list.push({ project, cluster });
      index.clustersByPool.set(cluster.workloadPool, list);
    }
    for (const gsa of project.serviceAccounts) {
      index.gsas.set(gsa.email, { project, gsa });
      if (gsa.uniqueId) index.gsasByUniqueId.set(gsa.uniqueId, gsa);
      if (gsa.deleted) continue;
      for (const subject of boundSubjects(gsa.iamPolicy)) add(index.binders, subject, gsa);
    }
    for (const binding of project.iamPolicy?.bindings ?? []) {
      for (const member of binding.members) {
        const subject = directSubject(member);
        if (subject) add(index.direct, subject, binding.role);
      }
    }
  }
  indexes.set(snapshot, index);
  return index;
}

function boundKey(workloadPool: string, namespace: string, name: string): string {
  return `${workloadPool}\u0000${namespace}\u0000${name}`;
}

export function boundSubjects(policy: IamPolicy | undefined): WorkloadSubject[] {
  const subjects: WorkloadSubject[] = [];
  for (const binding of policy?.bindings ?? []) {
    if (binding.role !== WI_USER_ROLE) continue;
    for (const member of binding.members) {
      const subject = parseWorkloadMember(member);
      if (subject) subjects.push(subject);
    }
  }
  return subjects;
}

/** The members of `roles/iam.workloadIdentityUser` that let KSA `namespace/name` of `workloadPool` act as the GSA. */
export function bindingMembers(
  policy: IamPolicy | undefined,
  workloadPool: string,
  namespace: string,
  name: string,
): string[] {
  const members: string[] = [];
  for (const binding of policy?.bindings ?? []) {
    if (binding.role !== WI_USER_ROLE) continue;
    for (const member of binding.members) {
      const subject = parseWorkloadMember(member);
      if (subject && memberCovers(subject, workloadPool, namespace, name)) members.push(member);
    }
  }
  return members;
}

/** Whether the policy lets KSA `namespace/name` of `workloadPool` act as the GSA, in any member form. */
export function policyBinds(
  policy: IamPolicy | undefined,
  workloadPool: string,
  namespace: string,
  name: string,
): boolean {
  return bindingMembers(policy, workloadPool, namespace, name).length > 0;
}

/**
 * Roles a project's policy grants to the KSA's own principal (direct resource access: no GSA), in
 * the principal forms IAM takes there (see directSubject).
 */
export function directGrantRoles(
  policy: IamPolicy | undefined,
  workloadPool: string,
  namespace: string,
  name: string,
): string[] {
  return (policy?.bindings ?? [])
    .filter((binding) =>
      binding.members.some((member) => {
        const subject = directSubject(member);
        return subject !== undefined && memberCovers(subject, workloadPool, namespace, name);
      }),
    )
    .map((binding) => binding.role);
}

/** The GSAs of the inventory (not deleted) whose policy lets the KSA act as them, by name or namespace-wide. */
export function bindersOf(
  snapshot: Snapshot,
  workloadPool: string,
  namespace: string,
  name: string,
): SnapshotGsa[] {
  const { binders } = indexOf(snapshot);
  const named = binders.get(boundKey(workloadPool, namespace, name)) ?? [];
  const wide = binders.get(boundKey(workloadPool, namespace, '*')) ?? [];
  return wide.length === 0 ? named : [...new Set([...named, ...wide])];
}

/** Whether some GSA of the inventory (not deleted) binds the KSA by name (classic or principal://). */
export function boundByName(
  snapshot: Snapshot,
  workloadPool: string,
  namespace: string,
  name: string,
): boolean {
  return (indexOf(snapshot).binders.get(boundKey(workloadPool, namespace, name))?.length ?? 0) > 0;
}

/** Roles the inventoried projects grant the KSA's own principal, by name or namespace-wide. */
export function directRolesOf(
  snapshot: Snapshot,
  workloadPool: string,
  namespace: string,
  name: string,
): string[] {
  const { direct } = indexOf(snapshot);
  return [
    ...(direct.get(boundKey(workloadPool, namespace, name)) ?? []),
    ...(direct.get(boundKey(workloadPool, namespace, '*')) ?? []),
  ];
}

/** The KSAs the policy does not let act as its GSA (all of them without a policy: the GSA is gone). */
export function unboundKsas(policy: IamPolicy | undefined, ksas: readonly KsaRef[]): KsaRef[] {
  return ksas.filter((ksa) => !policyBinds(policy, ksa.workloadPool, ksa.namespace, ksa.name));
}

export function findProject(snapshot: Snapshot | undefined, projectId: string): SnapshotProject | undefined {
  return snapshot?.projects.find((project) => project.projectId === projectId);
}

export function findCluster(
  snapshot: Snapshot | undefined,
  projectId: string,
  ref: { location: string; name: string },
): SnapshotCluster | undefined {
  return findProject(snapshot, projectId)?.clusters.find(
    (c) => c.name === ref.name && c.location === ref.location,
  );
}

export function findGsa(snapshot: Snapshot | undefined, email: string | undefined, uniqueId?: string) {
  if (snapshot === undefined) return undefined;
  const index = indexOf(snapshot);
  if (email !== undefined) return index.gsas.get(email)?.gsa;
  return uniqueId === undefined ? undefined : index.gsasByUniqueId.get(uniqueId);
}

export function clustersInPool(snapshot: Snapshot, workloadPool: string): ClusterInProject[] {
  return indexOf(snapshot).clustersByPool.get(workloadPool) ?? [];
}

export function gsaOf(ksa: SnapshotKsa): string | undefined {
  return ksa.annotations[WI_ANNOTATION] || undefined;
}

/**
 * Whether the KSA uses Workload Identity: annotated, bound on some GSA of the snapshot, or granted
 * roles directly by an inventoried project.
 */
export function usesWorkloadIdentity(
  snapshot: Snapshot,
  cluster: SnapshotCluster,
  ksa: SnapshotKsa,
): boolean {
  if (!cluster.workloadPool) return false;
  if (gsaOf(ksa) !== undefined) return true;
  const pool = cluster.workloadPool;
  // Lookups, not scans: the sweep asks this for every KSA of the organization.
  return (
    bindersOf(snapshot, pool, ksa.namespace, ksa.name).length > 0 ||
    directRolesOf(snapshot, pool, ksa.namespace, ksa.name).length > 0
  );
}

/** Whether the KSA object exists in some cluster of its workload pool. */
export function ksaInPool(
  snapshot: Snapshot,
  subject: { workloadPool: string; namespace: string; name: string },
) {
  return clustersInPool(snapshot, subject.workloadPool).some(({ cluster }) =>
    cluster.serviceAccounts.some((ksa) => ksa.namespace === subject.namespace && ksa.name === subject.name),
  );
}

/** Whether some KSA acts as the GSA: one is annotated with it, or its policy binds a workload. */
export function isWorkloadIdentityGsa(snapshot: Snapshot, gsa: string): boolean {
  const annotated = snapshot.projects.some((project) =>
    project.clusters.some(
      (cluster) => cluster.workloadPool && cluster.serviceAccounts.some((ksa) => gsaOf(ksa) === gsa),
    ),
  );
  return annotated || boundSubjects(findGsa(snapshot, gsa)?.iamPolicy).length > 0;
}

function ksaRef(cluster: SnapshotCluster, ksa: { namespace: string; name: string }): KsaRef {
  return { workloadPool: cluster.workloadPool ?? '', namespace: ksa.namespace, name: ksa.name };
}

/** Groups pods into workloads (owner kind/name per node pool), counting pods. */
export function workloadsOf(cluster: SnapshotCluster, pods: readonly SnapshotPod[]): WorkloadRef[] {
  const byKey = new Map<string, WorkloadRef>();
  for (const pod of pods) {
    const kind = pod.owner?.kind ?? 'Pod';
    const name = pod.owner?.name ?? pod.name;
    const key = `${pod.namespace}\u0000${kind}\u0000${name}\u0000${pod.nodePool ?? ''}`;
    const existing = byKey.get(key);
    if (existing) {
      existing.pods = (existing.pods ?? 0) + 1;
      continue;
    }
    byKey.set(key, {
      cluster: cluster.name,
      namespace: pod.namespace,
      kind,
      name,
      ...(pod.nodePool ? { nodePool: pod.nodePool } : {}),
      pods: 1,
    });
  }
  return [...byKey.values()];
}

function merge(impacts: Impact[]): Impact {
  const ksas = new Map<string, KsaRef>();
  for (const ksa of impacts.flatMap((i) => i.ksas))
    ksas.set(`${ksa.workloadPool}/${ksa.namespace}/${ksa.name}`, ksa);
  return { ksas: [...ksas.values()], workloads: impacts.flatMap((i) => i.workloads) };
}

function podsOf(cluster: SnapshotCluster, ksas: readonly { namespace: string; name: string }[]) {
  const keys = new Set(ksas.map((ksa) => `${ksa.namespace}/${ksa.name}`));
  return cluster.pods.filter((pod) => keys.has(`${pod.namespace}/${pod.serviceAccountName}`));
}

/** A KSA (or, with no name, every WI KSA of a namespace) in every cluster of its workload pool. */
export function impactOfSubject(snapshot: Snapshot, subject: WorkloadSubject, gsa?: string): Impact {
  return merge(
    clustersInPool(snapshot, subject.workloadPool).map(({ cluster }) => {
      const ksas = cluster.serviceAccounts.filter(
        (ksa) =>
          ksa.namespace === subject.namespace &&
          (subject.name === undefined ? gsa === undefined || gsaOf(ksa) === gsa : ksa.name === subject.name),
      );
      const hit =
        subject.name === undefined
          ? ksas
          : ksas.length > 0
            ? ksas
            : [{ namespace: subject.namespace, name: subject.name }];
      return {
        ksas: hit.map((ksa) => ksaRef(cluster, ksa)),
        workloads: workloadsOf(cluster, podsOf(cluster, hit)),
      };
    }),
  );
}

/** Every KSA annotated with the GSA, in every WI cluster of the snapshot. */
export function impactOfGsa(snapshot: Snapshot, gsa: string): Impact {
  const impacts: Impact[] = [];
  for (const project of snapshot.projects) {
    for (const cluster of project.clusters) {
      if (!cluster.workloadPool) continue;
      const ksas = cluster.serviceAccounts.filter((ksa) => gsaOf(ksa) === gsa);
      if (ksas.length === 0) continue;
      impacts.push({
        ksas: ksas.map((ksa) => ksaRef(cluster, ksa)),
        workloads: workloadsOf(cluster, podsOf(cluster, ksas)),
      });
    }
  }
  return merge(impacts);
}

/** The WI KSAs whose pods run on the pool, with those pods. */
export function impactOfNodePool(snapshot: Snapshot, cluster: SnapshotCluster, nodePool: string): Impact {
  const wi = wiKsas(snapshot, cluster);
  const pods = cluster.pods.filter(
    (pod) => pod.nodePool === nodePool && wi.has(`${pod.namespace}/${pod.serviceAccountName}`),
  );
  const ksas = [...new Set(pods.map((pod) => `${pod.namespace}/${pod.serviceAccountName}`))].map((key) => {
    const [namespace = '', name = ''] = key.split('/');
    return ksaRef(cluster, { namespace, name });
  });
  return { ksas, workloads: workloadsOf(cluster, pods) };
}

/** Every WI KSA of the cluster, with all their pods. */
export function impactOfCluster(
  snapshot: Snapshot,
  cluster: SnapshotCluster,
  workloadPool = cluster.workloadPool,
): Impact {
  const asIf = { ...cluster, workloadPool };
  const ksas = cluster.serviceAccounts.filter((ksa) => usesWorkloadIdentity(snapshot, asIf, ksa));
  return {
    ksas: ksas.map((ksa) => ksaRef(asIf, ksa)),
    workloads: workloadsOf(cluster, podsOf(cluster, ksas)),
  };
}

/** The WI pods of a namespace that the given policies cut off from the metadata server. */
export function impactOfPolicies(
  snapshot: Snapshot,
  cluster: SnapshotCluster,
  namespace: string,
  policies: readonly NetworkPolicy[],
): Impact & { policies: string[] } {
  const wi = wiKsas(snapshot, cluster);
  const blocking = new Set<string>();
  const pods = cluster.pods.filter((pod) => {
    if (pod.namespace !== namespace || !wi.has(`${pod.namespace}/${pod.serviceAccountName}`)) return false;
    const verdict = judgeMetadataEgress(policies, pod);
    if (verdict.blockedPorts.length === 0) return false;
    for (const name of verdict.policies) blocking.add(name);
    return true;
  });
  const ksas = [...new Set(pods.map((pod) => pod.serviceAccountName))].map((name) =>
    ksaRef(cluster, { namespace, name }),
  );
  return { ksas, workloads: workloadsOf(cluster, pods), policies: [...blocking] };
}

function wiKsas(snapshot: Snapshot, cluster: SnapshotCluster): Set<string> {
  return new Set(
    cluster.serviceAccounts
      .filter((ksa) => usesWorkloadIdentity(snapshot, cluster, ksa))
      .map((ksa) => `${ksa.namespace}/${ksa.name}`),
  );
}
