import {
  addBinding,
  allowMetadataEgress,
  annotate,
  enableClusterWi,
  enableGsa,
  getCredentials,
  poolBackToGkeMetadata,
  recreateGsa,
  restartWorkloads,
  undeleteGsa,
  unsetKeyFile,
} from '../detect/remediation.ts';
import type { ClusterRef, PagingKind, Remediation, WorkloadRef } from '../domain/finding.ts';
import { LookupError } from '../errors.ts';
import type { GkeCluster, GsaInfo, LiveState } from '../gcp/ports.ts';
import { gsaOf, policyBinds, workloadsOf } from '../inventory/impact.ts';
import { classicMember, memberCovers, parseWorkloadMember, projectOfEmail } from '../inventory/members.ts';
import { judgeMetadataEgress, METADATA_IP } from '../inventory/network-policy.ts';
import type { NetworkPolicy } from '../inventory/network-policy-schema.ts';
import {
  type IamPolicy,
  KEY_FILE_VARIABLE,
  type SnapshotCluster,
  type SnapshotKsa,
  type SnapshotPod,
  WI_ANNOTATION,
  WI_USER_ROLE,
} from '../inventory/snapshot.ts';

/**
 * `diagnose`: every link of the Workload Identity chain (domain.md) for one KSA, read from live state.
 * Reads go out in three rounds, each issued in parallel: the cluster (with, speculatively, the project's
 * GSAs and policy, needed only when the KSA names no GSA), then the KSA, its pods and the namespace's
 * NetworkPolicies, then the GSA and its policy. A read that fails makes its link `unknown`, never `ok`.
 */

export interface DiagnoseTarget {
  project: string;
  cluster: ClusterRef;
  namespace: string;
  name: string;
}

/** `not-applicable`: nothing to judge (no pods, no GSA named); `unknown`: wi-sentinel could not read it. */
export type LinkStatus = 'ok' | 'broken' | 'unknown' | 'not-applicable';

export interface ChainLink {
  /** The link's number in the chain of domain.md, 1 to 7. */
  link: number;
  name: string;
  status: LinkStatus;
  /** One line with the real names. */
  detail: string;
  /** The finding kind an alert of this break carries (absent when not broken). */
  kind?: PagingKind;
  /** Commands that repair a broken link, in order. */
  repair: Remediation[];
}

export interface DiagnosedPod {
  name: string;
  workload: { kind: string; name: string };
  nodePool?: string;
  /** The pool's workload metadata mode (absent: unset, or the pool is unknown). */
  metadataMode?: string;
}

export interface ChainReport {
  target: DiagnoseTarget;
  checkedAt: string;
  /** The cluster's workload pool (absent when it has none, or the cluster could not be read). */
  workloadPool?: string;
  /** The GSAs the KSA acts as: the annotation's, else those whose policy binds it. */
  gsas: string[];
  links: ChainLink[];
  /** Running pods of the KSA, with their node pools. */
  pods: DiagnosedPod[];
  workloads: WorkloadRef[];
  /** Every link ok or not applicable. */
  healthy: boolean;
  /** One line: what a reader needs first. */
  verdict: string;
}

export const LINK_NAMES = [
  'cluster joined to a workload pool',
  'node pools of its pods run the GKE metadata server',
  'KSA exists and names its GSA',
  'GSA exists and is enabled',
  "GSA's policy lets the KSA act as it",
  'pods reach the metadata server',
  'pods use the KSA, no key file',
] as const;

/** What each read needs, to name the permission when a 401/403 does not say it. */
const PERMISSIONS = {
  'gke.getCluster': 'container.clusters.get',
  'iam.getServiceAccount': 'iam.serviceAccounts.get',
  'iam.getServiceAccountPolicy': 'iam.serviceAccounts.getIamPolicy',
  'iam.listServiceAccounts': 'iam.serviceAccounts.list',
  'iam.getProjectPolicy': 'resourcemanager.projects.getIamPolicy',
  'kube.getServiceAccount': 'container.serviceAccounts.get',
  'kube.listPods': 'container.pods.list',
  'kube.listNetworkPolicies': 'container.networkPolicies.list',
} as const;
type Read = keyof typeof PERMISSIONS;

