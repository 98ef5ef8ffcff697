import type { KsaRef, PagingKind, Remediation, WorkloadRef } from '../domain/finding.ts';
import { bindingMembers, gsaOf, unboundKsas, workloadsOf } from '../inventory/impact.ts';
import { classicMember, projectOfEmail } from '../inventory/members.ts';
import { judgeMetadataEgress, METADATA_IP } from '../inventory/network-policy.ts';
import {
  type IamPolicy,
  KEY_FILE_VARIABLE,
  type SnapshotCluster,
  type SnapshotNodePool,
  type SnapshotPod,
  WI_ANNOTATION,
  WI_USER_ROLE,
} from '../inventory/snapshot.ts';
import type { ChainFacts, ChainTarget, GsaFacts, Known } from './facts.ts';
import { type ChainLink, type ChainState, chainStateOf, LINK_NAMES, type LinkState } from './link.ts';
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
} from './remediation.ts';

/**
 * The seven links of one KSA judged from its facts: the one judgement the sweep, `diagnose` and
 * `/wi-status` share. Each link is judged in one function below; the sweep's scans ask the same
 * questions of a pool, a GSA or a policy through the predicates exported here. Pure.
 */

export interface ChainVerdict {
  state: ChainState;
  /** Every link ok or not applicable: `state` ok. */
  healthy: boolean;
  /** One line: what a reader needs first. */
  text: string;
}

export interface JudgedChain {
  links: ChainLink[];
  verdict: ChainVerdict;
}

export function judgeChain(facts: ChainFacts): JudgedChain {
  const links = [
    judgeCluster(facts),
    judgePools(facts),
    judgeKsa(facts),
    judgeGsa(facts),
    judgeBinding(facts),
    judgeEgress(facts),
    judgeKeyFile(facts),
  ];
  const state = chainStateOf(links);
  return {
    links,
    verdict: {
      state,
      healthy: state === 'ok',
      text: verdictText(facts.target, links),
    },
  };
}

// ---- what the links ask of a pool, a policy, a project ---------------------------------------------

/** Whether a node pool runs the GKE metadata server (GCE_METADATA, unset and legacy modes do not). */
export function runsGkeMetadata(pool: Pick<SnapshotNodePool, 'workloadMetadataMode'>): boolean {
  return pool.workloadMetadataMode === 'GKE_METADATA';
}

/**
 * The member of `roles/iam.workloadIdentityUser` that covers the KSA, as the policy spells it: one
 * that names the KSA first (principal://, then the classic form), else its namespace's principalSet.
 * Undefined: the policy does not bind the KSA.
 */
export function bindingMember(
  policy: IamPolicy,
  workloadPool: string,
  namespace: string,
  name: string,
): string | undefined {
  const members = bindingMembers(policy, workloadPool, namespace, name);
  if (members.length === 0) return undefined;
  const named = members.filter(namesKsa);
  return named.find((member) => !member.startsWith('serviceAccount:')) ?? named[0] ?? members[0];
}

/** Whether a binding member names the KSA itself, not its whole namespace. */
export function namesKsa(member: string): boolean {
  return !member.startsWith('principalSet://');
}

// ---- the links ----------------------------------------------------------------------------------

function link(
  number: number,
  status: LinkState,
  detail: string,
  brief: string = detail,
  broken?: { kind?: PagingKind; repair: Remediation[] },
): ChainLink {
  return {
    link: number,
    name: LINK_NAMES[number - 1] ?? `link ${number}`,
    status,
    detail,
    brief,
    ...(broken?.kind ? { kind: broken.kind } : {}),
    repair: broken?.repair ?? [],
  };
}

/** A link that depends on a read that failed or found nothing. */
function blocked(number: number, facts: ChainFacts, needs: 'cluster' | 'ksa' | 'pods'): ChainLink {
  const { cluster, ksa, pods } = facts;
  if (!cluster.ok) return link(number, 'unknown', `not checked: the cluster could not be read (link 1)`);
  if (cluster.value === undefined)
    return link(number, 'not-applicable', `not checked: cluster ${clusterName(facts.target)} does not exist`);
  if (needs === 'ksa' && ksa && !ksa.ok)
    return link(number, 'unknown', `not checked: the KSA could not be read (link 3)`);
  if (needs === 'pods' && pods && !pods.ok) return link(number, 'unknown', pods.reason);
  return link(number, 'unknown', 'not checked');
}

