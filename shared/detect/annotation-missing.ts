import { annotate, getCredentials, restartWorkloads } from '../chain/remediation.ts';
import type { Finding, Remediation } from '../domain/finding.ts';
import { findCluster, gsaOf, impactOfSubject, workloadsOf } from '../inventory/impact.ts';
import { parseWorkloadMember } from '../inventory/members.ts';
import {
  type Snapshot,
  type SnapshotCluster,
  type SnapshotPod,
  WI_ANNOTATION,
  WI_USER_ROLE,
} from '../inventory/snapshot.ts';
import { by, describeImpact, makeFinding, outageSeverity, PAST_TENSE } from './build.ts';
import type { Detector } from './detector.ts';
import { FOUND_BY_SWEEP, wiClusters } from './scan-support.ts';

/**
 * The KSA no longer names its GSA (annotation removed, or the KSA deleted): its pods fall back to
 * no Google identity. The annotation's previous value comes from the inventory; without one, a patch
 * that sets it to null still tells that it was removed.
 */
export const annotationMissing: Detector = {
  kind: 'annotation-missing',
  severity: 'critical',
  title: 'A Workload Identity KSA lost its iam.gke.io/gcp-service-account annotation',
  detect(event, snapshot) {
    if (event.type !== 'k8s-serviceaccount') return [];
    const cluster = findCluster(snapshot, event.project, event.cluster);
    if (cluster !== undefined && !cluster.workloadPool) return [];
    const known = cluster?.serviceAccounts.find(
      (ksa) => ksa.namespace === event.namespace && ksa.name === event.name,
    );
    const before = known ? gsaOf(known) : undefined;
    // An empty annotation names no GSA, as the classifier reads a request's.
    const after =
      event.action === 'delete'
        ? null
        : event.annotations
          ? event.annotations[WI_ANNOTATION] || null
          : event.requestedGsa;
    if (after === undefined) return [];
    const workloadPool = cluster?.workloadPool ?? `${event.project}.svc.id.goog`;
    const subject = { workloadPool, namespace: event.namespace, name: event.name };
    const base = {
      kind: 'annotation-missing' as const,
      key: [event.project, event.cluster.location, event.cluster.name, event.namespace, event.name],
      project: event.project,
      cluster: event.cluster,
      source: event.source,
    };
    if (after !== null) {
      // Resolved only where the annotation was missing: an inventory that says so, or a request that sets it.
      const wasMissing = known
        ? before === undefined
        : event.action === 'create' || typeof event.requestedGsa === 'string';
      if (!wasMissing) return [];
      return [
        makeFinding({
          ...base,
          status: 'resolved',
          severity: 'critical',
          gsa: after,
          ksas: [subject],
          summary: `${event.namespace}/${event.name} names ${after} again (${PAST_TENSE[event.action]}${by(event.source)})`,
        }),
      ];
    }
    // A KSA the inventory knows without an annotation had nothing to lose; one it does not know
    // used WI only if the request explicitly removes the annotation.
    if (before === undefined && (known !== undefined || event.requestedGsa !== null)) return [];
    const impact = snapshot && cluster ? clusterImpact(snapshot, cluster, subject) : undefined;
    const deleted = event.action === 'delete';
    return [
      makeFinding({
        ...base,
        status: 'firing',
        severity: outageSeverity(impact),
        ...(before ? { gsa: before } : {}),
        ksas: [subject],
        ...(impact ? { workloads: impact.workloads } : {}),
        summary: `${event.namespace}/${event.name}${deleted ? `${before ? ` (annotated with ${before})` : ''} was deleted${by(event.source)}` : ` lost its annotation${before ? ` naming ${before}` : ''} (${PAST_TENSE[event.action]}${by(event.source)})`}: its pods get no Google credentials${describeImpact(impact)}`,
        remediation: [
          getCredentials(event.project, event.cluster),
          ...(before && !deleted ? [annotate(event.namespace, event.name, before)] : []),
          ...(before && deleted ? [recreate(event.namespace, event.name, before)] : []),
          ...(before
            ? []
            : [
                {
                  title: 'Inspect the KSA',
                  command: `kubectl get serviceaccount ${event.name} -n ${event.namespace} -o yaml`,
                },
              ]),
          ...restartWorkloads(impact?.workloads ?? []),
        ],
      }),
    ];
  },
  scan: scanAnnotations,
};

/**
 * The sweep's view: a KSA that some GSA's policy binds by name (classic or principal:// member) but
 * that is not annotated, so its pods never act as that GSA. Two exceptions, both deliberate:
 * - a namespace-wide principalSet names no KSA in particular: its unannotated KSAs are not reported;
 * - a KSA that holds roles itself on an inventoried project (a principal:// or principalSet:// member
 *   of the project's policy) uses direct resource access, which needs no annotation: its leftover
 *   GSA binding is not an outage.
 * A KSA deleted while pods still run as it (and a GSA still binds it) is reported too, as the event
 * path reports the deletion; with no pod left, the binding is binding-orphaned's to tell.
 */
