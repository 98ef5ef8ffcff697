import { bindersOf, directRolesOf, findCluster, findGsa, findProject, gsaOf } from '../inventory/impact.ts';
import { projectOfEmail } from '../inventory/members.ts';
import type { NetworkPolicy } from '../inventory/network-policy-schema.ts';
import type {
  IamPolicy,
  Snapshot,
  SnapshotCluster,
  SnapshotGsa,
  SnapshotKsa,
  SnapshotPod,
} from '../inventory/snapshot.ts';
import type { BoundGsa, ChainFacts, ChainTarget, GsaFacts, GsaSide, Known } from './facts.ts';
import { poolOf } from './facts.ts';
import { bindingMember } from './judge.ts';

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
  const objects = objectsOf(cluster);
  const ksa = objects.ksas.get(`${namespace}/${name}`);
  const pods = objects.pods.get(`${namespace}/${name}`) ?? [];
  // A policy that names no namespace stands in every one, as the sweep reads the inventory.
  const policies = objects.policies.has(undefined)
    ? cluster.networkPolicies.filter((p) => (p.metadata.namespace ?? namespace) === namespace)
    : (objects.policies.get(namespace) ?? []);
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
  const held = findGsa(snapshot, email);
  if (held?.incomplete) return `service account ${email} was read only in part (${String(held.incomplete)})`;
  if (held !== undefined) return undefined;
  const owner = projectOfEmail(email);
  if (owner === undefined) return `service account ${email} is in no project the inventory holds`;
  if (findProject(snapshot, owner) === undefined)
    return `service account ${email} is in project ${owner}, which the inventory does not cover`;
  return undefined;
}

/** The GSA as IAM would describe it, from the inventory: `undefined` when it does not exist. */
export function gsaInfoOf(snapshot: Snapshot, email: string): Known<GsaFacts | undefined> {
  const unread = gsaUnread(snapshot, email);
  if (unread !== undefined) return { ok: false, reason: `could not check: ${unread}` };
  const gsa = findGsa(snapshot, email);
  return {
    ok: true,
    value: gsa ? { email, disabled: gsa.disabled, ...(gsa.deleted ? { deleted: true } : {}) } : undefined,
  };
}

function annotationSide(snapshot: Snapshot, email: string): GsaSide {
  const info = gsaInfoOf(snapshot, email);
  const gsa = findGsa(snapshot, email);
  const policy: Known<IamPolicy> = !info.ok
    ? info
    : gsa && !gsa.deleted
      ? { ok: true, value: gsa.iamPolicy }
      : { ok: false, reason: `could not check: service account ${email} not found`, status: 404 };
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
  const binders = bindersOf(snapshot, workloadPool, namespace, name);
  const order = binders.length > 1 ? inventoryOrder(snapshot) : undefined;
  const bound: BoundGsa[] = [...binders]
    .sort((a, b) => (order?.get(a) ?? 0) - (order?.get(b) ?? 0))
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
  const roles = directRolesOf(snapshot, workloadPool, namespace, name);
  return { via: 'search', search, directGrants: { ok: true, value: roles } };
}

const orders = new WeakMap<Snapshot, Map<SnapshotGsa, number>>();

/** Each GSA's place in the inventory: the order a live search lists them in. */
function inventoryOrder(snapshot: Snapshot): Map<SnapshotGsa, number> {
  let order = orders.get(snapshot);
  if (order) return order;
  order = new Map(snapshot.projects.flatMap((p) => p.serviceAccounts).map((gsa, i) => [gsa, i]));
  orders.set(snapshot, order);
  return order;
}

interface ClusterObjects {
  ksas: Map<string, SnapshotKsa>;
  pods: Map<string, SnapshotPod[]>;
  policies: Map<string | undefined, NetworkPolicy[]>;
}

const objectIndexes = new WeakMap<SnapshotCluster, ClusterObjects>();

/** The cluster's KSAs and pods by `namespace/ksa`, its policies by namespace: the sweep asks of every KSA. */
function objectsOf(cluster: SnapshotCluster): ClusterObjects {
  let index = objectIndexes.get(cluster);
  if (index) return index;
  index = { ksas: new Map(), pods: new Map(), policies: new Map() };
  for (const ksa of cluster.serviceAccounts) index.ksas.set(`${ksa.namespace}/${ksa.name}`, ksa);
  for (const pod of cluster.pods) push(index.pods, `${pod.namespace}/${pod.serviceAccountName}`, pod);
  for (const policy of cluster.networkPolicies)
    push(index.policies, policy.metadata.namespace ?? undefined, policy);
  objectIndexes.set(cluster, index);
  return index;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
