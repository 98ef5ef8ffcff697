import { findCluster, findProject, gsaOf } from '../inventory/impact.ts';
import { parseWorkloadMember, projectOfEmail } from '../inventory/members.ts';
import type { Snapshot, SnapshotCluster, SnapshotGsa, SnapshotProject } from '../inventory/snapshot.ts';
import { WI_USER_ROLE } from '../inventory/snapshot.ts';
import type { BoundGsa, ChainFacts, ChainTarget, GsaFacts, GsaSide, Known } from './facts.ts';
import { poolOf } from './facts.ts';
import { bindingMember, directGrantRoles } from './judge.ts';

/**
 * The facts of a KSA's chain read from a Snapshot: the last inventory, or a simulated organization.
 * They are what `diagnose` reads live (shared/live/diagnose.ts), with what the inventory marks as
 * unread taken as unread: a cluster or GSA an export left `incomplete`, a GSA of a project the
 * inventory does not cover. Where the inventory sees further than one project's reads (a GSA of
 * another inventoried project binding the KSA, roles another project grants it), those count too.
 */
export function snapshotFacts(snapshot: Snapshot, target: ChainTarget): ChainFacts {
  const { project, namespace, name } = target;
  const cluster = findCluster(snapshot, project, target.cluster);
  const workloadPool = poolOf(project, cluster);
  const base = { target, cluster: { ok: true, value: cluster } as const, workloadPool };
  if (cluster === undefined) return { ...base, gsa: { via: 'unread' } };
  const unread = clusterUnread(project, cluster);
  if (unread !== undefined) {
    const failed = { ok: false, reason: `could not check: ${unread}` } as const;
    return { ...base, ksa: failed, pods: failed, policies: failed, gsa: { via: 'unread' } };
  }
  const ksa = cluster.serviceAccounts.find((k) => k.namespace === namespace && k.name === name);
  const pods = cluster.pods.filter((pod) => pod.namespace === namespace && pod.serviceAccountName === name);
  const policies = cluster.networkPolicies.filter((p) => (p.metadata.namespace ?? namespace) === namespace);
  const email = ksa ? gsaOf(ksa) : undefined;
  return {
    ...base,
    ksa: { ok: true, value: ksa },
    pods: { ok: true, value: pods },
    policies: { ok: true, value: policies },
    gsa:
      email !== undefined
        ? annotationSide(snapshot, email)
        : searchSide(snapshot, project, workloadPool, namespace, name),
  };
}

/** Why the cluster's Kubernetes objects are not known: an export marked it `incomplete`. */
export function clusterUnread(project: string, cluster: SnapshotCluster): string | undefined {
  const incomplete = cluster.incomplete;
  if (!incomplete) return undefined;
  return `cluster ${project}/${cluster.location}/${cluster.name} was read only in part (${String(incomplete)})`;
}

/** Why a GSA is not known: read only in part, or of a project the inventory does not cover. */
export function gsaUnread(snapshot: Snapshot, email: string): string | undefined {
  const held = heldGsa(snapshot, email);
  if (held?.incomplete) return `service account ${email} was read only in part (${String(held.incomplete)})`;
  if (held !== undefined) return undefined;
  const owner = projectOfEmail(email);
  if (owner === undefined) return `service account ${email} is in no project the inventory holds`;
  if (findProject(snapshot, owner) === undefined)
    return `service account ${email} is in project ${owner}, which the inventory does not cover`;
  return undefined;
}

function heldGsa(snapshot: Snapshot, email: string): SnapshotGsa | undefined {
  return indexOf(snapshot).gsas.get(email)?.gsa;
}

