import { removeProjectRole } from '../chain/remediation.ts';
import type { Finding } from '../domain/finding.ts';
import type { GsaPolicyChange, KsaChange, ProjectPolicyChange } from '../events/change-event.ts';
import {
  clustersInPool,
  findCluster,
  gsaOf,
  impactOfGsa,
  isWorkloadIdentityGsa,
  ksaInPool,
} from '../inventory/impact.ts';
import { parseWorkloadMember, projectOfEmail } from '../inventory/members.ts';
import { type Snapshot, WI_ANNOTATION, WI_USER_ROLE } from '../inventory/snapshot.ts';
import { by, ksaName, makeFinding } from './build.ts';
import type { Detector } from './detector.ts';
import { annotatedUsers, FOUND_BY_SWEEP, plural } from './scan-support.ts';

/** Least-privilege and drift warnings the troubleshooting guide recommends; never paged. */

const BROAD_ROLES = new Set(['roles/editor', 'roles/owner']);

/** A GSA that KSAs act as is granted roles/editor or roles/owner on a project, folder or organization. */
export const gsaBroadRole: Detector = {
  kind: 'gsa-broad-role',
  severity: 'warning',
  title: 'A Workload Identity GSA holds roles/editor or roles/owner',
  detect(event, snapshot) {
    if (event.type !== 'project-policy' || snapshot === undefined) return [];
    return broadRoleFindings(event, snapshot);
  },
  /** roles/editor or roles/owner held by a WI GSA on an inventoried project's own policy. */
  scan(snapshot) {
    const findings: Finding[] = [];
    for (const project of snapshot.projects) {
      for (const binding of project.iamPolicy?.bindings ?? []) {
        if (!BROAD_ROLES.has(binding.role)) continue;
        for (const member of binding.members) {
          if (!member.startsWith('serviceAccount:')) continue;
          const gsa = member.slice('serviceAccount:'.length);
          if (!isWorkloadIdentityGsa(snapshot, gsa)) continue;
          const resource = `projects/${project.projectId}`;
          findings.push(
            makeFinding({
              kind: 'gsa-broad-role',
              status: 'firing',
              severity: 'warning',
              key: [project.projectId, gsa, binding.role],
              project: project.projectId,
              gsa,
              ksas: impactOfGsa(snapshot, gsa).ksas,
              summary: `${gsa}, which pods act as through Workload Identity, holds ${binding.role} on ${resource} (${FOUND_BY_SWEEP})`,
              remediation: [removeProjectRole(resource, member, binding.role)],
            }),
          );
        }
      }
    }
    return findings;
  },
};

function broadRoleFindings(event: ProjectPolicyChange, snapshot: Snapshot): Finding[] {
  const findings: Finding[] = [];
  for (const delta of event.deltas) {
    if (!BROAD_ROLES.has(delta.role) || !delta.member.startsWith('serviceAccount:')) continue;
    const gsa = delta.member.slice('serviceAccount:'.length);
    if (!isWorkloadIdentityGsa(snapshot, gsa)) continue;
    const firing = delta.action === 'ADD';
    findings.push(
      makeFinding({
        kind: 'gsa-broad-role',
        status: firing ? 'firing' : 'resolved',
        severity: 'warning',
        key: [event.project, gsa, delta.role],
        project: event.project,
        gsa,
        ksas: impactOfGsa(snapshot, gsa).ksas,
        source: event.source,
        summary: firing
          ? `${gsa}, which pods act as through Workload Identity, was granted ${delta.role} on ${event.resource}${by(event.source)}`
          : `${delta.role} on ${event.resource} was removed from ${gsa}${by(event.source)}`,
        remediation: [removeProjectRole(event.resource, delta.member, delta.role)],
      }),
    );
  }
  return findings;
}

