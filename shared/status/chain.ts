import { findGsa, gsaOf, policyBinds } from '../inventory/impact.ts';
import { classicMember, memberCovers, parseWorkloadMember, projectOfEmail } from '../inventory/members.ts';
import { judgeMetadataEgress } from '../inventory/network-policy.ts';
import {
  KEY_FILE_VARIABLE,
  type Snapshot,
  type SnapshotCluster,
  type SnapshotProject,
  WI_ANNOTATION,
  WI_USER_ROLE,
} from '../inventory/snapshot.ts';

/**
 * Every link of one KSA's Workload Identity chain (domain.md's seven), judged against a Snapshot:
 * the last inventory, or a simulated organization. Pure. A link the inventory cannot judge (a GSA
 * of a project it does not cover) is `unknown`, never taken for healthy.
 */
export type LinkState = 'ok' | 'broken' | 'unknown' | 'n/a';

export type ChainLinkName = 'cluster' | 'node-pool' | 'annotation' | 'gsa' | 'binding' | 'egress' | 'pods';

export interface ChainLink {
  link: ChainLinkName;
  state: LinkState;
  detail: string;
}

export interface KsaChain {
  project: string;
  cluster: { location: string; name: string };
  namespace: string;
  name: string;
  exists: boolean;
  gsa?: string;
  pods: number;
  links: ChainLink[];
}

export const LINK_TITLES: Record<ChainLinkName, string> = {
  cluster: 'Cluster in a workload pool',
  'node-pool': 'Node pools on the GKE metadata server',
  annotation: 'KSA annotated with its GSA',
  gsa: 'GSA exists and is enabled',
  binding: 'KSA may impersonate the GSA',
  egress: 'Pods reach the metadata server',
  pods: 'Pods use no key file',
};

/** The same links in a word or two, for a line under a KSA in a list. */
export const LINK_LABELS: Record<ChainLinkName, string> = {
  cluster: 'workload pool',
  'node-pool': 'node pool',
  annotation: 'annotation',
  gsa: 'GSA',
  binding: 'binding',
  egress: 'metadata egress',
  pods: 'key file',
};

export function inventoryChain(
  snapshot: Snapshot,
  project: SnapshotProject,
  cluster: SnapshotCluster,
  namespace: string,
  name: string,
): KsaChain {
  const ksa = cluster.serviceAccounts.find((k) => k.namespace === namespace && k.name === name);
  const pods = cluster.pods.filter((pod) => pod.namespace === namespace && pod.serviceAccountName === name);
  const pool = cluster.workloadPool || undefined;
  const gsa = ksa ? gsaOf(ksa) : undefined;
  const links: ChainLink[] = [
    pool
      ? { link: 'cluster', state: 'ok', detail: `joined to ${pool}` }
      : { link: 'cluster', state: 'broken', detail: 'Workload Identity is off: no workload pool' },
    nodePoolLink(cluster, pods),
  ];
  // Acting as a GSA needs the annotation whatever the member's form (the metadata server learns the
  // GSA from it), as the sweep and diagnose judge it: a KSA a GSA binds by name but that names no GSA
  // is broken, unless the project grants its own principal roles (direct resource access).
  const binders = !gsa && pool ? bindingGsas(snapshot, pool, namespace, name) : [];
  const direct = !gsa && pool ? directGrants(project, pool, namespace, name) : [];
  const named = binders.filter((b) => b.byName);
  const principal = binders[0];
  if (!ksa) {
    links.push({
      link: 'annotation',
      state: 'broken',
      detail: `no KSA ${namespace}/${name} in this cluster`,
    });
  } else if (gsa) {
    links.push({ link: 'annotation', state: 'ok', detail: gsa });
  } else if (direct.length > 0) {
    links.push({
      link: 'annotation',
      state: 'ok',
      detail: `none needed: ${project.projectId} grants its principal ${direct.join(', ')}`,
    });
  } else if (named.length > 0 || binders.length === 0) {
    const why = named.length > 0 ? ` although ${named.map((b) => b.email).join(', ')} binds it` : '';
    links.push({ link: 'annotation', state: 'broken', detail: `no ${WI_ANNOTATION} annotation${why}` });
  } else {
    links.push({
      link: 'annotation',
      state: 'ok',
      detail: `names no GSA; ${binders.map((b) => b.email).join(', ')} binds its whole namespace`,
    });
  }
  links.push(...gsaLinks(snapshot, gsa ?? principal?.email, pool, namespace, name));
  links.push(egressLink(cluster, pods), keyFileLink(pods));
  return {
    project: project.projectId,
    cluster: { location: cluster.location, name: cluster.name },
    namespace,
    name,
    exists: ksa !== undefined,
    ...(gsa ? { gsa } : principal ? { gsa: principal.email } : {}),
    pods: pods.length,
    links,
  };
}

/** The GSAs whose policy lets the KSA act as them; `byName` unless only a namespace-wide member does. */
function bindingGsas(snapshot: Snapshot, pool: string, namespace: string, name: string) {
  return snapshot.projects.flatMap((project) =>
    project.serviceAccounts.flatMap((gsa) => {
      if (gsa.deleted) return [];
      const subjects = gsa.iamPolicy.bindings
        .filter((binding) => binding.role === WI_USER_ROLE)
        .flatMap((binding) => binding.members)
        .map(parseWorkloadMember)
        .filter((subject) => subject !== undefined && memberCovers(subject, pool, namespace, name));
      if (subjects.length === 0) return [];
      return [{ email: gsa.email, byName: subjects.some((subject) => subject?.name !== undefined) }];
    }),
  );
}

