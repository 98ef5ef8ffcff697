import { judgeBinding } from '../chain/judge.ts';
import { addBinding, showPolicy } from '../chain/remediation.ts';
import { snapshotFacts } from '../chain/snapshot-facts.ts';
import type { Finding, PolicyRewrite } from '../domain/finding.ts';
import type { BindingDelta, GsaPolicyChange, KsaChange } from '../events/change-event.ts';
import { applyDeltas } from '../inventory/apply.ts';
import {
  clustersInPool,
  findCluster,
  findGsa,
  gsaOf,
  type Impact,
  impactOfSubject,
  ksaInPool,
  policyBinds,
} from '../inventory/impact.ts';
import {
  classicMember,
  parseWorkloadMember,
  projectOfEmail,
  type WorkloadSubject,
} from '../inventory/members.ts';
import { type IamPolicy, type Snapshot, WI_USER_ROLE } from '../inventory/snapshot.ts';
import { by, describeImpact, ksaName, makeFinding, outageSeverity } from './build.ts';
import type { Detector } from './detector.ts';
import { annotatedUsers, FOUND_BY_SWEEP, gsaProjectOf, targetOf } from './scan-support.ts';

/** The GSA's policy no longer lets the KSA act as it (role roles/iam.workloadIdentityUser). */
export const bindingMissing: Detector = {
  kind: 'binding-missing',
  severity: 'critical',
  title: 'A KSA lost the Workload Identity binding on its GSA',
  detect(event, snapshot) {
    if (event.type === 'gsa-policy') return fromPolicy(event, snapshot);
    if (event.type === 'k8s-serviceaccount') return fromAnnotation(event, snapshot);
    return [];
  },
  scan: scanBindings,
};

/**
 * Every annotated KSA whose GSA's policy does not bind it, in any member form: link 5 of its chain
 * broken. The fingerprint has no cluster (the binding is per workload pool), so a KSA annotated alike
 * in several clusters of its pool is one finding. A GSA the inventory does not hold, or holds as
 * deleted, is gsa-missing's to tell.
 */
function scanBindings(snapshot: Snapshot): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const [email, users] of annotatedUsers(snapshot)) {
    for (const { project, cluster, ksa } of users) {
      const pool = cluster.workloadPool ?? '';
      const id = `${email} ${pool}/${ksa.namespace}/${ksa.name}`;
      if (seen.has(id)) continue;
      const facts = snapshotFacts(snapshot, targetOf(project, cluster, ksa));
      if (judgeBinding(facts).status !== 'broken') continue;
      seen.add(id);
      const subject = { workloadPool: pool, namespace: ksa.namespace, name: ksa.name };
      const impact = impactOfSubject(snapshot, subject);
      const owner = gsaProjectOf(snapshot, email, project.projectId) ?? project.projectId;
      findings.push(
        makeFinding({
          kind: 'binding-missing',
          status: 'firing',
          severity: outageSeverity(impact),
          key: [owner, email, pool, ksa.namespace, ksa.name],
          project: owner,
          gsa: email,
          ksas: impact.ksas,
          workloads: impact.workloads,
          summary: `${ksaName(subject)} is annotated with ${email}, whose policy does not let it act as that GSA (${FOUND_BY_SWEEP}): its pods get no token${describeImpact(impact)}`,
          remediation: [addBinding(email, classicMember(pool, ksa.namespace, ksa.name)), showPolicy(email)],
        }),
      );
    }
  }
  return findings;
}