/** A binding is granted to a KSA that exists in no cluster of its workload pool. */
export const bindingOrphaned: Detector = {
  kind: 'binding-orphaned',
  severity: 'info',
  title: 'A Workload Identity binding names a KSA that exists nowhere',
  detect(event, snapshot) {
    if (event.type !== 'gsa-policy' || snapshot === undefined) return [];
    return orphanFindings(event, snapshot);
  },
  /** Every WI binding (by name) of a GSA whose KSA exists in no cluster of its inventoried pool. */
  scan(snapshot) {
    const findings: Finding[] = [];
    for (const project of snapshot.projects) {
      for (const gsa of project.serviceAccounts) {
        if (gsa.deleted) continue;
        for (const binding of gsa.iamPolicy.bindings) {
          if (binding.role !== WI_USER_ROLE) continue;
          for (const member of binding.members) {
            const subject = parseWorkloadMember(member);
            if (subject?.name === undefined) continue;
            if (clustersInPool(snapshot, subject.workloadPool).length === 0) continue;
            if (ksaInPool(snapshot, { ...subject, name: subject.name })) continue;
            findings.push(orphan(project.projectId, gsa.email, member, { ...subject, name: subject.name }));
          }
        }
      }
    }
    return findings;
  },
};

function orphanFindings(event: GsaPolicyChange, snapshot: Snapshot): Finding[] {
  const findings: Finding[] = [];
  for (const delta of event.deltas) {
    if (delta.role !== WI_USER_ROLE) continue;
    const subject = parseWorkloadMember(delta.member);
    if (subject?.name === undefined) continue;
    const clusters = clustersInPool(snapshot, subject.workloadPool);
    // A pool with no inventoried cluster is another team's or project's: no verdict.
    if (clusters.length === 0) continue;
    if (ksaInPool(snapshot, { ...subject, name: subject.name })) continue;
    findings.push(
      orphan(event.project, event.gsa, delta.member, { ...subject, name: subject.name }, event, delta.action),
    );
  }
  return findings;
}

/**
 * One orphaned binding: firing when granted (or found by the sweep, with no event), resolved when
 * the change removes it.
 */
function orphan(
  project: string,
  gsa: string,
  member: string,
  subject: { workloadPool: string; namespace: string; name: string },
  event?: GsaPolicyChange,
  action: 'ADD' | 'REMOVE' = 'ADD',
): Finding {
  const firing = action === 'ADD';
  const how = event ? by(event.source) : '';
  return makeFinding({
    kind: 'binding-orphaned',
    status: firing ? 'firing' : 'resolved',
    severity: 'info',
    key: [project, gsa, subject.workloadPool, subject.namespace, subject.name],
    project,
    gsa,
    ksas: [subject],
    ...(event ? { source: event.source } : {}),
    summary: event
      ? firing
        ? `${gsa} was bound${how} to ${ksaName(subject)}, which exists in no cluster of ${subject.workloadPool}`
        : `the binding of ${gsa} to ${ksaName(subject)} was removed${how}`
      : `${gsa} is bound to ${ksaName(subject)}, which exists in no cluster of ${subject.workloadPool} (${FOUND_BY_SWEEP})`,
    remediation: [
      {
        title: 'Remove the binding if nothing will use it',
        command: `gcloud iam service-accounts remove-iam-policy-binding ${gsa} --role ${WI_USER_ROLE} --member "${member}"`,
      },
    ],
  });
}