const API_NAMES: Record<string, string> = {
  container: 'the GKE API',
  gke: 'the GKE API',
  iam: 'the IAM API',
  kubernetes: "the cluster's Kubernetes API",
  cloudresourcemanager: 'the Resource Manager API',
  oauth2: "Google's token endpoint",
};

/** Concurrent IAM policy reads when searching the project's GSAs (a project may hold hundreds). */
const SEARCH_CONCURRENCY = 8;

type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string; status?: number };

async function attempt<T>(read: Read, call: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return {
      ok: false,
      reason: couldNotCheck(read, error),
      ...(error instanceof LookupError && error.status !== undefined ? { status: error.status } : {}),
    };
  }
}

/** The line a failed read leaves on its link: a missing permission named, an outage to retry. */
export function couldNotCheck(read: Read, error: unknown): string {
  if (!(error instanceof LookupError)) return `could not check: ${(error as Error).message}`;
  if (error.status === 401 || error.status === 403 || error.permission !== undefined) {
    const refused = error.status === 401 ? ' (its credentials were refused: 401)' : '';
    return `could not check: wi-sentinel lacks ${error.permission ?? PERMISSIONS[read]}${refused}`;
  }
  if (error.retryable) {
    const status = error.status === undefined ? '' : ` (${error.status})`;
    return `could not check: ${API_NAMES[error.api] ?? error.api} unavailable${status}, retry`;
  }
  return `could not check: ${error.message}`;
}

/** A GSA found to bind the KSA although the KSA names none, with the member that does. */
interface BoundGsa {
  info: GsaInfo;
  member: string;
}

/** What the GSA side of the chain is, once the KSA is known. */
type GsaFacts =
  | { via: 'unread' } // the KSA (or the cluster) could not be read
  | { via: 'annotation'; email: string; info: Outcome<GsaInfo | undefined>; policy: Outcome<IamPolicy> }
  | { via: 'search'; search: Outcome<BoundGsa[]>; directGrants: Outcome<string[]> };

interface Facts {
  target: DiagnoseTarget;
  cluster: Outcome<GkeCluster | undefined>;
  /** The pool the KSA's members name: the cluster's, else the one it would rejoin. */
  workloadPool: string;
  ksa: Outcome<SnapshotKsa | undefined> | undefined;
  pods: Outcome<SnapshotPod[]> | undefined;
  policies: Outcome<NetworkPolicy[]> | undefined;
  gsa: GsaFacts;
}

export async function diagnose(
  state: LiveState,
  target: DiagnoseTarget,
  options: { now?: () => Date } = {},
): Promise<ChainReport> {
  const checkedAt = (options.now ?? (() => new Date()))().toISOString();
  const facts = await gather(state, target);
  const links = [
    judgeCluster(facts),
    judgePools(facts),
    judgeKsa(facts),
    judgeGsa(facts),
    judgeBinding(facts),
    judgeEgress(facts),
    judgeKeyFile(facts),
  ];
  const cluster = facts.cluster.ok ? facts.cluster.value : undefined;
  const pods = facts.pods?.ok ? facts.pods.value : [];
  const healthy = links.every((link) => link.status === 'ok' || link.status === 'not-applicable');
  return {
    target,
    checkedAt,
    ...(cluster?.workloadPool ? { workloadPool: cluster.workloadPool } : {}),
    gsas: gsasOf(facts.gsa),
    links,
    pods: pods.map((pod) => describePod(pod, cluster)),
    workloads: workloadsOf(asSnapshotCluster(target.cluster), pods),
    healthy,
    verdict: verdictOf(target, links),
  };
}