/** Roles the project grants to the KSA's own principal (direct resource access, no GSA involved). */
function directGrants(project: SnapshotProject, pool: string, namespace: string, name: string): string[] {
  return (project.iamPolicy?.bindings ?? [])
    .filter((binding) =>
      binding.members.some((member) => {
        const subject = parseWorkloadMember(member);
        return (
          subject !== undefined &&
          !member.startsWith('serviceAccount:') &&
          memberCovers(subject, pool, namespace, name)
        );
      }),
    )
    .map((binding) => binding.role);
}

/** The pools the KSA's pods run on (all the cluster's pools when none runs yet). */
function nodePoolLink(cluster: SnapshotCluster, pods: SnapshotCluster['pods']): ChainLink {
  const used = new Set(pods.map((pod) => pod.nodePool).filter((p): p is string => p !== undefined));
  const pools = cluster.nodePools.filter((p) => used.size === 0 || used.has(p.name));
  const off = pools.filter((p) => p.workloadMetadataMode !== 'GKE_METADATA');
  if (pools.length === 0)
    return { link: 'node-pool', state: 'unknown', detail: 'no node pool in the inventory' };
  if (off.length === 0) {
    return {
      link: 'node-pool',
      state: 'ok',
      detail: `${pools.map((p) => p.name).join(', ')} on GKE_METADATA`,
    };
  }
  const which = off.map((p) => `${p.name} (${p.workloadMetadataMode ?? 'unset'})`).join(', ');
  return {
    link: 'node-pool',
    state: 'broken',
    detail:
      used.size === 0
        ? `${which}: pods scheduled there would act as the node's service account`
        : `${which}: pods there act as the node's service account`,
  };
}

function gsaLinks(
  snapshot: Snapshot,
  email: string | undefined,
  pool: string | undefined,
  namespace: string,
  name: string,
): ChainLink[] {
  if (email === undefined) {
    return [
      { link: 'gsa', state: 'n/a', detail: 'no GSA named' },
      { link: 'binding', state: 'n/a', detail: 'no GSA named' },
    ];
  }
  const gsa = findGsa(snapshot, email);
  const project = projectOfEmail(email);
  if (gsa === undefined) {
    const covered = project !== undefined && snapshot.projects.some((p) => p.projectId === project);
    return covered
      ? [
          { link: 'gsa', state: 'broken', detail: `${email} does not exist` },
          { link: 'binding', state: 'broken', detail: 'no GSA to hold the binding' },
        ]
      : [
          { link: 'gsa', state: 'unknown', detail: `${email} is in a project the inventory does not cover` },
          { link: 'binding', state: 'unknown', detail: 'its policy is not in the inventory' },
        ];
  }
  const gsaLink: ChainLink = gsa.deleted
    ? { link: 'gsa', state: 'broken', detail: `${email} was deleted (undelete within 30 days)` }
    : gsa.disabled
      ? { link: 'gsa', state: 'broken', detail: `${email} is disabled` }
      : { link: 'gsa', state: 'ok', detail: `${email} is enabled` };
  const member = pool ? classicMember(pool, namespace, name) : `[${namespace}/${name}]`;
  const bindingLink: ChainLink =
    pool && policyBinds(gsa.iamPolicy, pool, namespace, name)
      ? { link: 'binding', state: 'ok', detail: `${WI_USER_ROLE} granted to ${member}` }
      : { link: 'binding', state: 'broken', detail: `${WI_USER_ROLE} not granted to ${member}` };
  return [gsaLink, bindingLink];
}

function egressLink(cluster: SnapshotCluster, pods: SnapshotCluster['pods']): ChainLink {
  if (pods.length === 0) return { link: 'egress', state: 'n/a', detail: 'no running pods' };
  const blocked = pods
    .map((pod) => ({ pod, verdict: judgeMetadataEgress(cluster.networkPolicies, pod) }))
    .filter(({ verdict }) => verdict.blockedPorts.length > 0);
  if (blocked.length === 0) return { link: 'egress', state: 'ok', detail: 'no NetworkPolicy blocks it' };
  const policies = [...new Set(blocked.flatMap(({ verdict }) => verdict.policies))];
  const ports = [...new Set(blocked.flatMap(({ verdict }) => verdict.blockedPorts))].sort((a, b) => a - b);
  return {
    link: 'egress',
    state: 'broken',
    detail: `${policies.join(', ')} block${policies.length === 1 ? 's' : ''} TCP ${ports.join(', ')} to 169.254.169.254 for ${blocked.length} of ${pods.length} pods`,
  };
}

function keyFileLink(pods: SnapshotCluster['pods']): ChainLink {
  if (pods.length === 0) return { link: 'pods', state: 'n/a', detail: 'no running pods' };
  const keyed = pods.filter((pod) => pod.env.includes(KEY_FILE_VARIABLE));
  return keyed.length === 0
    ? { link: 'pods', state: 'ok', detail: `${pods.length} running, none sets ${KEY_FILE_VARIABLE}` }
    : {
        link: 'pods',
        state: 'broken',
        detail: `${keyed.length} of ${pods.length} set ${KEY_FILE_VARIABLE}: a key file overrides Workload Identity`,
      };
}

/** The chain's verdict: broken when a link is, unknown when one cannot be judged, else healthy. */
export function chainState(chain: KsaChain): 'ok' | 'broken' | 'unknown' {
  if (chain.links.some((l) => l.state === 'broken')) return 'broken';
  return chain.links.some((l) => l.state === 'unknown') ? 'unknown' : 'ok';
}