/** A GSA is named by KSAs of several namespaces: one workload's credentials serve another. */
export const gsaShared: Detector = {
  kind: 'gsa-shared',
  severity: 'info',
  title: 'A GSA is shared by KSAs of several namespaces',
  detect(event, snapshot) {
    if (event.type !== 'k8s-serviceaccount' || snapshot === undefined) return [];
    return sharedFindings(event, snapshot);
  },
  /** Every GSA that annotated KSAs of several namespaces name (across the WI clusters of the inventory). */
  scan(snapshot) {
    const findings: Finding[] = [];
    for (const [gsa, users] of annotatedUsers(snapshot)) {
      // Most GSAs serve one namespace: only those that do not need their users gathered.
      if (new Set(users.map(({ ksa }) => ksa.namespace)).size < 2) continue;
      const ksas = impactOfGsa(snapshot, gsa).ksas;
      const byNamespace = new Map<string, string[]>();
      for (const ksa of ksas)
        byNamespace.set(ksa.namespace, [...(byNamespace.get(ksa.namespace) ?? []), ksa.name]);
      if (byNamespace.size < 2) continue;
      const project = projectOfEmail(gsa) ?? users[0]?.project.projectId ?? '';
      // The namespace with the most KSAs keeps the GSA; the others get their own.
      const [keeper] = [...byNamespace.entries()].sort(
        ([a, x], [b, y]) => y.length - x.length || a.localeCompare(b),
      );
      const movers = ksas.filter((ksa) => ksa.namespace !== keeper?.[0]).slice(0, MAX_NEW_GSAS);
      findings.push(
        makeFinding({
          kind: 'gsa-shared',
          status: 'firing',
          severity: 'info',
          key: [project, gsa],
          project,
          gsa,
          ksas,
          summary: `${gsa} is used from ${plural(byNamespace.size, 'namespace')} (${[...byNamespace.keys()].sort().join(', ')}) (${FOUND_BY_SWEEP}): give each workload its own GSA`,
          remediation: movers.map((ksa) => ({
            title: `Create a GSA for ${ksa.namespace}/${ksa.name}`,
            command: `gcloud iam service-accounts create ${accountId(ksa.namespace, ksa.name)} --project ${project}`,
          })),
        }),
      );
    }
    return findings;
  },
};

/** Enough repair commands to show the way without burying the message. */
const MAX_NEW_GSAS = 5;

function sharedFindings(event: KsaChange, snapshot: Snapshot): Finding[] {
  const gsa = event.annotations?.[WI_ANNOTATION] ?? event.requestedGsa ?? undefined;
  if (gsa === undefined || event.action === 'delete') return [];
  const cluster = findCluster(snapshot, event.project, event.cluster);
  const known = cluster?.serviceAccounts.find(
    (k) => k.namespace === event.namespace && k.name === event.name,
  );
  if (known && gsaOf(known) === gsa) return [];
  const users = impactOfGsa(snapshot, gsa).ksas;
  const namespaces = new Set([...users.map((ksa) => ksa.namespace), event.namespace]);
  if (namespaces.size < 2) return [];
  const project = projectOfEmail(gsa) ?? event.project;
  const pool = cluster?.workloadPool ?? `${event.project}.svc.id.goog`;
  // The same KSA may already use the GSA from another cluster of the pool: list it once.
  const ksas = new Map(
    [...users, { workloadPool: pool, namespace: event.namespace, name: event.name }].map((ksa) => [
      `${ksa.workloadPool}/${ksa.namespace}/${ksa.name}`,
      ksa,
    ]),
  );
  return [
    makeFinding({
      kind: 'gsa-shared',
      status: 'firing',
      severity: 'info',
      key: [project, gsa],
      project,
      gsa,
      ksas: [...ksas.values()],
      source: event.source,
      summary: `${gsa} is now used from ${namespaces.size} namespaces (${[...namespaces].sort().join(', ')}): give each workload its own GSA`,
      remediation: [
        {
          title: `Create a GSA for ${event.namespace}/${event.name}`,
          command: `gcloud iam service-accounts create ${accountId(event.namespace, event.name)} --project ${project}`,
        },
      ],
      repair: { movers: [{ namespace: event.namespace, name: event.name }], accountIdOf: accountId },
    }),
  ];
}

/** A valid GSA account id (6 to 30 of [a-z0-9-], starting with a letter) from a KSA's names. */
export function accountId(namespace: string, name: string): string {
  const id = `${namespace}-${name}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 30)
    .replace(/-+$/, '');
  return id.length >= 6 ? id : `${id}-wi-gsa`.slice(0, 30);
}