function annotationSide(snapshot: Snapshot, email: string): GsaSide {
  const unread = gsaUnread(snapshot, email);
  if (unread !== undefined) {
    const failed = { ok: false, reason: `could not check: ${unread}` } as const;
    return { via: 'annotation', email, info: failed, policy: failed };
  }
  const gsa = heldGsa(snapshot, email);
  const info: Known<GsaFacts | undefined> = {
    ok: true,
    value: gsa ? { email, disabled: gsa.disabled, ...(gsa.deleted ? { deleted: true } : {}) } : undefined,
  };
  const policy =
    gsa && !gsa.deleted
      ? ({ ok: true, value: gsa.iamPolicy } as const)
      : ({ ok: false, reason: `could not check: service account ${email} not found`, status: 404 } as const);
  return { via: 'annotation', email, info, policy };
}

/** Every GSA of the inventory whose policy binds the KSA, and the roles projects grant it directly. */
function searchSide(
  snapshot: Snapshot,
  project: string,
  workloadPool: string,
  namespace: string,
  name: string,
): GsaSide {
  const index = indexOf(snapshot);
  const candidates = new Set([
    ...(index.binders.get(subjectKey(workloadPool, namespace, name)) ?? []),
    ...(index.binders.get(subjectKey(workloadPool, namespace, '*')) ?? []),
  ]);
  const bound: BoundGsa[] = [...candidates]
    .sort((a, b) => (index.gsas.get(a.email)?.order ?? 0) - (index.gsas.get(b.email)?.order ?? 0))
    .flatMap((gsa) => {
      const member = bindingMember(gsa.iamPolicy, workloadPool, namespace, name);
      return member === undefined ? [] : [{ gsa: { email: gsa.email, disabled: gsa.disabled }, member }];
    });
  // As a live search of the project's GSAs: a policy it could not read leaves "none binds it" unknown.
  const unreadable = findProject(snapshot, project)?.serviceAccounts.find((g) => g.incomplete && !g.deleted);
  const search: Known<BoundGsa[]> =
    bound.length === 0 && unreadable !== undefined
      ? { ok: false, reason: `could not check: ${gsaUnread(snapshot, unreadable.email)}` }
      : { ok: true, value: bound };
  const roles = snapshot.projects.flatMap((p) =>
    directGrantRoles(p.iamPolicy, workloadPool, namespace, name),
  );
  return { via: 'search', search, directGrants: { ok: true, value: roles } };
}

interface FactsIndex {
  gsas: Map<string, { project: SnapshotProject; gsa: SnapshotGsa; order: number }>;
  /** GSAs (not deleted) whose workloadIdentityUser members name `pool/ns/name`, or `pool/ns/*`. */
  binders: Map<string, SnapshotGsa[]>;
}

const indexes = new WeakMap<Snapshot, FactsIndex>();

function indexOf(snapshot: Snapshot): FactsIndex {
  const known = indexes.get(snapshot);
  if (known) return known;
  const index: FactsIndex = { gsas: new Map(), binders: new Map() };
  let order = 0;
  for (const project of snapshot.projects) {
    for (const gsa of project.serviceAccounts) {
      index.gsas.set(gsa.email, { project, gsa, order: order++ });
      // A deleted GSA binds nobody: IAM answers 404 for its policy.
      if (gsa.deleted) continue;
      for (const binding of gsa.iamPolicy.bindings) {
        if (binding.role !== WI_USER_ROLE) continue;
        for (const member of binding.members) {
          const subject = parseWorkloadMember(member);
          if (subject === undefined) continue;
          const key = subjectKey(subject.workloadPool, subject.namespace, subject.name ?? '*');
          const list = index.binders.get(key) ?? [];
          if (!list.includes(gsa)) list.push(gsa);
          index.binders.set(key, list);
        }
      }
    }
  }
  indexes.set(snapshot, index);
  return index;
}

function subjectKey(workloadPool: string, namespace: string, name: string): string {
  return `${workloadPool}\u0000${namespace}\u0000${name}`;
}

/** Whether some GSA (not deleted) of the inventory binds the KSA by name (classic or principal://). */
export function boundByName(
  snapshot: Snapshot,
  workloadPool: string,
  namespace: string,
  name: string,
): boolean {
  return (indexOf(snapshot).binders.get(subjectKey(workloadPool, namespace, name))?.length ?? 0) > 0;
}