function fromPolicy(event: GsaPolicyChange, snapshot: Snapshot | undefined): Finding[] {
  const before = findGsa(snapshot, event.gsa)?.iamPolicy;
  const deltas = event.deltas.length > 0 ? event.deltas : diffPolicies(before, event.policy);
  // The policy after the change: as recorded, else the inventory's with the deltas applied.
  const after = event.policy ?? (before ? applyDeltas(before, deltas) : undefined);
  const touched = new Map<string, { member: string; subject: WorkloadSubject; added: boolean }>();
  for (const delta of deltas) {
    if (delta.role !== WI_USER_ROLE) continue;
    const subject = parseWorkloadMember(delta.member);
    if (subject === undefined) continue;
    for (const ksa of expand(subject, event.gsa, snapshot)) {
      const key = `${ksa.workloadPool}/${ksaName(ksa)}`;
      const previous = touched.get(key);
      touched.set(key, {
        member: delta.member,
        subject: ksa,
        added: (previous?.added ?? false) || delta.action === 'ADD',
      });
    }
  }
  const judged: { member: string; subject: WorkloadSubject; firing: boolean; inventoried: boolean }[] = [];
  for (const { member, subject, added } of touched.values()) {
    const name = subject.name ?? '*';
    // A name of `*` matches only a namespace-wide member, so the same check serves both forms.
    const boundAfter = after ? policyBinds(after, subject.workloadPool, subject.namespace, name) : added;
    // A grant that leaves the KSA bound resolves; a removal that leaves it bound (another form) is no break.
    if (boundAfter && !added) continue;
    const firing = !boundAfter;
    // A pool with no inventoried cluster belongs elsewhere: who is hit there is unknown, not nobody.
    const inventoried = snapshot !== undefined && clustersInPool(snapshot, subject.workloadPool).length > 0;
    // Removing a binding whose KSA exists in no cluster of its pool hits nobody: binding-orphaned tells of it.
    if (
      firing &&
      inventoried &&
      subject.name !== undefined &&
      !ksaInPool(snapshot, { ...subject, name: subject.name })
    )
      continue;
    judged.push({ member, subject, firing, inventoried });
  }
  const replaced = rewriteOf(deltas);
  // What the role must hold again: what the change left, and every member whose loss broke a KSA (an
  // authoritative resource's repair lists the role's members whole).
  const roleMembers = [
    ...(after?.bindings.filter((b) => b.role === WI_USER_ROLE).flatMap((b) => b.members) ?? []),
    ...judged.filter((j) => j.firing).map((j) => j.member),
  ];
  return judged.map(({ member, subject, firing, inventoried }) => {
    const name = subject.name ?? '*';
    const impact = inventoried && snapshot ? impactOfSubject(snapshot, subject, event.gsa) : undefined;
    return makeFinding({
      kind: 'binding-missing',
      status: firing ? 'firing' : 'resolved',
      severity: outageSeverity(impact),
      key: [event.project, event.gsa, subject.workloadPool, subject.namespace, name],
      project: event.project,
      gsa: event.gsa,
      ksas:
        impact?.ksas ??
        (subject.name ? [{ workloadPool: subject.workloadPool, namespace: subject.namespace, name }] : []),
      ...(impact ? { workloads: impact.workloads } : {}),
      source: event.source,
      ...(firing && replaced ? { replaced } : {}),
      summary: firing
        ? `${ksaName(subject)} can no longer act as ${event.gsa}: roles/iam.workloadIdentityUser removed${by(event.source)}${describeImpact(impact)}`
        : `${ksaName(subject)} may act as ${event.gsa} again: binding restored${by(event.source)}`,
      remediation: [addBinding(event.gsa, member), showPolicy(event.gsa)],
      repair: { member, roleMembers },
    });
  });
}

/**
 * Whether the request rewrote more than one member: members of several roles changed at once (the
 * whole policy was set, as google_service_account_iam_policy does), or the Workload Identity role lost
 * several members or lost some and gained others (its member list was replaced, as
 * google_service_account_iam_binding does). One member removed is what every tool's member-level
 * change looks like, and is not judged.
 */
function rewriteOf(deltas: readonly BindingDelta[]): PolicyRewrite | undefined {
  const wi = deltas.filter((d) => d.role === WI_USER_ROLE);
  const removedFromRole = wi.filter((d) => d.action === 'REMOVE').length;
  if (removedFromRole === 0) return undefined;
  const roles = new Set(deltas.map((d) => d.role)).size;
  const removed = deltas.filter((d) => d.action === 'REMOVE').length;
  const added = deltas.length - removed;
  const base = { role: WI_USER_ROLE, removed, added, roles };
  if (roles > 1) return { scope: 'policy', ...base };
  if (removedFromRole > 1 || wi.length > removedFromRole) return { scope: 'role', ...base };
  return undefined;
}