function scanAnnotations(snapshot: Snapshot): Finding[] {
  const findings: Finding[] = [];
  const binders = bindersByKsa(snapshot);
  const direct = directPrincipals(snapshot);
  for (const { project, cluster } of wiClusters(snapshot)) {
    const pool = cluster.workloadPool ?? '';
    const ref = { location: cluster.location, name: cluster.name };
    const podsByKsa = new Map<string, SnapshotPod[]>();
    for (const pod of cluster.pods) {
      const id = `${pod.namespace}/${pod.serviceAccountName}`;
      podsByKsa.set(id, [...(podsByKsa.get(id) ?? []), pod]);
    }
    const judge = (namespace: string, name: string, deleted: boolean) => {
      const gsas = binders.get(`${pool}/${namespace}/${name}`);
      if (
        gsas === undefined ||
        direct.has(`${pool}/${namespace}/${name}`) ||
        direct.has(`${pool}/${namespace}/*`)
      )
        return;
      const subject = { workloadPool: pool, namespace, name };
      // The annotation lives on this cluster's KSA: only its pods here are hit.
      const impact = {
        ksas: [subject],
        workloads: workloadsOf(cluster, podsByKsa.get(`${namespace}/${name}`) ?? []),
      };
      const [gsa = '', ...others] = [...gsas].sort();
      const alternatives = others.length > 0 ? ` (also bound on ${others.join(', ')})` : '';
      findings.push(
        makeFinding({
          kind: 'annotation-missing',
          status: 'firing',
          severity: outageSeverity(impact),
          key: [project.projectId, cluster.location, cluster.name, namespace, name],
          project: project.projectId,
          cluster: ref,
          gsa,
          ksas: [subject],
          workloads: impact.workloads,
          summary: deleted
            ? `${namespace}/${name} no longer exists in ${cluster.name} (${FOUND_BY_SWEEP}), yet pods still run as it and ${gsa}${alternatives} binds it: they get no Google credentials${describeImpact(impact)}`
            : `${namespace}/${name} in ${cluster.name} is bound on ${gsa}${alternatives} but not annotated (${FOUND_BY_SWEEP}): its pods get no Google credentials${describeImpact(impact)}`,
          remediation: [
            getCredentials(project.projectId, ref),
            deleted ? recreate(namespace, name, gsa) : annotate(namespace, name, gsa),
            ...restartWorkloads(impact.workloads),
          ],
        }),
      );
    };
    for (const ksa of cluster.serviceAccounts) {
      if (gsaOf(ksa) === undefined) judge(ksa.namespace, ksa.name, false);
    }
    const existing = new Set(cluster.serviceAccounts.map((ksa) => `${ksa.namespace}/${ksa.name}`));
    const orphans = new Set(
      cluster.pods
        .map((pod) => `${pod.namespace}/${pod.serviceAccountName}`)
        .filter((id) => !existing.has(id)),
    );
    for (const id of orphans) {
      const [namespace = '', name = ''] = id.split('/');
      judge(namespace, name, true);
    }
  }
  return findings;
}

/** The GSAs (not deleted) whose policy binds each KSA by name, keyed `pool/namespace/name`. */
function bindersByKsa(snapshot: Snapshot): Map<string, Set<string>> {
  const binders = new Map<string, Set<string>>();
  for (const gsa of snapshot.projects.flatMap((p) => p.serviceAccounts)) {
    if (gsa.deleted) continue;
    for (const binding of gsa.iamPolicy.bindings) {
      if (binding.role !== WI_USER_ROLE) continue;
      for (const member of binding.members) {
        const subject = parseWorkloadMember(member);
        if (subject?.name === undefined) continue;
        const key = `${subject.workloadPool}/${subject.namespace}/${subject.name}`;
        binders.set(key, (binders.get(key) ?? new Set()).add(gsa.email));
      }
    }
  }
  return binders;
}

/** KSAs (`pool/ns/name`) and namespaces (`pool/ns/*`) granted roles directly on an inventoried project. */
function directPrincipals(snapshot: Snapshot): Set<string> {
  const direct = new Set<string>();
  for (const project of snapshot.projects) {
    for (const binding of project.iamPolicy?.bindings ?? []) {
      for (const member of binding.members) {
        if (!member.startsWith('principal')) continue;
        const subject = parseWorkloadMember(member);
        if (subject) direct.add(`${subject.workloadPool}/${subject.namespace}/${subject.name ?? '*'}`);
      }
    }
  }
  return direct;
}

function recreate(namespace: string, name: string, gsa: string): Remediation {
  return {
    title: 'Recreate the KSA with its annotation',
    command: `kubectl create serviceaccount ${name} -n ${namespace} && kubectl annotate serviceaccount ${name} -n ${namespace} ${WI_ANNOTATION}=${gsa}`,
  };
}

/** Only this cluster's pods: the annotation lives on one cluster's KSA object. */
function clusterImpact(
  snapshot: Snapshot,
  cluster: SnapshotCluster,
  subject: { workloadPool: string; namespace: string; name: string },
) {
  const impact = impactOfSubject(snapshot, subject);
  return { ksas: impact.ksas, workloads: impact.workloads.filter((w) => w.cluster === cluster.name) };
}