export function judgeCluster(
  facts: Pick<ChainFacts, 'cluster' | 'workloadPool'> & { target: Pick<ChainTarget, 'project' | 'cluster'> },
): ChainLink {
  const { cluster, target } = facts;
  if (!cluster.ok) return link(1, 'unknown', cluster.reason);
  if (cluster.value === undefined) {
    return link(1, 'broken', `cluster ${clusterName(target)} does not exist`, undefined, {
      repair: [
        {
          title: `List the clusters of ${target.project}`,
          command: `gcloud container clusters list --project ${target.project}`,
        },
      ],
    });
  }
  const pool = cluster.value.workloadPool;
  if (pool) return link(1, 'ok', `${target.cluster.name} is joined to ${pool}`, `joined to ${pool}`);
  return link(
    1,
    'broken',
    `${target.cluster.name} has no workload pool: Workload Identity is off, no pod of it gets a GSA`,
    'Workload Identity is off: no workload pool',
    {
      kind: 'cluster-wi-disabled',
      repair: [enableClusterWi(target.project, target.cluster, facts.workloadPool)],
    },
  );
}

/** The pools the KSA's running pods are scheduled on; a pool the cluster does not list is unknown. */
function judgePools(facts: ChainFacts): ChainLink {
  const { cluster, pods, target } = facts;
  if (!cluster.ok || cluster.value === undefined || pods === undefined || !pods.ok)
    return blocked(2, facts, 'pods');
  const pools = cluster.value.nodePools;
  const poolOf = (pod: SnapshotPod) => pools.find((p) => p.name === pod.nodePool);
  const scheduled = pods.value.filter((pod) => pod.nodePool !== undefined);
  if (scheduled.length === 0) {
    const unserved = pools.filter((pool) => !runsGkeMetadata(pool));
    const where =
      unserved.length === 0
        ? `every node pool (${pools.map((p) => p.name).join(', ')}) runs GKE_METADATA`
        : `new pods could land on ${unserved.map((p) => `${p.name} (${modeLabel(p.workloadMetadataMode)})`).join(', ')}`;
    const pending = pods.value.length > 0 ? `${pods.value.length} pending, ` : '';
    return link(
      2,
      'not-applicable',
      `no running pod uses ${ksaName(target)} (${pending}${where})`,
      'no running pods',
    );
  }
  const unlisted = scheduled.filter((pod) => poolOf(pod) === undefined);
  const bad = scheduled.filter((pod) => {
    const pool = poolOf(pod);
    return pool !== undefined && !runsGkeMetadata(pool);
  });
  const good = scheduled.filter((pod) => {
    const pool = poolOf(pod);
    return pool !== undefined && runsGkeMetadata(pool);
  });
  const modeOf = (name: string) => pools.find((p) => p.name === name)?.workloadMetadataMode;
  if (bad.length === 0 && unlisted.length > 0) {
    const detail = `${list(unlisted.map((pod) => pod.name))} on ${list(poolNames(unlisted))}, which ${target.cluster.name} does not list: its metadata mode is unknown`;
    return link(2, 'unknown', detail);
  }
  if (bad.length === 0) {
    const used = new Set(poolNames(scheduled));
    return link(
      2,
      'ok',
      `${plural(scheduled.length, 'pod')} on ${list(poolNames(scheduled))}: all GKE_METADATA`,
      `${list(pools.filter((p) => used.has(p.name)).map((p) => p.name))} on GKE_METADATA`,
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
  const which = pools
    .filter((p) => badPools.includes(p.name))
    .map((p) => `${p.name} (${p.workloadMetadataMode ?? 'unset'})`)
    .join(', ');
  return link(
    2,
    'broken',
    `${onBad} act as the node's service account, not their GSA${fine}`,
    `${which}: pods there act as the node's service account`,
    {
      kind: 'nodepool-metadata-disabled',
      repair: badPools.map((pool) => poolBackToGkeMetadata(target.project, target.cluster, pool)),
    },
  );
}

export function judgeKsa(facts: ChainFacts): ChainLink {
  const { ksa, target, gsa } = facts;
  if (ksa === undefined) return blocked(3, facts, 'ksa');
  if (!ksa.ok) return link(3, 'unknown', ksa.reason);
  const credentials = getCredentials(target.project, target.cluster);
  const restarts = () => restartWorkloads(facts.pods?.ok ? workloadsIn(target, facts.pods.value) : []);
  if (ksa.value === undefined) {
    const known = gsa.via === 'search' && gsa.search.ok ? gsa.search.value : [];
    const only = known.length === 1 ? known[0]?.gsa.email : undefined;
    const create = `kubectl create serviceaccount ${target.name} -n ${target.namespace}`;
    return link(
      3,
      'broken',
      `KSA ${ksaName(target)} does not exist in ${target.cluster.name}`,
      `no KSA ${ksaName(target)} in this cluster`,
      {
        kind: 'annotation-missing',
        repair: [
          credentials,
          {
            title: only ? `Recreate the KSA naming ${only}` : 'Recreate the KSA',
            command: only ? `${create} && ${annotate(target.namespace, target.name, only).command}` : create,
          },
          // Pods read their identity when they start.
          ...restarts(),
        ],
      },
    );
  }
  const email = gsaOf(ksa.value);
  if (email !== undefined)
    return link(3, 'ok', `${ksaName(target)} names ${email} (${WI_ANNOTATION})`, email);
  if (gsa.via !== 'search') return link(3, 'unknown', 'not checked');
  if (!gsa.search.ok) return link(3, 'unknown', `${gsa.search.reason} (to find a GSA that binds it)`);
  const bound = gsa.search.value;
  // Acting as a GSA needs the annotation whatever the member's form: the metadata server learns the
  // GSA from it. Without one, pods act as their own principal, which is fine only where a project
  // grants that principal roles itself (direct resource access).
  const direct = gsa.directGrants.ok ? gsa.directGrants.value : [];
  const named = bound.filter((b) => namesKsa(b.member));
  if (named.length > 0 && direct.length === 0) {
    const on = named.map((b) => `${b.gsa.email} (${b.member})`).join(', ');
    return link(
      3,
      'broken',
      `${ksaName(target)} has no ${WI_ANNOTATION} annotation although ${on} binds it: its pods act as the KSA's own principal, not the GSA`,
      `no ${WI_ANNOTATION} annotation although ${list(named.map((b) => b.gsa.email))} binds it`,
      {
        kind: 'annotation-missing',
        repair: [
          credentials,
          ...named.map((b) => annotate(target.namespace, target.name, b.gsa.email)),
          ...restarts(),
        ],
      },
    );
  }
  if (direct.length === 0 && bound.length > 0) {
    const on = bound.map((b) => `${b.gsa.email} (${b.member})`).join(', ');
    return link(
      3,
      'ok',
      `${ksaName(target)} names no GSA; ${on} binds its whole namespace, which acting as that GSA would need the annotation for: its pods act as their own principal`,
      `names no GSA; ${list(bound.map((b) => b.gsa.email))} binds its whole namespace`,
    );
  }
  if (direct.length > 0) {
    return link(
      3,
      'ok',
      `${ksaName(target)} names no GSA: it uses direct principal access (${target.project} grants it ${list(direct)})`,
      `none needed: ${target.project} grants its principal ${list(direct)}`,
    );
  }
  const unread = gsa.directGrants.ok ? '' : `; project policy not read: ${gsa.directGrants.reason}`;
  return link(
    3,
    'broken',
    `${ksaName(target)} has no ${WI_ANNOTATION} annotation and no GSA of ${target.project} binds it: its pods act as the KSA's own principal, which only works where that principal is granted roles directly${unread}`,
    `no ${WI_ANNOTATION} annotation`,
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

/**
 * The GSA the annotation names. A KSA that names none acts as its own principal, whatever binds it
 * (link 5 says what does): no GSA to judge.
 */
function judgeGsa(facts: ChainFacts): ChainLink {
  const { gsa, target } = facts;
  if (gsa.via === 'unread') return blocked(4, facts, 'ksa');
  if (gsa.via === 'search') {
    if (!gsa.search.ok) return link(4, 'unknown', `not checked: ${gsa.search.reason}`);
    return link(4, 'not-applicable', noGsa(facts), 'no GSA named');
  }
  const { email, info } = gsa;
  const state = gsaState(info);
  if (!info.ok) return link(4, 'unknown', info.reason);
  if (state === 'missing') {
    const owner = projectOfEmail(email) ?? target.project;
    return link(
      4,
      'broken',
      `${email}${elsewhere(email, target)} does not exist (deleted?)`,
      info.value?.deleted ? `${email} was deleted (undelete within 30 days)` : `${email} does not exist`,
      {
        kind: 'gsa-missing',
        repair: [
          undeleteGsa(owner, deletedUniqueId(owner, email)),
          recreateGsa(owner, email),
          addBinding(email, classicMember(facts.workloadPool, target.namespace, target.name)),
        ],
      },
    );
  }
  if (state === 'disabled') {
    return link(4, 'broken', `${email} is disabled: no token is issued for it`, `${email} is disabled`, {
      kind: 'gsa-disabled',
      repair: [enableGsa(email)],
    });
  }
  return link(4, 'ok', `${email}${elsewhere(email, target)} exists and is enabled`, `${email} is enabled`);
}

/**
 * What state a GSA is in, as link 4 takes it: missing when IAM no longer holds it (a deleted one is
 * kept only for its undelete window), disabled, usable, or unknown when it could not be read.
 */
export function gsaState(info: Known<GsaFacts | undefined>): 'ok' | 'missing' | 'disabled' | 'unknown' {
  if (!info.ok) return 'unknown';
  if (info.value === undefined || info.value.deleted === true) return 'missing';
  return info.value.disabled ? 'disabled' : 'ok';
}

/**
 * Whether a GSA as the inventory holds it lets every one of these KSAs act as it (link 5 for each):
 * it exists, is not deleted (its policy went with it), and its policy binds them all. A GSA
 * re-created under the email is another principal: its empty policy serves none.
 */
export function servesKsas(
  gsa: { deleted?: boolean | undefined; iamPolicy?: IamPolicy | undefined } | undefined,
  ksas: readonly KsaRef[],
): boolean {
  return gsa !== undefined && gsa.deleted !== true && unboundKsas(gsa.iamPolicy, ksas).length === 0;
}

/**
 * The unique id a deleted GSA had, read from its DeleteServiceAccount audit entry (undelete needs it,
 * and IAM no longer answers for the email): a real command, not a placeholder.
 */
function deletedUniqueId(project: string, email: string): string {
  const filter = `resource.type="service_account" AND resource.labels.email_id="${email}" AND protoPayload.methodName="google.iam.admin.v1.DeleteServiceAccount"`;
  return `"$(gcloud logging read '${filter}' --project ${project} --freshness 30d --limit 1 --format 'value(resource.labels.unique_id)')"`;
}

export function judgeBinding(facts: ChainFacts): ChainLink {
  const { gsa, target, workloadPool } = facts;
  const member = classicMember(workloadPool, target.namespace, target.name);
  if (gsa.via === 'unread') return blocked(5, facts, 'ksa');
  if (gsa.via === 'search') {
    // What binds a KSA that names no GSA: link 3 judges whether it needs the annotation to use it.
    if (!gsa.search.ok) return link(5, 'unknown', `not checked: ${gsa.search.reason}`);
    const bound = gsa.search.value;
    if (bound.length === 0) return link(5, 'not-applicable', noGsa(facts), 'no GSA named');
    return link(
      5,
      'ok',
      bound.map((b) => `${WI_USER_ROLE} on ${b.gsa.email} grants ${b.member}`).join('; '),
      `${WI_USER_ROLE} on ${list(bound.map((b) => b.gsa.email))}`,
    );
  }
  if (gsaState(gsa.info) === 'missing')
    return link(
      5,
      'not-applicable',
      `no policy to check: ${gsa.email} does not exist`,
      'no GSA to hold the binding',
    );
  if (!gsa.policy.ok) return link(5, 'unknown', gsa.policy.reason);
  const found = bindingMember(gsa.policy.value, workloadPool, target.namespace, target.name);
  if (found !== undefined)
    return link(
      5,
      'ok',
      `${WI_USER_ROLE} on ${gsa.email} grants ${found}`,
      `${WI_USER_ROLE} granted to ${member}`,
    );
  return link(
    5,
    'broken',
    `the policy of ${gsa.email} grants ${WI_USER_ROLE} to no member covering ${member}`,
    `${WI_USER_ROLE} not granted to ${member}`,
    { kind: 'binding-missing', repair: [addBinding(gsa.email, member)] },
  );
}

function judgeEgress(facts: ChainFacts): ChainLink {
  const { pods, policies, target } = facts;
  if (pods === undefined || !pods.ok || policies === undefined) return blocked(6, facts, 'pods');
  if (!policies.ok) return link(6, 'unknown', policies.reason);
  if (pods.value.length === 0)
    return link(6, 'not-applicable', `no running pod uses ${ksaName(target)}`, 'no running pods');
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
      'no NetworkPolicy blocks it',
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
    `${list(names)} block${names.length === 1 ? 's' : ''} TCP ${list(ports.map(String))} to ${METADATA_IP} for ${blockedPods.length} of ${pods.value.length} pods`,
    {
      kind: 'metadata-egress-blocked',
      repair: [getCredentials(target.project, target.cluster), allowMetadataEgress(target.namespace)],
    },
  );
}

function judgeKeyFile(facts: ChainFacts): ChainLink {
  const { pods, target } = facts;
  if (pods === undefined || !pods.ok) return blocked(7, facts, 'pods');
  const running = pods.value;
  if (running.length === 0)
    return link(7, 'not-applicable', `no running pod uses ${ksaName(target)}`, 'no running pods');
  const workloads = workloadsIn(target, running);
  const runAs = `${plural(running.length, 'pod')} (${list(uniqueWorkloads(workloads))}) ${running.length === 1 ? 'runs' : 'run'} as ${ksaName(target)}`;
  const offenders = running.filter(setsKeyFile);
  if (offenders.length === 0)
    return link(
      7,
      'ok',
      `${runAs}; none sets ${KEY_FILE_VARIABLE}`,
      `${running.length} running, none sets ${KEY_FILE_VARIABLE}`,
    );
  return link(
    7,
    'broken',
    `${list(offenders.map((pod) => pod.name))} ${offenders.length > 1 ? 'set' : 'sets'} ${KEY_FILE_VARIABLE}: the key file wins over Workload Identity`,
    `${offenders.length} of ${running.length} set ${KEY_FILE_VARIABLE}: a key file overrides Workload Identity`,
    {
      kind: 'key-file-override',
      repair: [
        getCredentials(target.project, target.cluster),
        ...dedupe(workloadsIn(target, offenders)).map(unsetKeyFile),
      ],
    },
  );
}

/** Whether the pod takes its credentials from a key file, which Google's libraries read before WI. */
export function setsKeyFile(pod: Pick<SnapshotPod, 'env'>): boolean {
  return pod.env.includes(KEY_FILE_VARIABLE);
}

// ---- the verdict ----------------------------------------------------------------------------------

function verdictText(target: ChainTarget, links: readonly ChainLink[]): string {
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

function numbers(links: readonly ChainLink[]): string {
  return links.map((l) => l.link).join(', ');
}

// ---- small helpers ----------------------------------------------------------------------------------

function noGsa(facts: ChainFacts): string {
  const missing = facts.ksa?.ok && facts.ksa.value === undefined;
  return missing ? 'no GSA to check: the KSA does not exist' : `${ksaName(facts.target)} acts as no GSA`;
}

/** The KSA's workloads (owner kind and name per node pool), in its cluster. */
export function workloadsIn(target: ChainTarget, pods: readonly SnapshotPod[]): WorkloadRef[] {
  // workloadsOf reads only the cluster's name.
  const cluster: SnapshotCluster = {
    ...target.cluster,
    nodePools: [],
    serviceAccounts: [],
    pods: [],
    networkPolicies: [],
  };
  return workloadsOf(cluster, pods);
}

function uniqueWorkloads(workloads: readonly WorkloadRef[]): string[] {
  return [...new Set(workloads.map((w) => `${w.kind} ${w.name}`))];
}

function dedupe(workloads: readonly WorkloadRef[]): WorkloadRef[] {
  const seen = new Map<string, WorkloadRef>();
  for (const w of workloads) seen.set(`${w.namespace}/${w.kind}/${w.name}`, w);
  return [...seen.values()];
}

function policyNames(target: ChainTarget, names: readonly string[]): string {
  const qualified = list(names.map((name) => `${target.namespace}/${name}`));
  return `${names.length > 1 ? 'NetworkPolicies' : 'NetworkPolicy'} ${qualified}`;
}

function poolNames(pods: readonly SnapshotPod[]): string[] {
  return [...new Set(pods.map((pod) => pod.nodePool ?? ''))].sort();
}

/** A pool's metadata mode in words; an unset mode serves the node's identity (GCE_METADATA). */
export function modeLabel(mode: string | undefined): string {
  return mode ?? 'unset, so GCE_METADATA';
}

function elsewhere(email: string, target: ChainTarget): string {
  const project = projectOfEmail(email);
  return project && project !== target.project ? ` (project ${project})` : '';
}

export function clusterName(target: Pick<ChainTarget, 'project' | 'cluster'>): string {
  return `${target.project}/${target.cluster.location}/${target.cluster.name}`;
}

export function ksaName(target: { namespace: string; name: string }): string {
  return `${target.namespace}/${target.name}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function list(items: readonly string[]): string {
  return items.join(', ');
}
