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
import type { Finding } from './finding.ts';
import { removeProjectRole } from './remediation.ts';

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
    const firing = delta.action === 'ADD';
    findings.push(
      makeFinding({
        kind: 'binding-orphaned',
        status: firing ? 'firing' : 'resolved',
        severity: 'info',
        key: [event.project, event.gsa, subject.workloadPool, subject.namespace, subject.name],
        project: event.project,
        gsa: event.gsa,
        ksas: [{ workloadPool: subject.workloadPool, namespace: subject.namespace, name: subject.name }],
        source: event.source,
        summary: firing
          ? `${event.gsa} was bound${by(event.source)} to ${ksaName(subject)}, which exists in no cluster of ${subject.workloadPool}`
          : `the binding of ${event.gsa} to ${ksaName(subject)} was removed${by(event.source)}`,
        remediation: [
          {
            title: 'Remove the binding if nothing will use it',
            command: `gcloud iam service-accounts remove-iam-policy-binding ${event.gsa} --role ${WI_USER_ROLE} --member "${delta.member}"`,
          },
        ],
      }),
    );
  }
  return findings;
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
};

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