async function gather(state: LiveState, target: DiagnoseTarget): Promise<Facts> {
  const { project, namespace, name } = target;
  // Round 1. The project's GSAs and policy matter only for a KSA that names no GSA; asked for now so
  // that finding who binds it costs no fourth round. attempt() never rejects: nothing goes unhandled.
  const gsasOfProject = attempt('iam.listServiceAccounts', () => state.iam.listServiceAccounts(project));
  const projectPolicy = attempt('iam.getProjectPolicy', () => state.iam.getProjectPolicy(project));
  const cluster = await attempt('gke.getCluster', () => state.gke.getCluster({ project, ...target.cluster }));
  const workloadPool = (cluster.ok && cluster.value?.workloadPool) || `${project}.svc.id.goog`;
  const facts: Facts = {
    target,
    cluster,
    workloadPool,
    ksa: undefined,
    pods: undefined,
    policies: undefined,
    gsa: { via: 'unread' },
  };
  if (!cluster.ok || cluster.value === undefined) return facts;
  const found = cluster.value;
  // Round 2: the Kubernetes side.
  const [ksa, pods, policies] = await Promise.all([
    attempt('kube.getServiceAccount', () => state.kube.getServiceAccount(found, namespace, name)),
    attempt('kube.listPods', () => state.kube.listPods(found, { namespace, serviceAccountName: name })),
    attempt('kube.listNetworkPolicies', () => state.kube.listNetworkPolicies(found, namespace)),
  ]);
  Object.assign(facts, { ksa, pods, policies });
  if (!ksa.ok) return facts;
  // Round 3: the GSA side.
  const email = ksa.value ? gsaOf(ksa.value) : undefined;
  if (email !== undefined) {
    const [info, policy] = await Promise.all([
      attempt('iam.getServiceAccount', () => state.iam.getServiceAccount(email)),
      attempt('iam.getServiceAccountPolicy', () => state.iam.getServiceAccountPolicy(email)),
    ]);
    facts.gsa = { via: 'annotation', email, info, policy };
  } else {
    const [search, grants] = await Promise.all([
      searchBindings(state, await gsasOfProject, workloadPool, namespace, name),
      projectPolicy,
    ]);
    const directGrants: Outcome<string[]> = grants.ok
      ? { ok: true, value: rolesGrantedTo(grants.value, workloadPool, namespace, name) }
      : grants;
    facts.gsa = { via: 'search', search, directGrants };
  }
  return facts;
}

/** The project's GSAs whose policy lets the KSA act as them, in any member form. */
async function searchBindings(
  state: LiveState,
  listed: Outcome<GsaInfo[]>,
  workloadPool: string,
  namespace: string,
  name: string,
): Promise<Outcome<BoundGsa[]>> {
  if (!listed.ok) return listed;
  const candidates = listed.value;
  const policies = await mapLimited(candidates, SEARCH_CONCURRENCY, (gsa) =>
    attempt('iam.getServiceAccountPolicy', () => state.iam.getServiceAccountPolicy(gsa.email)),
  );
  const bound: BoundGsa[] = [];
  let failure: Outcome<never> | undefined;
  for (const [index, info] of candidates.entries()) {
    const policy = policies[index];
    if (policy === undefined) continue;
    // A GSA deleted between the listing and the read binds nobody.
    if (!policy.ok) {
      if (policy.status !== 404) failure ??= policy;
      continue;
    }
    const member = bindingMember(policy.value, workloadPool, namespace, name);
    if (member !== undefined) bound.push({ info, member });
  }
  // A GSA found is an answer even when other policies could not be read; none found is not, then.
  if (bound.length === 0 && failure !== undefined) return failure;
  return { ok: true, value: bound };
}