/** A namespace-wide member stands for the namespace's KSAs that use this GSA, when the inventory knows them. */
function expand(subject: WorkloadSubject, gsa: string, snapshot: Snapshot | undefined): WorkloadSubject[] {
  if (subject.name !== undefined || snapshot === undefined) return [subject];
  const names = new Set<string>();
  for (const { cluster } of clustersInPool(snapshot, subject.workloadPool)) {
    for (const ksa of cluster.serviceAccounts) {
      if (ksa.namespace === subject.namespace && gsaOf(ksa) === gsa) names.add(ksa.name);
    }
  }
  // Nobody in the inventory uses this GSA from the namespace: the removal breaks no one. A pool
  // without inventoried clusters is another project's: no verdict is possible, report the namespace.
  if (names.size === 0) return clustersInPool(snapshot, subject.workloadPool).length > 0 ? [] : [subject];
  return [...names].map((name) => ({ ...subject, name }));
}

/** Entries without a `policyDelta`: compare the recorded policy with the inventory's. */
export function diffPolicies(before: IamPolicy | undefined, after: IamPolicy | undefined): BindingDelta[] {
  if (before === undefined || after === undefined) return [];
  const pairs = (policy: IamPolicy) =>
    new Set(policy.bindings.flatMap((b) => b.members.map((member) => `${b.role}\u0000${member}`)));
  const old = pairs(before);
  const now = pairs(after);
  const delta = (action: BindingDelta['action']) => (pair: string) => {
    const [role = '', member = ''] = pair.split('\u0000');
    return { action, role, member };
  };
  return [
    ...[...old].filter((pair) => !now.has(pair)).map(delta('REMOVE')),
    ...[...now].filter((pair) => !old.has(pair)).map(delta('ADD')),
  ];
}

/** The annotation now names a GSA whose policy does not bind this KSA. */
function fromAnnotation(event: KsaChange, snapshot: Snapshot | undefined): Finding[] {
  const cluster = findCluster(snapshot, event.project, event.cluster);
  if (snapshot === undefined || cluster?.workloadPool === undefined || cluster.workloadPool === '') return [];
  const after = event.annotations
    ? event.annotations['iam.gke.io/gcp-service-account']
    : (event.requestedGsa ?? undefined);
  if (after === undefined || event.action === 'delete') return [];
  const previous = cluster.serviceAccounts.find(
    (ksa) => ksa.namespace === event.namespace && ksa.name === event.name,
  );
  if (previous && gsaOf(previous) === after) return [];
  const gsa = findGsa(snapshot, after);
  if (gsa === undefined) return [];
  const pool = cluster.workloadPool;
  if (policyBinds(gsa.iamPolicy, pool, event.namespace, event.name)) return [];
  const subject = { workloadPool: pool, namespace: event.namespace, name: event.name };
  const impact: Impact = impactOfSubject(snapshot, subject);
  return [
    makeFinding({
      kind: 'binding-missing',
      status: 'firing',
      severity: outageSeverity(impact),
      key: [gsaProject(after, event.project), after, pool, event.namespace, event.name],
      project: gsaProject(after, event.project),
      gsa: after,
      ksas: impact.ksas,
      workloads: impact.workloads,
      source: event.source,
      summary: `${ksaName(subject)} was annotated${by(event.source)} with ${after}, whose policy does not let it act as that GSA${describeImpact(impact)}`,
      remediation: [addBinding(after, classicMember(pool, event.namespace, event.name)), showPolicy(after)],
    }),
  ];
}

function gsaProject(email: string, fallback: string): string {
  return projectOfEmail(email) ?? fallback;
}