async function mapLimited<T, R>(items: readonly T[], limit: number, map: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The member of `roles/iam.workloadIdentityUser` that covers the KSA, as the policy spells it; a
 * principal form first, as it needs no annotation.
 */
function bindingMember(
  policy: IamPolicy,
  workloadPool: string,
  namespace: string,
  name: string,
): string | undefined {
  if (!policyBinds(policy, workloadPool, namespace, name)) return undefined;
  const members = policy.bindings
    .filter((binding) => binding.role === WI_USER_ROLE)
    .flatMap((binding) => binding.members)
    .filter((member) => {
      const subject = parseWorkloadMember(member);
      return subject !== undefined && memberCovers(subject, workloadPool, namespace, name);
    });
  return members.find((member) => !isClassic(member)) ?? members[0];
}

function isClassic(member: string): boolean {
  return member.startsWith('serviceAccount:');
}

/** Roles the project grants to the KSA's own principal (direct principal access: no GSA at all). */
function rolesGrantedTo(policy: IamPolicy, workloadPool: string, namespace: string, name: string): string[] {
  return policy.bindings
    .filter((binding) =>
      binding.members.some((member) => {
        const subject = parseWorkloadMember(member);
        return subject !== undefined && memberCovers(subject, workloadPool, namespace, name);
      }),
    )
    .map((binding) => binding.role);
}

// ---- the links ----------------------------------------------------------------------------------

function link(
  number: number,
  status: LinkStatus,
  detail: string,
  broken?: { kind?: PagingKind; repair: Remediation[] },
): ChainLink {
  return {
    link: number,
    name: LINK_NAMES[number - 1] ?? `link ${number}`,
    status,
    detail,
    ...(broken?.kind ? { kind: broken.kind } : {}),
    repair: broken?.repair ?? [],
  };
}

/** A link that depends on a read that failed or found nothing. */
function blocked(number: number, facts: Facts, needs: 'cluster' | 'ksa' | 'pods'): ChainLink {
  const { cluster, ksa, pods } = facts;
  if (!cluster.ok) return link(number, 'unknown', `not checked: the cluster could not be read (link 1)`);
  if (cluster.value === undefined)
    return link(number, 'not-applicable', `not checked: cluster ${clusterName(facts.target)} does not exist`);
  if (needs === 'ksa' && ksa && !ksa.ok)
    return link(number, 'unknown', `not checked: the KSA could not be read (link 3)`);
  if (needs === 'pods' && pods && !pods.ok) return link(number, 'unknown', pods.reason);
  return link(number, 'unknown', 'not checked');
}

function judgeCluster(facts: Facts): ChainLink {
  const { cluster, target } = facts;
  if (!cluster.ok) return link(1, 'unknown', cluster.reason);
  if (cluster.value === undefined) {
    return link(1, 'broken', `cluster ${clusterName(target)} does not exist`, {
      repair: [
        {
          title: `List the clusters of ${target.project}`,
          command: `gcloud container clusters list --project ${target.project}`,
        },
      ],
    });
  }
  const pool = cluster.value.workloadPool;
  if (pool) return link(1, 'ok', `${target.cluster.name} is joined to ${pool}`);
  return link(
    1,
    'broken',
    `${target.cluster.name} has no workload pool: Workload Identity is off, no pod of it gets a GSA`,
    {
      kind: 'cluster-wi-disabled',
      repair: [enableClusterWi(target.project, target.cluster, facts.workloadPool)],
    },
  );
}

function judgePools(facts: Facts): ChainLink {
  const { cluster, pods, target } = facts;
  if (!cluster.ok || cluster.value === undefined || pods === undefined || !pods.ok)
    return blocked(2, facts, 'pods');
  const pools = cluster.value.nodePools;
  const modeOf = (pool: string | undefined) => pools.find((p) => p.name === pool)?.workloadMetadataMode;
  const scheduled = pods.value.filter((pod) => pod.nodePool !== undefined);
  if (scheduled.length === 0) {
    const unserved = pools.filter((pool) => pool.workloadMetadataMode !== 'GKE_METADATA');
    const where =
      unserved.length === 0
        ? `every node pool (${pools.map((p) => p.name).join(', ')}) runs GKE_METADATA`
        : `new pods could land on ${unserved.map((p) => `${p.name} (${modeLabel(p.workloadMetadataMode)})`).join(', ')}`;
    const pending = pods.value.length > 0 ? `${pods.value.length} pending, ` : '';
    return link(2, 'not-applicable', `no running pod uses ${ksaName(target)} (${pending}${where})`);
  }
  const bad = scheduled.filter((pod) => modeOf(pod.nodePool) !== 'GKE_METADATA');
  const good = scheduled.filter((pod) => modeOf(pod.nodePool) === 'GKE_METADATA');
  if (bad.length === 0) {
    return link(
      2,
      'ok',
      `${plural(scheduled.length, 'pod')} on ${list(poolNames(scheduled))}: all GKE_METADATA`,
    );
  }
  const badPools = poolNames(bad);
  const onBad = badPools
    .map((pool) => {
      const names = bad.filter((pod) => pod.nodePool === pool).map((pod) => pod.name);
      return `${list(names)} on ${pool} (${modeLabel(modeOf(pool))})`;
    })
    .join('; ');
  const fine = good.length > 0 ? `; ${plural(good.length, 'pod')} on ${list(poolNames(good))} fine` : '';
  return link(2, 'broken', `${onBad} act as the node's service account, not their GSA${fine}`, {
    kind: 'nodepool-metadata-disabled',
    repair: badPools.map((pool) => poolBackToGkeMetadata(target.project, target.cluster, pool)),
  });
}

function judgeKsa(facts: Facts): ChainLink {
  const { ksa, target, gsa } = facts;
  if (ksa === undefined) return blocked(3, facts, 'ksa');
  if (!ksa.ok) return link(3, 'unknown', ksa.reason);
  const credentials = getCredentials(target.project, target.cluster);
  if (ksa.value === undefined) {
    const known = gsa.via === 'search' && gsa.search.ok ? gsa.search.value : [];
    const only = known.length === 1 ? known[0]?.info.email : undefined;
    const create = `kubectl create serviceaccount ${target.name} -n ${target.namespace}`;
    return link(3, 'broken', `KSA ${ksaName(target)} does not exist in ${target.cluster.name}`, {
      kind: 'annotation-missing',
      repair: [
        credentials,
        {
          title: only ? `Recreate the KSA naming ${only}` : 'Recreate the KSA',
          command: only ? `${create} && ${annotate(target.namespace, target.name, only).command}` : create,
        },
        // Pods read their identity when they start.
        ...restartWorkloads(
          facts.pods?.ok ? workloadsOf(asSnapshotCluster(target.cluster), facts.pods.value) : [],
        ),
      ],
    });
  }
  const email = gsaOf(ksa.value);
  if (email !== undefined) return link(3, 'ok', `${ksaName(target)} names ${email} (${WI_ANNOTATION})`);
  if (gsa.via !== 'search') return link(3, 'unknown', 'not checked');
  if (!gsa.search.ok) return link(3, 'unknown', `${gsa.search.reason} (to find a GSA that binds it)`);
  const bound = gsa.search.value;
  // Acting as a GSA needs the annotation whatever the member's form: the metadata server learns the
  // GSA from it. Without one, pods act as their own principal, which is fine only where the project
  // grants that principal roles itself (direct resource access), as the sweep judges it.
  const direct = gsa.directGrants.ok ? gsa.directGrants.value : [];
  const named = bound.filter((b) => !b.member.startsWith('principalSet://'));
  if (named.length > 0 && direct.length === 0) {
    const on = named.map((b) => `${b.info.email} (${b.member})`).join(', ');
    return link(
      3,
      'broken',
      `${ksaName(target)} has no ${WI_ANNOTATION} annotation although ${on} binds it: its pods act as the KSA's own principal, not the GSA`,
      {
        kind: 'annotation-missing',
        repair: [
          credentials,
          ...named.map((b) => annotate(target.namespace, target.name, b.info.email)),
          ...restartWorkloads(
            facts.pods?.ok ? workloadsOf(asSnapshotCluster(target.cluster), facts.pods.value) : [],
          ),
        ],
      },
    );
  }
  if (direct.length === 0 && bound.length > 0) {
    const on = bound.map((b) => `${b.info.email} (${b.member})`).join(', ');
    return link(
      3,
      'ok',
      `${ksaName(target)} names no GSA; ${on} binds its whole namespace, which acting as that GSA would need the annotation for: its pods act as their own principal`,
    );
  }
  if (gsa.directGrants.ok && gsa.directGrants.value.length > 0) {
    return link(
      3,
      'ok',
      `${ksaName(target)} names no GSA: it uses direct principal access (${target.project} grants it ${list(gsa.directGrants.value)})`,
    );
  }
  const unread = gsa.directGrants.ok ? '' : `; project policy not read: ${gsa.directGrants.reason}`;
  return link(
    3,
    'broken',
    `${ksaName(target)} has no ${WI_ANNOTATION} annotation and no GSA of ${target.project} binds it: its pods act as the KSA's own principal, which only works where that principal is granted roles directly${unread}`,
    {
      kind: 'annotation-missing',
      repair: [
        credentials,
        {
          title: `Find the GSA ${ksaName(target)} should act as`,
          command: `gcloud iam service-accounts list --project ${target.project}`,
        },
      ],
    },
  );
}

function judgeGsa(facts: Facts): ChainLink {
  const { gsa, target } = facts;
  if (gsa.via === 'unread') return blocked(4, facts, 'ksa');
  if (gsa.via === 'search') {
    if (!gsa.search.ok) return link(4, 'unknown', `not checked: ${gsa.search.reason}`);
    const bound = gsa.search.value.map((b) => b.info);
    if (bound.length === 0) return link(4, 'not-applicable', noGsa(facts));
    return judgeGsaInfos(bound, target);
  }
  if (!gsa.info.ok) return link(4, 'unknown', gsa.info.reason);
  if (gsa.info.value === undefined) {
    const owner = projectOfEmail(gsa.email) ?? target.project;
    return link(4, 'broken', `${gsa.email}${elsewhere(gsa.email, target)} does not exist (deleted?)`, {
      kind: 'gsa-missing',
      repair: [
        undeleteGsa(owner, deletedUniqueId(owner, gsa.email)),
        recreateGsa(owner, gsa.email),
        addBinding(gsa.email, classicMember(facts.workloadPool, target.namespace, target.name)),
      ],
    });
  }
  return judgeGsaInfos([gsa.info.value], target);
}

function judgeGsaInfos(infos: GsaInfo[], target: DiagnoseTarget): ChainLink {
  const disabled = infos.filter((info) => info.disabled);
  const names = infos.map((info) => `${info.email}${elsewhere(info.email, target)}`);
  if (disabled.length === 0)
    return link(4, 'ok', `${list(names)} ${infos.length > 1 ? 'exist and are' : 'exists and is'} enabled`);
  return link(
    4,
    'broken',
    `${list(disabled.map((info) => info.email))} ${disabled.length > 1 ? 'are' : 'is'} disabled: no token is issued for it`,
    {
      kind: 'gsa-disabled',
      repair: disabled.map((info) => enableGsa(info.email)),
    },
  );
}

/**
 * The unique id a deleted GSA had, read from its DeleteServiceAccount audit entry (undelete needs it,
 * and IAM no longer answers for the email): a real command, not a placeholder.
 */
function deletedUniqueId(project: string, email: string): string {
  const filter = `resource.type="service_account" AND resource.labels.email_id="${email}" AND protoPayload.methodName="google.iam.admin.v1.DeleteServiceAccount"`;
  return `"$(gcloud logging read '${filter}' --project ${project} --freshness 30d --limit 1 --format 'value(resource.labels.unique_id)')"`;
}

function judgeBinding(facts: Facts): ChainLink {
  const { gsa, target, workloadPool } = facts;
  const member = classicMember(workloadPool, target.namespace, target.name);
  if (gsa.via === 'unread') return blocked(5, facts, 'ksa');
  if (gsa.via === 'search') {
    if (!gsa.search.ok) return link(5, 'unknown', `not checked: ${gsa.search.reason}`);
    const bound = gsa.search.value;
    if (bound.length === 0) return link(5, 'not-applicable', noGsa(facts));
    return link(
      5,
      'ok',
      bound.map((b) => `${WI_USER_ROLE} on ${b.info.email} grants ${b.member}`).join('; '),
    );
  }
  if (gsa.info.ok && gsa.info.value === undefined)
    return link(5, 'not-applicable', `no policy to check: ${gsa.email} does not exist`);
  if (!gsa.policy.ok) return link(5, 'unknown', gsa.policy.reason);
  const found = bindingMember(gsa.policy.value, workloadPool, target.namespace, target.name);
  if (found !== undefined) return link(5, 'ok', `${WI_USER_ROLE} on ${gsa.email} grants ${found}`);
  return link(
    5,
    'broken',
    `the policy of ${gsa.email} grants ${WI_USER_ROLE} to no member covering ${member}`,
    {
      kind: 'binding-missing',
      repair: [addBinding(gsa.email, member)],
    },
  );
}

function judgeEgress(facts: Facts): ChainLink {
  const { pods, policies, target } = facts;
  if (pods === undefined || !pods.ok || policies === undefined) return blocked(6, facts, 'pods');
  if (!policies.ok) return link(6, 'unknown', policies.reason);
  if (pods.value.length === 0) return link(6, 'not-applicable', `no running pod uses ${ksaName(target)}`);
  const verdicts = pods.value.map((pod) => ({ pod, verdict: judgeMetadataEgress(policies.value, pod) }));
  const blockedPods = verdicts.filter(({ verdict }) => verdict.blockedPorts.length > 0);
  if (blockedPods.length === 0) {
    const restricting = [...new Set(verdicts.flatMap(({ verdict }) => verdict.policies))];
    return link(
      6,
      'ok',
      restricting.length === 0
        ? `no NetworkPolicy restricts the egress of its pods`
        : `${policyNames(target, restricting)} ${restricting.length > 1 ? 'allow' : 'allows'} ${METADATA_IP} on TCP 80 and 988`,
    );
  }
  const names = [...new Set(blockedPods.flatMap(({ verdict }) => verdict.policies))];
  const ports = [...new Set(blockedPods.flatMap(({ verdict }) => verdict.blockedPorts))].sort(
    (a, b) => a - b,
  );
  return link(
    6,
    'broken',
    `${list(blockedPods.map(({ pod }) => pod.name))} cannot reach ${METADATA_IP} on TCP ${ports.join(' and ')}: ${policyNames(target, names)} ${names.length > 1 ? 'restrict' : 'restricts'} their egress`,
    {
      kind: 'metadata-egress-blocked',
      repair: [getCredentials(target.project, target.cluster), allowMetadataEgress(target.namespace)],
    },
  );
}

function judgeKeyFile(facts: Facts): ChainLink {
  const { pods, target } = facts;
  if (pods === undefined || !pods.ok) return blocked(7, facts, 'pods');
  if (pods.value.length === 0) return link(7, 'not-applicable', `no running pod uses ${ksaName(target)}`);
  const workloads = workloadsOf(asSnapshotCluster(target.cluster), pods.value);
  const runAs = `${plural(pods.value.length, 'pod')} (${list(uniqueWorkloads(workloads))}) ${pods.value.length === 1 ? 'runs' : 'run'} as ${ksaName(target)}`;
  const offenders = pods.value.filter((pod) => pod.env.includes(KEY_FILE_VARIABLE));
  if (offenders.length === 0) return link(7, 'ok', `${runAs}; none sets ${KEY_FILE_VARIABLE}`);
  const offending = workloadsOf(asSnapshotCluster(target.cluster), offenders);
  return link(
    7,
    'broken',
    `${list(offenders.map((pod) => pod.name))} ${offenders.length > 1 ? 'set' : 'sets'} ${KEY_FILE_VARIABLE}: the key file wins over Workload Identity`,
    {
      kind: 'key-file-override',
      repair: [getCredentials(target.project, target.cluster), ...dedupe(offending).map(unsetKeyFile)],
    },
  );
}

// ---- the verdict ----------------------------------------------------------------------------------

function verdictOf(target: DiagnoseTarget, links: readonly ChainLink[]): string {
  const who = `${ksaName(target)} in ${target.cluster.name}`;
  const broken = links.filter((l) => l.status === 'broken');
  const unknown = links.filter((l) => l.status === 'unknown');
  const unchecked = `could not check ${linkWord(unknown)} ${numbers(unknown)}`;
  if (broken.length > 0) {
    const what = broken.map((l) => `${l.link}${l.kind ? ` (${l.kind})` : ''}`).join(', ');
    return `broken: ${linkWord(broken)} ${what} of ${who}${unknown.length > 0 ? `; ${unchecked}` : ''}`;
  }
  if (unknown.length > 0) return `not verified: ${unchecked} of ${who}; nothing checked is broken`;
  return `healthy: every link of ${who} holds`;
}

function linkWord(links: readonly ChainLink[]): string {
  return links.length === 1 ? 'link' : 'links';
}

// ---- small helpers ----------------------------------------------------------------------------------

function noGsa(facts: Facts): string {
  const missing = facts.ksa?.ok && facts.ksa.value === undefined;
  return missing ? 'no GSA to check: the KSA does not exist' : `${ksaName(facts.target)} acts as no GSA`;
}

function gsasOf(gsa: GsaFacts): string[] {
  if (gsa.via === 'annotation') return [gsa.email];
  if (gsa.via === 'search' && gsa.search.ok) return gsa.search.value.map((b) => b.info.email);
  return [];
}

function describePod(pod: SnapshotPod, cluster: GkeCluster | undefined): DiagnosedPod {
  const mode = cluster?.nodePools.find((p) => p.name === pod.nodePool)?.workloadMetadataMode;
  return {
    name: pod.name,
    workload: { kind: pod.owner?.kind ?? 'Pod', name: pod.owner?.name ?? pod.name },
    ...(pod.nodePool ? { nodePool: pod.nodePool } : {}),
    ...(mode ? { metadataMode: mode } : {}),
  };
}

/** workloadsOf reads only the cluster's name. */
function asSnapshotCluster(cluster: ClusterRef): SnapshotCluster {
  return { ...cluster, nodePools: [], serviceAccounts: [], pods: [], networkPolicies: [] };
}

function uniqueWorkloads(workloads: readonly WorkloadRef[]): string[] {
  return [...new Set(workloads.map((w) => `${w.kind} ${w.name}`))];
}

function dedupe(workloads: readonly WorkloadRef[]): WorkloadRef[] {
  const seen = new Map<string, WorkloadRef>();
  for (const w of workloads) seen.set(`${w.namespace}/${w.kind}/${w.name}`, w);
  return [...seen.values()];
}

function policyNames(target: DiagnoseTarget, names: readonly string[]): string {
  const qualified = list(names.map((name) => `${target.namespace}/${name}`));
  return `${names.length > 1 ? 'NetworkPolicies' : 'NetworkPolicy'} ${qualified}`;
}

function poolNames(pods: readonly SnapshotPod[]): string[] {
  return [...new Set(pods.map((pod) => pod.nodePool ?? ''))].sort();
}

function modeLabel(mode: string | undefined): string {
  return mode ?? 'unset, so GCE_METADATA';
}

function elsewhere(email: string, target: DiagnoseTarget): string {
  const project = projectOfEmail(email);
  return project && project !== target.project ? ` (project ${project})` : '';
}

function clusterName(target: DiagnoseTarget): string {
  return `${target.project}/${target.cluster.location}/${target.cluster.name}`;
}

function ksaName(target: { namespace: string; name: string }): string {
  return `${target.namespace}/${target.name}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function list(items: readonly string[]): string {
  return items.join(', ');
}

function numbers(links: readonly ChainLink[]): string {
  return links.map((l) => l.link).join(', ');
}
